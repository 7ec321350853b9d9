package switchertest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// DefaultDelay is how long a backend takes to answer one request, so that
// requests are in flight while a switch happens.
const DefaultDelay = 50 * time.Millisecond

// Backends are two test HTTP servers on 127.0.0.1 answering their color
// ("blue"/"green") in the body, each request taking Delay (default 50 ms) so
// requests are in flight during a switch. Blue and Green are host:port.
//
// Delay is fixed when StartBackends returns; a request may override it with
// the query parameter delay (a Go duration: "/?delay=0s").
type Backends struct {
	Blue, Green string
	Delay       time.Duration
}

// Addr returns the address of the backend of color c.
func (b *Backends) Addr(c switcher.Color) string {
	if c == switcher.Green {
		return b.Green
	}
	return b.Blue
}

// StartBackends starts the two backends on free ports below 32768 and stops
// them when the test ends.
func StartBackends(t testing.TB) *Backends {
	t.Helper()
	b := &Backends{Delay: DefaultDelay}
	b.Blue = startBackend(t, switcher.Blue, b.Delay)
	b.Green = startBackend(t, switcher.Green, b.Delay)
	return b
}

func startBackend(t testing.TB, c switcher.Color, delay time.Duration) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := delay
		if v := r.URL.Query().Get("delay"); v != "" {
			if pd, err := time.ParseDuration(v); err == nil {
				d = pd
			}
		}
		if d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Color", string(c))
		_, _ = w.Write([]byte(c))
	})
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = Listen(t)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// Listen listens on a free TCP port of 127.0.0.1 below 32768, out of the
// ephemeral range that load tests churn. The caller closes the listener.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	var last error
	for range 200 {
		port := 20000 + rand.IntN(12768)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			return ln
		}
		last = err
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	t.Fatalf("no free port on 127.0.0.1 below 32768: %v", last)
	return nil
}

// FreePort returns a port of 127.0.0.1 below 32768 that was free a moment
// ago, for a load balancer's frontend. Another process may take it before
// the load balancer binds it; a harness that fails to bind may try again.
func FreePort(t testing.TB) int {
	t.Helper()
	ln := Listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(fmt.Errorf("close probe listener: %w", err))
	}
	return port
}

// Unavailable fails the test in CI, where the Debian package pkg must be
// installed (.ci/run installs it), and skips it elsewhere with one line
// saying how to get it.
func Unavailable(t testing.TB, pkg, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	ci.Unavailable(t, "%s (apt-get install -y %s)", msg, pkg)
}
