package deploy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/lbtest"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/memswitch"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"

	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
)

// TestDrainWatches: through a real HAProxy, the drain of blue after a
// switch to green waits while blue's backend holds 3 requests, ends as
// soon as they are answered, and says what it saw; with the requests
// still held when the drain passes it says how many were left.
func TestDrainWatches(t *testing.T) {
	t.Parallel()
	held := switchertest.StartHeldBackends(t)
	lb := lbtest.HAProxy(t, held.Blue, held.Green)
	sw := switchertest.Open(t, lb.Switcher)
	ctx := t.Context()
	const n = 3
	done := make(chan error, n)
	for range n {
		go func() {
			resp, err := http.Get(lb.Frontend + "/")
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
	}
	switchertest.WaitInFlight(ctx, t, sw.(switcher.InFlightReader), switcher.Blue, n, 10*time.Second)
	if err := sw.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	switched := time.Now()

	// The drain passes with the requests held.
	w, err := watchDrain(ctx, sw, switcher.Blue, switched.Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	msg := w.describe(switcher.Blue, "v1", w.at.Sub(switched), 300*time.Millisecond)
	if !w.ok || w.n != n || w.at.Sub(switched) < 300*time.Millisecond || !strings.Contains(msg, "blue (v1): 3 still in flight after 3") {
		t.Fatalf("drain with the requests held: %+v: %s", w, msg)
	}
	t.Log(msg)

	// The requests are answered 500 ms into a drain of 10s.
	release := 500 * time.Millisecond
	time.AfterFunc(release, held.Release)
	start := time.Now()
	w, err = watchDrain(ctx, sw, switcher.Blue, start.Add(10*time.Second))
	took := w.at.Sub(start)
	msg = w.describe(switcher.Blue, "v1", took, 10*time.Second)
	if err != nil || !w.ok || w.n != 0 || took < release || took > release+time.Second || !strings.Contains(msg, "blue (v1): 0 in flight after ") || !strings.HasSuffix(msg, "(drain 10s)") {
		t.Fatalf("drain after %s: %+v, %v: %s", took, w, err, msg)
	}
	t.Log(msg)
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestDrainTimer: a switcher that counts no requests is given the whole
// drain; a drain of 0s does not wait, whatever the switcher; a cancelled
// context ends the drain with its error.
func TestDrainTimer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sw := memswitch.New(switcher.Green)
	start := time.Now()
	w, err := watchDrain(ctx, sw, switcher.Blue, start.Add(200*time.Millisecond))
	took := w.at.Sub(start)
	msg := w.describe(switcher.Blue, "v1", took, 200*time.Millisecond)
	if err != nil || w.ok || took < 200*time.Millisecond || !strings.HasPrefix(msg, "blue (v1) drained for 2") || !strings.HasSuffix(msg, "(drain 200ms; the switcher counts no requests in flight)") {
		t.Fatalf("timer drain: %+v, %v: %s", w, err, msg)
	}
	start = time.Now()
	if w, err := watchDrain(ctx, sw, switcher.Blue, start); err != nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("drain of 0s: %+v, %v after %s", w, err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := watchDrain(cctx, sw, switcher.Blue, time.Now().Add(time.Hour)); err != context.Canceled {
		t.Fatalf("cancelled drain: %v", err)
	}
}

// stuckReader is a switcher whose in-flight reading never answers.
type stuckReader struct{ switcher.Switcher }

func (stuckReader) InFlight(ctx context.Context, _ switcher.Color) (int, bool, error) {
	<-ctx.Done()
	return 0, false, ctx.Err()
}

// TestDrainSlowReader: a load balancer that does not answer the reading
// does not hold the drain past its end.
func TestDrainSlowReader(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w, err := watchDrain(t.Context(), stuckReader{memswitch.New(switcher.Green)}, switcher.Blue, start.Add(1200*time.Millisecond))
	took := time.Since(start)
	msg := w.describe(switcher.Blue, "v1", w.at.Sub(start), 1200*time.Millisecond)
	if err != nil || w.ok || took < 1200*time.Millisecond || took > 2*time.Second || !strings.HasSuffix(msg, "(drain 1.2s; the load balancer did not say how many requests were in flight in time)") {
		t.Fatalf("drain with a stuck reader: %+v, %v after %s: %s", w, err, took, msg)
	}
}
