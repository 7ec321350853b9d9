package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Colors of an answer.
const (
	none uint8 = iota
	blue
	green
)

// result is one request: when it was sent and answered (from the run's
// start), the color that answered, and how it failed.
type result struct {
	sent, recv time.Duration
	color      uint8
	failed     bool // no HTTP answer: reset, refused, timeout
	non2xx     bool
}

// load sends GET requests to one URL and keeps every result. budget bounds the requests of the whole run.
type load struct {
	url    string
	client *http.Client
	start  time.Time
	budget atomic.Int64

	mu      sync.Mutex
	results []result
	errs    []string
	wg      sync.WaitGroup
}

// newLoad speaks proto to url: "h2" (HTTP/2 without TLS, the requests
// multiplexed on a few hundred connections) or "h1" (HTTP/1.1 with
// keep-alive, a connection for each request in flight).
func newLoad(url, proto string, budget int64) *load {
	var p http.Protocols
	if proto == "h1" {
		p.SetHTTP1(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	tr := &http.Transport{Protocols: &p, MaxIdleConnsPerHost: 20000, HTTP2: &http.HTTP2Config{}}
	l := &load{url: url, client: &http.Client{Transport: tr, Timeout: 60 * time.Second}, start: time.Now()}
	l.budget.Store(budget)
	return l
}

func (l *load) since() time.Duration { return time.Since(l.start) }

// one sends one request, unless the budget is spent.
func (l *load) one(ctx context.Context) (result, bool) {
	if l.budget.Add(-1) < 0 {
		return result{}, false
	}
	r := result{sent: l.since()}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.url, nil)
	resp, err := l.client.Do(req)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			r.non2xx = resp.StatusCode < 200 || resp.StatusCode > 299
			if r.non2xx {
				l.note(fmt.Sprintf("%s: %.80q", resp.Status, body))
			}
			switch string(body) {
			case "blue":
				r.color = blue
			case "green":
				r.color = green
			}
		}
	}
	r.recv = l.since()
	if err != nil {
		if ctx.Err() != nil {
			return result{}, false // the run ended it
		}
		r.failed = true
		l.note(err.Error())
	}
	return r, true
}

// note keeps the first few failures, for the report.
func (l *load) note(msg string) {
	l.mu.Lock()
	if len(l.errs) < 5 {
		l.errs = append(l.errs, msg)
	}
	l.mu.Unlock()
}

func (l *load) keep(rs []result) {
	l.mu.Lock()
	l.results = append(l.results, rs...)
	l.mu.Unlock()
}

// closed runs n workers, started evenly over ramp, each sending its next
// request when the last is answered, until ctx ends.
func (l *load) closed(ctx context.Context, n int, ramp time.Duration) {
	for i := range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			if d := ramp * time.Duration(i) / time.Duration(n); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			var mine []result
			for ctx.Err() == nil {
				r, ok := l.one(ctx)
				if !ok {
					break
				}
				mine = append(mine, r)
			}
			l.keep(mine)
		}()
	}
}

// open sends rate requests a second for d, each on its own goroutine
// whether the earlier ones were answered or not, and waits for them.
func (l *load) open(ctx context.Context, rate int, d time.Duration) {
	gap := time.Second / time.Duration(rate)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var rs []result
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * gap)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, ok := l.one(ctx); ok {
				mu.Lock()
				rs = append(rs, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	l.keep(rs)
}

// wait waits for the closed-loop workers to return.
func (l *load) wait() { l.wg.Wait() }

// take returns the results so far, sorted by send time, and forgets them.
func (l *load) take() []result {
	l.mu.Lock()
	rs := l.results
	l.results = nil
	l.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].sent < rs[j].sent })
	return rs
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1))]
}
