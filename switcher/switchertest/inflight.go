package switchertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// HeldBackends are two backends on 127.0.0.1, each answering its color,
// that hold every request until Release: a test of the requests in
// flight knows how many a color serves at each moment.
type HeldBackends struct {
	Backends
	mu      sync.Mutex
	arrived map[switcher.Color]int
	release chan struct{}
	once    sync.Once
}

// StartHeldBackends starts two holding backends and releases and stops
// them when the test ends.
func StartHeldBackends(t testing.TB) *HeldBackends {
	t.Helper()
	h := &HeldBackends{arrived: map[switcher.Color]int{}, release: make(chan struct{})}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.mu.Lock()
			h.arrived[c]++
			h.mu.Unlock()
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("X-Color", string(c))
			_, _ = io.WriteString(w, string(c))
		}))
		_ = srv.Listener.Close()
		srv.Listener = Listen(t)
		srv.Start()
		t.Cleanup(srv.Close)
		if c == switcher.Blue {
			h.Blue = srv.Listener.Addr().String()
		} else {
			h.Green = srv.Listener.Addr().String()
		}
	}
	t.Cleanup(h.Release)
	return h
}

// Arrived returns how many requests reached the backend of c.
func (h *HeldBackends) Arrived(c switcher.Color) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.arrived[c]
}

// Release answers the held requests and every later one at once.
func (h *HeldBackends) Release() { h.once.Do(func() { close(h.release) }) }

// CheckInFlight is a drain as a deploy sees it. It sends n requests
// through frontend to sw's active color, whose backend in held holds
// them, and checks that sw (a switcher.InFlightReader) reports n in
// flight for that color and 0 for the other; then it switches to the
// other color and checks the old one still has n and the new one 0; then
// it answers them and checks the old color reaches 0 while the client
// keeps its keep-alive connections open. It returns how long after the
// answers the reader saw 0.
func CheckInFlight(t *testing.T, sw switcher.Switcher, held *HeldBackends, frontend string, n int) time.Duration {
	t.Helper()
	ctx := t.Context()
	r, ok := sw.(switcher.InFlightReader)
	if !ok {
		t.Fatalf("%T is no switcher.InFlightReader", sw)
	}
	active, err := sw.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	t.Cleanup(client.CloseIdleConnections)
	errs := make(chan error, n)
	for range n {
		go func() {
			resp, err := client.Get(frontend)
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case rerr != nil:
					err = rerr
				case resp.StatusCode != http.StatusOK || string(body) != string(active):
					err = fmt.Errorf("status %d, body %q, want 200 %q", resp.StatusCode, body, active)
				}
			}
			errs <- err
		}()
	}
	WaitInFlight(ctx, t, r, active, n, 10*time.Second)
	// The load balancer counts a request once it has sent it on, which
	// can be a moment before the backend's handler has it.
	for deadline := time.Now().Add(10 * time.Second); held.Arrived(active) < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := held.Arrived(active); got != n {
		t.Fatalf("%d requests reached %s, want %d", got, active, n)
	}
	wantIdle := func(when string) {
		t.Helper()
		if got, ok, err := r.InFlight(ctx, active.Other()); err != nil || !ok || got != 0 {
			t.Fatalf("InFlight(%s), the idle color, %s = %d, %v, %v; want 0, true, nil", active.Other(), when, got, ok, err)
		}
	}
	wantIdle("before the switch")
	if err := sw.Switch(ctx, active.Other()); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := r.InFlight(ctx, active); err != nil || !ok || got != n {
		t.Fatalf("InFlight(%s) after the switch = %d, %v, %v; want %d, true, nil", active, got, ok, err, n)
	}
	if got, ok, err := r.InFlight(ctx, active.Other()); err != nil || !ok || got != 0 {
		t.Fatalf("InFlight(%s), the new color, after the switch = %d, %v, %v; want 0, true, nil", active.Other(), got, ok, err)
	}
	released := time.Now()
	held.Release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("GET %s: %v", frontend, err)
		}
	}
	WaitInFlight(ctx, t, r, active, 0, 10*time.Second)
	return time.Since(released)
}

// WaitInFlight polls r until it reports want requests in flight for c,
// failing the test after limit with the last reading.
func WaitInFlight(ctx context.Context, t testing.TB, r switcher.InFlightReader, c switcher.Color, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		n, ok, err := r.InFlight(ctx, c)
		if err == nil && ok && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("InFlight(%s) = %d, %v, %v after %s; want %d, true, nil", c, n, ok, err, limit, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
