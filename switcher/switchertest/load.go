package switchertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// Load sends requests through a load balancer's frontend from n goroutines
// until Stop is called, and times the switches made through it.
//
//	l := switchertest.StartLoad(frontend, 8)
//	err := l.Switch(ctx, sw, switcher.Green)
//	res := l.Stop()
//
// It is used by the conformance suite and by benchmarks.
type Load struct {
	frontend string
	client   *http.Client
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	start    time.Time

	mu       sync.Mutex
	events   []event
	errs     []string
	nErrs    int
	non2xx   int
	other    int
	switches []SwitchResult
	stopped  *LoadResult
}

type event struct {
	sent, recv time.Time
	color      switcher.Color
}

// LoadResult is what a Load saw.
type LoadResult struct {
	Duration time.Duration
	Requests int                    // requests completed or failed
	Colors   map[switcher.Color]int // 2xx answers per color
	// TransportErrors are requests that got no HTTP response (reset,
	// refused, timeout); Non2xx got a response whose status was not 2xx
	// (a 503 from a load balancer with no server left, for one); Other got
	// a 2xx whose body named neither color.
	TransportErrors, Non2xx, Other int
	// Errors holds the first few failures, for messages.
	Errors   []string
	Switches []SwitchResult
}

// Lost is the number of requests that did not get a 2xx answer from a color.
func (r LoadResult) Lost() int { return r.TransportErrors + r.Non2xx + r.Other }

// String summarizes the result on one line per switch.
func (r LoadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests in %v (%.0f/s): blue %d, green %d, transport errors %d, non-2xx %d, other %d",
		r.Requests, r.Duration.Round(time.Millisecond), float64(r.Requests)/r.Duration.Seconds(),
		r.Colors[switcher.Blue], r.Colors[switcher.Green], r.TransportErrors, r.Non2xx, r.Other)
	for i, s := range r.Switches {
		fmt.Fprintf(&b, "\n  switch %d to %s: took %v, first %s after %v, last %s after %v, stale %d",
			i+1, s.To, s.Took.Round(time.Microsecond), s.To, s.FirstNew.Round(time.Microsecond),
			s.To.Other(), s.LastOld.Round(time.Microsecond), s.Stale)
		if s.Err != nil {
			fmt.Fprintf(&b, ", error: %v", s.Err)
		}
	}
	return b.String()
}

// SwitchResult times one switch made with Load.Switch against the traffic.
// Durations count from the moment Switch was called.
type SwitchResult struct {
	To        switcher.Color
	Start     time.Time
	Took      time.Duration // until Switch returned
	Err       error         // what Switch returned
	FirstNew  time.Duration // until the first answer from To; -1 if none came
	LastOld   time.Duration // until the last answer from the other color; -1 if none came
	NewBefore int           // answers from To received before Switch returned
	// Stale counts answers from the old color to requests sent after
	// Switch returned (and before the next switch): each is a request the
	// switch promised to the new color.
	Stale int
}

// StartLoad starts n goroutines sending GET requests to frontend (a URL)
// one after the other.
func StartLoad(frontend string, n int) *Load {
	if n < 1 {
		n = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	l := &Load{
		frontend: frontend,
		client:   &http.Client{Transport: tr, Timeout: 10 * time.Second},
		cancel:   cancel,
		start:    time.Now(),
	}
	for range n {
		l.wg.Add(1)
		go l.worker(ctx)
	}
	return l
}

func (l *Load) worker(ctx context.Context) {
	defer l.wg.Done()
	for ctx.Err() == nil {
		sent := time.Now()
		c, status, err := get(ctx, l.client, l.frontend)
		recv := time.Now()
		if ctx.Err() != nil {
			return // cancelled by Stop: neither an answer nor a failure
		}
		l.mu.Lock()
		switch {
		case err != nil:
			l.nErrs++
			l.note(err.Error())
		case status < 200 || status > 299:
			l.non2xx++
			l.note(fmt.Sprintf("status %d", status))
		case c != switcher.Blue && c != switcher.Green:
			l.other++
			l.note(fmt.Sprintf("body %q", c))
		default:
			l.events = append(l.events, event{sent: sent, recv: recv, color: c})
		}
		l.mu.Unlock()
	}
}

func (l *Load) note(s string) {
	if len(l.errs) < 10 {
		l.errs = append(l.errs, s)
	}
}

// Switch calls s.Switch(ctx, to) and records its timing against the traffic.
func (l *Load) Switch(ctx context.Context, s switcher.Switcher, to switcher.Color) error {
	start := time.Now()
	err := s.Switch(ctx, to)
	took := time.Since(start)
	l.mu.Lock()
	l.switches = append(l.switches, SwitchResult{To: to, Start: start, Took: took, Err: err})
	l.mu.Unlock()
	return err
}

// Stop stops the load, waits for requests in flight and returns the result.
// Calling it again returns the same result.
func (l *Load) Stop() LoadResult {
	l.mu.Lock()
	if l.stopped != nil {
		defer l.mu.Unlock()
		return *l.stopped
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	l.client.CloseIdleConnections()

	l.mu.Lock()
	defer l.mu.Unlock()
	r := LoadResult{
		Duration:        time.Since(l.start),
		Colors:          map[switcher.Color]int{switcher.Blue: 0, switcher.Green: 0},
		TransportErrors: l.nErrs,
		Non2xx:          l.non2xx,
		Other:           l.other,
		Errors:          l.errs,
		Switches:        l.switches,
	}
	for _, e := range l.events {
		r.Colors[e.color]++
	}
	r.Requests = len(l.events) + r.Lost()
	sort.Slice(r.Switches, func(i, j int) bool { return r.Switches[i].Start.Before(r.Switches[j].Start) })
	for i := range r.Switches {
		s := &r.Switches[i]
		end := s.Start.Add(s.Took)
		next := time.Time{} // zero: no next switch
		if i+1 < len(r.Switches) {
			next = r.Switches[i+1].Start
		}
		inWindow := func(t time.Time) bool { return !t.Before(s.Start) && (next.IsZero() || t.Before(next)) }
		s.FirstNew, s.LastOld = -1, -1
		for _, e := range l.events {
			if inWindow(e.recv) {
				d := e.recv.Sub(s.Start)
				if e.color == s.To && (s.FirstNew < 0 || d < s.FirstNew) {
					s.FirstNew = d
				}
				if e.color != s.To && d > s.LastOld {
					s.LastOld = d
				}
				if e.color == s.To && e.recv.Before(end) {
					s.NewBefore++
				}
			}
			if s.Err == nil && !e.sent.Before(end) && (next.IsZero() || e.sent.Before(next)) && e.color != s.To {
				s.Stale++
			}
		}
	}
	l.stopped = &r
	return r
}

// get sends one request and returns the color in the body.
func get(ctx context.Context, c *http.Client, url string) (switcher.Color, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", resp.StatusCode, err
	}
	return switcher.Color(strings.TrimSpace(string(body))), resp.StatusCode, nil
}
