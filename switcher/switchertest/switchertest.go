// Package switchertest is the conformance suite every switcher provider
// runs. A provider's test builds a Harness that opens a fresh load balancer
// whose active color is blue, and calls Run:
//
//	func TestConformance(t *testing.T) {
//		switchertest.Run(t, switchertest.Harness{
//			Name: "haproxy-map",
//			Open: func(t *testing.T) switchertest.Instance {
//				b := switchertest.StartBackends(t)
//				… start a load balancer in front of b.Blue and b.Green …
//				return switchertest.Instance{Switcher: sw, Frontend: "http://127.0.0.1:PORT/"}
//			},
//		})
//	}
//
// Without a Frontend the suite checks the API only (Active, Switch, errors,
// cancellation, concurrency, weights). With one it also checks real
// traffic: every request sent after Switch returns reaches the new color,
// and switches under concurrent load lose no request.
package switchertest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// Instance is one load balancer under test, whose active color is blue
// when Open returns.
type Instance struct {
	Switcher switcher.Switcher
	// Frontend, when not "", is the URL through which the load balancer
	// serves HTTP traffic to the backends started with StartBackends; the
	// suite then checks real traffic.
	Frontend string
}

// Harness opens load balancers for the suite.
type Harness struct {
	Name string
	// Open returns a fresh, independent load balancer per call; cleanup
	// via t.Cleanup.
	Open func(t *testing.T) Instance
}

// SequentialRequests is how many requests the suite sends one after the
// other right after a switch; all must reach the new color.
const SequentialRequests = 30

// Run runs the conformance suite, one subtest per property, each on a
// fresh instance.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("switchertest: Harness.Open is nil")
	}
	tests := []struct {
		name string
		run  func(*testing.T, Instance)
	}{
		{"InitiallyBlue", testInitiallyBlue},
		{"ActiveAfterSwitch", testActiveAfterSwitch},
		{"SwitchToActiveIsNoop", testSwitchToActive},
		{"InvalidColor", testInvalidColor},
		{"CancelledContext", testCancelled},
		{"ConcurrentActive", testConcurrentActive},
		{"BackAndForth", testBackAndForth},
		{"Weights", testWeights},
		{"SwitchUnderLoad", testUnderLoad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := h.Open(t)
			if in.Switcher == nil {
				t.Fatalf("%s: Open returned no Switcher", h.Name)
			}
			t.Cleanup(func() {
				if err := in.Switcher.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, in)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func wantActive(t *testing.T, s switcher.Switcher, want switcher.Color) {
	t.Helper()
	got, err := s.Active(ctx(t))
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	if got != want {
		t.Fatalf("Active = %q, want %q", got, want)
	}
}

func mustSwitch(t *testing.T, s switcher.Switcher, to switcher.Color) {
	t.Helper()
	if err := s.Switch(ctx(t), to); err != nil {
		t.Fatalf("Switch(%s): %v", to, err)
	}
}

// wantTraffic sends SequentialRequests requests one after the other
// through the frontend (when there is one); every one must answer want.
func wantTraffic(t *testing.T, in Instance, want switcher.Color) {
	t.Helper()
	if in.Frontend == "" {
		return
	}
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i := range SequentialRequests {
		got, status, err := get(ctx(t), client, in.Frontend)
		if err != nil {
			t.Fatalf("request %d after the switch: %v", i+1, err)
		}
		if status != http.StatusOK || got != want {
			t.Fatalf("request %d after the switch answered status %d %q, want 200 %q", i+1, status, got, want)
		}
	}
}

func testInitiallyBlue(t *testing.T, in Instance) {
	wantActive(t, in.Switcher, switcher.Blue)
	wantTraffic(t, in, switcher.Blue)
}

func testActiveAfterSwitch(t *testing.T, in Instance) {
	mustSwitch(t, in.Switcher, switcher.Green)
	wantTraffic(t, in, switcher.Green)
	wantActive(t, in.Switcher, switcher.Green)
}

func testSwitchToActive(t *testing.T, in Instance) {
	mustSwitch(t, in.Switcher, switcher.Blue)
	wantActive(t, in.Switcher, switcher.Blue)
	wantTraffic(t, in, switcher.Blue)
	mustSwitch(t, in.Switcher, switcher.Green)
	mustSwitch(t, in.Switcher, switcher.Green)
	wantActive(t, in.Switcher, switcher.Green)
	wantTraffic(t, in, switcher.Green)
}

func testInvalidColor(t *testing.T, in Instance) {
	for _, c := range []switcher.Color{"", "purple", "Blue", "green; rm -rf /", "blue\n"} {
		err := in.Switcher.Switch(ctx(t), c)
		var ice *switcher.InvalidColorError
		if !errors.As(err, &ice) {
			t.Errorf("Switch(%q) = %v, want *switcher.InvalidColorError", c, err)
		}
	}
	wantActive(t, in.Switcher, switcher.Blue)
	wantTraffic(t, in, switcher.Blue)
	if w, ok := in.Switcher.(switcher.Weighted); ok {
		var ice *switcher.InvalidColorError
		if err := w.SetWeights(ctx(t), "purple", 50); !errors.As(err, &ice) {
			t.Errorf("SetWeights(purple) = %v, want *switcher.InvalidColorError", err)
		}
		wantWeights(t, w, 100, 0)
	}
}

func testCancelled(t *testing.T, in Instance) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if err := in.Switcher.Switch(c, switcher.Green); !errors.Is(err, context.Canceled) {
		t.Errorf("Switch with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := in.Switcher.Active(c); !errors.Is(err, context.Canceled) {
		t.Errorf("Active with a cancelled context = %v, want context.Canceled", err)
	}
	if w, ok := in.Switcher.(switcher.Weighted); ok {
		if err := w.SetWeights(c, switcher.Green, 50); !errors.Is(err, context.Canceled) {
			t.Errorf("SetWeights with a cancelled context = %v, want context.Canceled", err)
		}
		if _, err := w.Weights(c); !errors.Is(err, context.Canceled) {
			t.Errorf("Weights with a cancelled context = %v, want context.Canceled", err)
		}
		wantWeights(t, w, 100, 0)
	}
	wantActive(t, in.Switcher, switcher.Blue)
	wantTraffic(t, in, switcher.Blue)
}

func testConcurrentActive(t *testing.T, in Instance) {
	const goroutines, calls = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*calls+1)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				c, err := in.Switcher.Active(ctx(t))
				if err == nil && c != switcher.Blue && c != switcher.Green {
					err = errors.New("Active returned " + string(c))
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := in.Switcher.Switch(ctx(t), switcher.Green); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantActive(t, in.Switcher, switcher.Green)
}

func testBackAndForth(t *testing.T, in Instance) {
	for _, c := range []switcher.Color{switcher.Green, switcher.Blue, switcher.Green, switcher.Blue} {
		mustSwitch(t, in.Switcher, c)
		wantActive(t, in.Switcher, c)
		wantTraffic(t, in, c)
	}
}

func wantWeights(t *testing.T, w switcher.Weighted, blue, green int) {
	t.Helper()
	got, err := w.Weights(ctx(t))
	if err != nil {
		t.Fatalf("Weights: %v", err)
	}
	if got[switcher.Blue] != blue || got[switcher.Green] != green {
		t.Fatalf("Weights = %v, want blue %d, green %d", got, blue, green)
	}
}

func testWeights(t *testing.T, in Instance) {
	w, ok := in.Switcher.(switcher.Weighted)
	if !ok {
		t.Skip("not a switcher.Weighted")
	}
	wantWeights(t, w, 100, 0)
	steps := []struct {
		color         switcher.Color
		percent       int
		blue, green   int
		active        switcher.Color
		onlyTrafficTo switcher.Color // "" when both colors get traffic
	}{
		{switcher.Green, 30, 70, 30, switcher.Blue, ""},
		{switcher.Blue, 25, 25, 75, switcher.Green, ""},
		{switcher.Green, 100, 0, 100, switcher.Green, switcher.Green},
		{switcher.Green, 50, 50, 50, "", ""},
		{switcher.Blue, 100, 100, 0, switcher.Blue, switcher.Blue},
	}
	for _, s := range steps {
		if err := w.SetWeights(ctx(t), s.color, s.percent); err != nil {
			t.Fatalf("SetWeights(%s, %d): %v", s.color, s.percent, err)
		}
		wantWeights(t, w, s.blue, s.green)
		if s.active != "" {
			wantActive(t, w, s.active)
		}
		if s.onlyTrafficTo != "" {
			wantTraffic(t, in, s.onlyTrafficTo)
		} else if s.blue > 0 && s.green > 0 && s.blue <= 75 && s.green <= 75 {
			wantBothColors(t, in)
		}
	}
	for _, p := range []int{-1, 101} {
		if err := w.SetWeights(ctx(t), switcher.Green, p); err == nil {
			t.Errorf("SetWeights(green, %d) succeeded, want an error", p)
		}
	}
	wantWeights(t, w, 100, 0)
	// A switch after a split sends all traffic to one color.
	if err := w.SetWeights(ctx(t), switcher.Green, 40); err != nil {
		t.Fatalf("SetWeights(green, 40): %v", err)
	}
	mustSwitch(t, w, switcher.Green)
	wantActive(t, w, switcher.Green)
	wantWeights(t, w, 0, 100)
	wantTraffic(t, in, switcher.Green)
	mustSwitch(t, w, switcher.Blue)
	wantWeights(t, w, 100, 0)
	wantTraffic(t, in, switcher.Blue)
}

// wantBothColors checks that a split sends some requests to each color.
func wantBothColors(t *testing.T, in Instance) {
	t.Helper()
	if in.Frontend == "" {
		return
	}
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	seen := map[switcher.Color]int{}
	for i := range 2 * SequentialRequests {
		got, status, err := get(ctx(t), client, noDelay(in.Frontend))
		if err != nil || status != http.StatusOK {
			t.Fatalf("request %d with split weights: status %d, %v", i+1, status, err)
		}
		seen[got]++
	}
	if seen[switcher.Blue] == 0 || seen[switcher.Green] == 0 {
		t.Fatalf("with split weights %d requests reached %v, want both colors", 2*SequentialRequests, seen)
	}
}

// noDelay asks the backends behind frontend to answer at once.
func noDelay(frontend string) string {
	u, err := url.Parse(frontend)
	if err != nil {
		return frontend
	}
	q := u.Query()
	q.Set("delay", "0s")
	u.RawQuery = q.Encode()
	return u.String()
}

// LoadWorkers is how many goroutines send requests in the under-load check.
const LoadWorkers = 8

func testUnderLoad(t *testing.T, in Instance) {
	if in.Frontend == "" {
		t.Skip("no Frontend: traffic not checked")
	}
	l := StartLoad(in.Frontend, LoadWorkers)
	pause := func() { time.Sleep(300 * time.Millisecond) }
	pause()
	for _, c := range []switcher.Color{switcher.Green, switcher.Blue, switcher.Green} {
		if err := l.Switch(ctx(t), in.Switcher, c); err != nil {
			l.Stop()
			t.Fatalf("Switch(%s) under load: %v", c, err)
		}
		pause()
	}
	r := l.Stop()
	t.Logf("%s", r)
	if r.TransportErrors > 0 || r.Non2xx > 0 || r.Other > 0 {
		t.Errorf("%d requests lost during 3 switches (transport errors %d, non-2xx %d, other %d); first: %q",
			r.Lost(), r.TransportErrors, r.Non2xx, r.Other, r.Errors)
	}
	if r.Colors[switcher.Blue] == 0 || r.Colors[switcher.Green] == 0 {
		t.Errorf("traffic per color = %v, want both colors", r.Colors)
	}
	for i, s := range r.Switches {
		if s.FirstNew < 0 {
			t.Errorf("switch %d to %s: no answer from %s afterwards", i+1, s.To, s.To)
		}
		if s.Stale > 0 {
			t.Errorf("switch %d to %s: %d requests sent after Switch returned reached %s", i+1, s.To, s.Stale, s.To.Other())
		}
	}
	wantActive(t, in.Switcher, switcher.Green)
}
