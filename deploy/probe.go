package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
)

// defaultClient is used when a caller passes no client. It does not
// follow redirects: a probe sees the status the color itself answers. Its
// transport is its own: code that closes the idle connections of
// http.DefaultTransport (httptest.Server.Close does) cannot break a probe
// in flight.
var defaultClient = &http.Client{
	Transport:     http.DefaultTransport.(*http.Transport).Clone(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

const (
	userAgent = "bgmigrate"
	// maxProbeBody is how much of a probe's or a warm-up request's body is
	// read (and so waited for) before the connection is closed.
	maxProbeBody = 64 << 10
	// maxCheckBody is how much of a smoke check's body BodyContains sees.
	maxCheckBody = 1 << 20
	// warmUpInFlight bounds the warm-up requests in flight at once.
	warmUpInFlight = 4
	// warmUpTimeout bounds one warm-up request.
	warmUpTimeout = 30 * time.Second
	// commandIntervals is how many Confidence.Interval a confidence
	// command may run.
	commandIntervals = 5
)

// HTTPError is a probe, smoke check or warm-up request that failed: no
// response, an unexpected status, a response too slow or without the
// expected text.
type HTTPError struct {
	Method, URL string
	// Status is the response's status code, 0 when there was none.
	Status int
	// Latency is how long the request took.
	Latency time.Duration
	// Reason is the short text: "status 503, want 200", "no response within
	// 2s", "slower than 2s (2.4s)", "body does not contain \"ok\"", or the
	// transport error.
	Reason string
	// Err is the transport error, if any.
	Err error
}

func (e *HTTPError) Error() string { return fmt.Sprintf("%s %s: %s", e.Method, e.URL, e.Reason) }

func (e *HTTPError) Unwrap() error { return e.Err }

// ProbeResult is one readiness or confidence probe.
type ProbeResult struct {
	// At is when the probe started.
	At time.Time
	// Status is the response's status code, 0 when there was none.
	Status  int
	Latency time.Duration
	// Err is nil when the probe passed, else why it failed: an *HTTPError
	// (transport error, status mismatch or too slow) or, in Watch, the
	// command's *CommandError.
	Err error
	// Reason is a short text for output: "200 in 3ms", "status 503, want
	// 200" …
	Reason string
}

// NotReadyError is a color that did not become ready before the
// readiness deadline.
type NotReadyError struct {
	URL      string
	Attempts int
	// Elapsed is how long WaitReady waited; Deadline is the probe's.
	Elapsed, Deadline time.Duration
	// Last is the last probe: a failure, unless the color began to pass
	// just before the deadline.
	Last ProbeResult
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("%s not ready within %s (%d probes), last: %s", e.URL, fmtDuration(e.Deadline), e.Attempts, e.Last.Reason)
}

func (e *NotReadyError) Unwrap() error { return e.Last.Err }

// WaitReady probes baseURL+p.Path every p.Interval, each probe bounded by
// p.Timeout, until p.Successes probes in a row answer p.Status (it
// returns nil), p.Deadline passes (*NotReadyError) or ctx ends (ctx's
// error, wrapped). progress, when not nil, gets every probe. client nil
// means a client that does not follow redirects. Zero fields are guarded,
// not defaulted (call ApplyDefaults): Status 0 accepts any 2xx, Interval 0
// is 1s, Successes 0 is 1, Timeout and Deadline 0 are none.
func WaitReady(ctx context.Context, client *http.Client, baseURL string, p config.Probe, progress func(ProbeResult)) error {
	target := joinURL(baseURL, p.Path)
	interval := orSecond(p.Interval)
	need := max(p.Successes, 1)
	start := time.Now()
	dctx := ctx
	if p.Deadline > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, p.Deadline)
		defer cancel()
	}
	var last ProbeResult
	attempts, inRow := 0, 0
	for {
		r := doRequest(dctx, client, http.MethodGet, target, p.Timeout, maxProbeBody)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for %s: %w", target, err)
		}
		res := r.check(wantStatus(p.Status), 0)
		// A probe cut short by the deadline says nothing about the color;
		// it only counts when it is the only one.
		if cut := r.err != nil && !r.timedOut && dctx.Err() != nil; !cut || attempts == 0 {
			attempts++
			last = res
			if progress != nil {
				progress(res)
			}
		}
		if res.Err == nil {
			if inRow++; inRow >= need {
				return nil
			}
		} else {
			inRow = 0
		}
		if dctx.Err() != nil || !sleepUntil(dctx, res.At.Add(interval)) {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("wait for %s: %w", target, err)
			}
			return &NotReadyError{URL: target, Attempts: attempts, Elapsed: time.Since(start), Deadline: p.Deadline, Last: last}
		}
	}
}

// CheckResult is one smoke check that ran.
type CheckResult struct {
	Name     string
	Duration time.Duration
	Err      error
}

// SmokeError is a smoke check that failed.
type SmokeError struct {
	// Check is the check's name.
	Check string
	// Reason says what failed, naming the URL or the command.
	Reason string
	// Err is the *HTTPError or *CommandError.
	Err error
}

func (e *SmokeError) Error() string {
	return fmt.Sprintf("smoke check %q failed: %s", e.Check, e.Reason)
}

func (e *SmokeError) Unwrap() error { return e.Err }

// Smoke runs the checks in order against baseURL and stops at the first
// failure (*SmokeError). An HTTP check passes when the status is the
// check's (0: any 2xx) and the body (read up to 1 MiB) contains
// BodyContains; a command check runs through RunCommand, with v.URL set to
// baseURL, its output going to out. Each check is bounded by its Timeout
// (0: none). The results list the checks that ran, the failed one last.
// When ctx ends, the error is ctx's, wrapped.
func Smoke(ctx context.Context, client *http.Client, baseURL string, checks []config.Check, v Vars, out io.Writer) ([]CheckResult, error) {
	v.URL = baseURL
	var results []CheckResult
	for _, c := range checks {
		name := c.Name
		if name == "" {
			name = checkName(c)
		}
		start := time.Now()
		err := runCheck(ctx, client, baseURL, c, v, out)
		results = append(results, CheckResult{Name: name, Duration: time.Since(start), Err: err})
		if err == nil {
			continue
		}
		if cerr := ctx.Err(); cerr != nil {
			return results, fmt.Errorf("smoke check %q: %w", name, cerr)
		}
		return results, &SmokeError{Check: name, Reason: err.Error(), Err: err}
	}
	return results, nil
}

func runCheck(ctx context.Context, client *http.Client, baseURL string, c config.Check, v Vars, out io.Writer) error {
	switch {
	case len(c.Command) > 0 && c.Path != "":
		return errors.New("a check has either a command or a path, not both")
	case len(c.Command) > 0:
		return RunCommand(ctx, "command", c.Command, v, c.Timeout, out)
	case c.Path == "":
		return errors.New("a check needs a command or a path")
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	r := doRequest(ctx, client, method, joinURL(baseURL, c.Path), c.Timeout, maxCheckBody)
	if res := r.check(wantStatus(c.Status), 0); res.Err != nil {
		return res.Err
	}
	if c.BodyContains != "" && !strings.Contains(string(r.body), c.BodyContains) {
		return r.fail(fmt.Sprintf("body does not contain %q", c.BodyContains), nil)
	}
	return nil
}

// WarmUpResult sums up a warm-up.
type WarmUpResult struct {
	// Sent requests, of which Failed got no response or a 5xx.
	Sent, Failed int
	Duration     time.Duration
	// P50 and P99 are latency percentiles over the requests that ended.
	P50, P99 time.Duration
}

// WarmUpError is a warm-up that got transport errors or 5xx responses.
type WarmUpError struct {
	URL          string
	Sent, Failed int
	// First is the first failure, an *HTTPError.
	First error
}

func (e *WarmUpError) Error() string {
	return fmt.Sprintf("warm-up of %s: %d of %d requests failed, first: %v", e.URL, e.Failed, e.Sent, e.First)
}

func (e *WarmUpError) Unwrap() error { return e.First }

// WarmUp sends w.Requests GET requests to baseURL, spread round-robin over
// w.Paths, started at w.Rate per second (0: unpaced) with at most 4 in
// flight, each bounded by 30s. It stops sending at the first transport
// error or 5xx, waits for the requests in flight, and returns a
// *WarmUpError. 4xx responses pass. Requests 0 sends nothing. When ctx
// ends, the error is ctx's, wrapped.
func WarmUp(ctx context.Context, client *http.Client, baseURL string, w config.WarmUp) (WarmUpResult, error) {
	var res WarmUpResult
	if w.Requests <= 0 {
		return res, nil
	}
	paths := w.Paths
	if len(paths) == 0 {
		paths = []string{""}
	}
	var gap time.Duration
	if w.Rate > 0 {
		gap = time.Second / time.Duration(w.Rate)
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		first     error
		wg        sync.WaitGroup
	)
	slots := make(chan struct{}, warmUpInFlight)
	start := time.Now()
	for i := range w.Requests {
		if gap > 0 && !sleepUntil(ctx, start.Add(time.Duration(i)*gap)) {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		res.Sent++
		target := joinURL(baseURL, paths[i%len(paths)])
		wg.Go(func() {
			defer func() { <-slots }()
			r := doRequest(ctx, client, http.MethodGet, target, warmUpTimeout, maxProbeBody)
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, r.latency)
			var err error
			switch {
			case r.err != nil:
				err = r.check(anyStatus, 0).Err
			case r.status >= 500:
				err = r.fail(fmt.Sprintf("status %d", r.status), nil)
			}
			if err != nil {
				res.Failed++
				if first == nil {
					first = err
				}
			}
		})
	}
	wg.Wait()
	res.Duration = time.Since(start)
	slices.Sort(latencies)
	res.P50, res.P99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("warm-up of %s: %w", baseURL, err)
	}
	if first != nil {
		return res, &WarmUpError{URL: baseURL, Sent: res.Sent, Failed: res.Failed, First: first}
	}
	return res, nil
}

// percentile returns the nearest-rank percentile q of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ConfidenceError is a new color that failed too many confidence probes.
type ConfidenceError struct {
	URL string
	// FirstFailure is when the first of the counted failures started.
	FirstFailure time.Time
	// Failures among the last Probes probes, Rate their share, MaxRate the
	// largest share allowed.
	Failures, Probes int
	Rate, MaxRate    float64
	// Last is the probe that tipped the rate; it failed.
	Last ProbeResult
}

func (e *ConfidenceError) Error() string {
	return fmt.Sprintf("%s failed %d of the last %d probes (%.0f%%, at most %.0f%% allowed), last: %s",
		e.URL, e.Failures, e.Probes, 100*e.Rate, 100*e.MaxRate, e.Last.Reason)
}

func (e *ConfidenceError) Unwrap() error { return e.Last.Err }

// Watch is the confidence window. For c.Window (nil or 0: it returns nil
// at once) it probes baseURL+c.Path every c.Interval; a probe fails on a
// transport error, a status other than 2xx or a latency over c.MaxLatency
// (each request is bounded by c.MaxLatency). When c.Command is set it runs
// with each probe (substituted from v, v.URL set to baseURL, bounded by 5
// intervals) and a non-zero exit fails the probe. As soon as the failures
// among the last c.Probes probes (fewer at the start) make up more than
// *c.MaxErrorRate of them, and there are at least 2 (1 when c.Probes is
// 1), it returns a *ConfidenceError, without waiting for the window to
// end. progress, when not nil, gets every probe. When ctx ends, the error
// is ctx's, wrapped. Zero fields are guarded, not defaulted (call
// ApplyDefaults): Interval 0 is 1s, Probes 0 is 1, MaxErrorRate nil is 0,
// MaxLatency 0 is no limit (requests are then bounded by 5 intervals).
func Watch(ctx context.Context, client *http.Client, baseURL string, c config.Confidence, v Vars, progress func(ProbeResult)) error {
	if c.Window == nil || *c.Window <= 0 {
		return nil
	}
	target := joinURL(baseURL, c.Path)
	interval := orSecond(c.Interval)
	size := max(c.Probes, 1)
	need := min(2, size)
	var maxRate float64
	if c.MaxErrorRate != nil {
		maxRate = *c.MaxErrorRate
	}
	timeout := c.MaxLatency
	if timeout <= 0 {
		timeout = commandIntervals * interval
	}
	v.URL = baseURL

	start := time.Now()
	end := start.Add(*c.Window)
	recent := make([]ProbeResult, 0, size+1)
	for next := start; next.Before(end); {
		if !sleepUntil(ctx, next) {
			break
		}
		res := watchProbe(ctx, client, target, c, v, interval, timeout)
		if ctx.Err() != nil {
			break
		}
		if progress != nil {
			progress(res)
		}
		recent = append(recent, res)
		if len(recent) > size {
			recent = recent[1:]
		}
		var failures int
		var firstFailure time.Time
		for _, r := range recent {
			if r.Err != nil {
				if failures == 0 {
					firstFailure = r.At
				}
				failures++
			}
		}
		rate := float64(failures) / float64(len(recent))
		if failures >= need && rate > maxRate {
			return &ConfidenceError{URL: target, FirstFailure: firstFailure, Failures: failures,
				Probes: len(recent), Rate: rate, MaxRate: maxRate, Last: res}
		}
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now // late after a slow probe: go on at once, without a burst
		}
	}
	if sleepUntil(ctx, end) {
		return nil
	}
	return fmt.Errorf("watch %s: %w", target, ctx.Err())
}

// watchProbe runs one confidence probe: the HTTP request and, alongside,
// the command.
func watchProbe(ctx context.Context, client *http.Client, target string, c config.Confidence, v Vars, interval, timeout time.Duration) ProbeResult {
	var cmdErr error
	var wg sync.WaitGroup
	if len(c.Command) > 0 {
		wg.Go(func() {
			cmdErr = RunCommand(ctx, "confidence command", c.Command, v, commandIntervals*interval, io.Discard)
		})
	}
	r := doRequest(ctx, client, http.MethodGet, target, timeout, maxProbeBody)
	res := r.check(0, c.MaxLatency)
	wg.Wait()
	if res.Err == nil && cmdErr != nil {
		res.Err = cmdErr
		res.Reason = cmdErr.Error()
		var ce *CommandError
		if errors.As(cmdErr, &ce) {
			res.Reason = "command " + ce.Reason()
		}
	}
	return res
}

// httpResult is what one request got.
type httpResult struct {
	method, url string
	at          time.Time
	status      int
	body        []byte
	latency     time.Duration
	timeout     time.Duration // the request's own timeout
	timedOut    bool          // that timeout fired
	err         error         // transport error, or error reading the body
}

// doRequest sends one request, bounded by timeout (0: none), and reads up
// to limit bytes of the body. The latency runs until that read ends.
func doRequest(ctx context.Context, client *http.Client, method, target string, timeout time.Duration, limit int64) httpResult {
	if client == nil {
		client = defaultClient
	}
	r := httpResult{method: method, url: target, at: time.Now(), timeout: timeout}
	rctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(rctx, method, target, nil)
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err == nil {
		r.status = resp.StatusCode
		r.body, err = io.ReadAll(io.LimitReader(resp.Body, limit))
		resp.Body.Close()
	}
	r.latency = time.Since(r.at)
	r.err = err
	r.timedOut = err != nil && ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded)
	return r
}

// check turns a response into a probe result: it passes when there is no
// transport error, the status is w and, when maxLatency is set, the
// latency is not over it.
func (r httpResult) check(w wantStatus, maxLatency time.Duration) ProbeResult {
	res := ProbeResult{At: r.at, Status: r.status, Latency: r.latency}
	var fail *HTTPError
	switch {
	case r.timedOut && maxLatency > 0 && r.timeout == maxLatency:
		fail = r.fail(fmt.Sprintf("slower than %s (no response)", fmtDuration(maxLatency)), r.err)
	case r.timedOut:
		fail = r.fail("no response within "+fmtDuration(r.timeout), r.err)
	case r.err != nil:
		fail = r.fail(transportReason(r.err), r.err)
	case !w.ok(r.status):
		fail = r.fail(fmt.Sprintf("status %d, want %s", r.status, w), nil)
	case maxLatency > 0 && r.latency > maxLatency:
		fail = r.fail(fmt.Sprintf("slower than %s (%s)", fmtDuration(maxLatency), fmtLatency(r.latency)), nil)
	}
	if fail != nil {
		res.Err, res.Reason = fail, fail.Reason
	} else {
		res.Reason = fmt.Sprintf("%d in %s", r.status, fmtLatency(r.latency))
	}
	return res
}

func (r httpResult) fail(reason string, err error) *HTTPError {
	return &HTTPError{Method: r.method, URL: r.url, Status: r.status, Latency: r.latency, Reason: reason, Err: err}
}

// wantStatus is the status a request expects: a code, 0 for any 2xx,
// anyStatus for any.
type wantStatus int

const anyStatus wantStatus = -1

func (w wantStatus) ok(status int) bool {
	switch w {
	case anyStatus:
		return true
	case 0:
		return status >= 200 && status <= 299
	}
	return status == int(w)
}

func (w wantStatus) String() string {
	switch w {
	case anyStatus:
		return "any"
	case 0:
		return "2xx"
	}
	return strconv.Itoa(int(w))
}

// transportReason shortens a transport error: the *url.Error's method and
// URL are said elsewhere.
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// joinURL appends path to base with exactly one slash between them.
func joinURL(base, path string) string {
	if path == "" {
		return base
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return strings.TrimSuffix(base, "/") + path
}

func orSecond(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return d
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fmtLatency rounds a latency for output.
func fmtLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
