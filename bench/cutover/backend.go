package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// serveBackend is the child process of one color: it answers every
// request with the color's name after a delay drawn uniformly from
// [min, max], on HTTP/1.1 (what the load balancers speak to backends).
// Each color runs in its own process so that its connections have a file
// descriptor table of their own.
func serveBackend(ctx context.Context, color, addr string, minDelay, maxDelay time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	spread := int64(maxDelay - minDelay)
	var active atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_inflight" {
			// The requests this backend is answering now, for the bench
			// to hold the load balancer's reader against.
			_, _ = io.WriteString(w, strconv.FormatInt(active.Load(), 10))
			return
		}
		active.Add(1)
		defer active.Add(-1)
		d := minDelay
		if spread > 0 {
			d += time.Duration(rand.Int64N(spread + 1))
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, color)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Println("ready")
	if err := srv.Serve(ln); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// backend is a running child process of one color.
type backend struct {
	color, addr string
	cmd         *exec.Cmd
}

// startBackend runs this program as the backend of color on addr and
// waits until it listens.
func startBackend(color, addr string, minDelay, maxDelay time.Duration) (*backend, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", color, "-addr", addr, "-min", minDelay.String(), "-max", maxDelay.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil || !strings.HasPrefix(string(buf), "ready") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("backend %s on %s did not start: %v", color, addr, err)
	}
	return &backend{color: color, addr: addr, cmd: cmd}, nil
}

// stop ends the backend by its PID.
func (b *backend) stop() {
	_ = b.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
}

// inFlight asks the backend how many requests it is answering, directly,
// not through the load balancer; -1 when it does not answer.
func (b *backend) inFlight(ctx context.Context) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.addr+"/_inflight", nil)
	if err != nil {
		return -1
	}
	resp, err := direct.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(string(body))
	if err != nil {
		return -1
	}
	return n
}

// direct is the client of the backends' counters.
var direct = &http.Client{Timeout: 5 * time.Second}
