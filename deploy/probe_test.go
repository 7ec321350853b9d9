package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/deploy"
)

// scriptedServer answers the nth request (counted from 0 over all paths)
// with handle.
func scriptedServer(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(int(count.Add(1)-1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// statuses answers the nth request with status(n).
func statuses(status func(n int) int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status(n)) }
}

// stall answers only after d or when the client gives up.
func stall(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// refusedURL is the URL of a server that is gone.
func refusedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// results collects progress reports.
type results struct {
	mu  sync.Mutex
	all []deploy.ProbeResult
}

func (r *results) add(p deploy.ProbeResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, p)
}

func (r *results) statuses() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []int
	for _, p := range r.all {
		s = append(s, p.Status)
	}
	return s
}

func TestWaitReady(t *testing.T) {
	t.Parallel()
	probe := config.Probe{Path: "/health", Status: 200, Interval: 10 * time.Millisecond, Timeout: 10 * time.Second,
		Successes: 2, Deadline: time.Minute}
	tests := []struct {
		name   string
		handle func(int, http.ResponseWriter, *http.Request)
		gone   bool // the server is down
		probe  func(p *config.Probe)
		// statuses the progress reports, when not nil.
		statuses []int
		// wantErr is a substring of the error ("" for none).
		wantErr    string
		lastStatus int
		lastReason string
	}{
		{
			name: "ready after failures",
			handle: statuses(func(n int) int {
				if n < 3 {
					return 503
				}
				return 200
			}),
			statuses: []int{503, 503, 503, 200, 200},
		},
		{
			name:     "a failure restarts the count",
			handle:   statuses(func(n int) int { return []int{200, 500, 200, 200, 200, 500}[n] }),
			probe:    func(p *config.Probe) { p.Successes = 3 },
			statuses: []int{200, 500, 200, 200, 200},
		},
		{
			name: "expected status",
			handle: statuses(func(n int) int {
				if n == 0 {
					return 200
				}
				return 204
			}),
			probe:    func(p *config.Probe) { p.Status = 204 },
			statuses: []int{200, 204, 204},
		},
		{
			name:     "status 0 accepts any 2xx",
			handle:   statuses(func(int) int { return 202 }),
			probe:    func(p *config.Probe) { p.Status = 0 },
			statuses: []int{202, 202},
		},
		{
			name:       "deadline",
			handle:     statuses(func(int) int { return 503 }),
			probe:      func(p *config.Probe) { p.Deadline = 300 * time.Millisecond },
			wantErr:    "/health not ready within 300ms (",
			lastStatus: 503,
			lastReason: "status 503, want 200",
		},
		{
			name:       "server down",
			gone:       true,
			probe:      func(p *config.Probe) { p.Deadline = 300 * time.Millisecond },
			wantErr:    "not ready within 300ms",
			lastStatus: 0,
		},
		{
			name:   "probe timeout",
			handle: func(_ int, w http.ResponseWriter, r *http.Request) { stall(r, time.Minute) },
			probe: func(p *config.Probe) {
				p.Timeout = 50 * time.Millisecond
				p.Deadline = time.Second
			},
			wantErr:    "not ready within 1s",
			lastReason: "no response within 50ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var base string
			if tt.gone {
				base = refusedURL(t)
			} else {
				base = scriptedServer(t, tt.handle).URL
			}
			p := probe
			if tt.probe != nil {
				tt.probe(&p)
			}
			var got results
			err := deploy.WaitReady(t.Context(), nil, base, p, got.add)
			if tt.statuses != nil && !slices.Equal(got.statuses(), tt.statuses) {
				t.Errorf("probes answered %v, want %v", got.statuses(), tt.statuses)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("WaitReady: %v", err)
				}
				return
			}
			var nr *deploy.NotReadyError
			if !errors.As(err, &nr) {
				t.Fatalf("WaitReady error = %v (%T), want a *deploy.NotReadyError", err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if nr.URL != base+"/health" || nr.Attempts < 1 || nr.Attempts != len(got.all) || nr.Elapsed < p.Deadline {
				t.Errorf("NotReadyError{URL: %q, Attempts: %d, Elapsed: %s}, want {%q, %d progress reports, ≥ %s}",
					nr.URL, nr.Attempts, nr.Elapsed, base+"/health", len(got.all), p.Deadline)
			}
			if nr.Last.Err == nil || nr.Last.Status != tt.lastStatus {
				t.Errorf("Last = %+v, want a failure with status %d", nr.Last, tt.lastStatus)
			}
			if tt.lastReason != "" && nr.Last.Reason != tt.lastReason {
				t.Errorf("Last.Reason = %q, want %q", nr.Last.Reason, tt.lastReason)
			}
			var he *deploy.HTTPError
			if !errors.As(err, &he) || he.Status != tt.lastStatus {
				t.Errorf("errors.As(%v, *HTTPError) = %v, want one with status %d", err, he, tt.lastStatus)
			}
		})
	}
}

func TestWaitReadyCanceled(t *testing.T) {
	t.Parallel()
	srv := scriptedServer(t, statuses(func(int) int { return 503 }))
	ctx, cancel := context.WithCancel(t.Context())
	p := config.Probe{Path: "/", Status: 200, Interval: 10 * time.Millisecond, Timeout: time.Second, Successes: 1, Deadline: time.Hour}
	err := deploy.WaitReady(ctx, nil, srv.URL, p, func(r deploy.ProbeResult) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReady = %v, want context.Canceled", err)
	}
}

// smokeServer serves /health, /version and /post.
func smokeServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "status: ok") })
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "v1.2.3") })
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { stall(r, time.Minute) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSmoke(t *testing.T) {
	t.Parallel()
	health := config.Check{Name: "health", Path: "/health", Method: "GET", Status: 200, BodyContains: "ok"}
	tests := []struct {
		name   string
		checks []config.Check
		// names of the checks that ran.
		ran []string
		// out is what the commands wrote, with URL for the server's URL.
		out string
		// wantErr is the error, with URL for the server's URL ("" for none).
		wantErr  string
		exitCode int // of a failed command check
	}{
		{
			name: "all pass",
			checks: []config.Check{
				health,
				{Name: "url", Command: []string{"sh", "-c", `echo "$BGMIGRATE_URL $1 $BGMIGRATE_COLOR"`, "sh", "{url}"}},
				{Path: "/post", Method: "POST", Status: 201},
				{Path: "version", BodyContains: "v1.2"}, // method and status guarded
			},
			ran: []string{"health", "url", "/post", "version"},
			out: "URL URL green\n",
		},
		{
			name: "status mismatch",
			checks: []config.Check{
				health,
				{Name: "missing", Path: "/missing", Method: "GET", Status: 200},
				{Name: "never", Command: []string{"/bin/true"}},
			},
			ran:     []string{"health", "missing"},
			wantErr: `smoke check "missing" failed: GET URL/missing: status 404, want 200`,
		},
		{
			name:    "method",
			checks:  []config.Check{{Path: "/post", Method: "GET", Status: 201}},
			ran:     []string{"/post"},
			wantErr: `smoke check "/post" failed: GET URL/post: status 405, want 201`,
		},
		{
			name:    "body mismatch",
			checks:  []config.Check{{Name: "version", Path: "/version", Method: "GET", Status: 200, BodyContains: "v2"}},
			ran:     []string{"version"},
			wantErr: `smoke check "version" failed: GET URL/version: body does not contain "v2"`,
		},
		{
			name: "command failure",
			checks: []config.Check{
				{Name: "db", Command: []string{"sh", "-c", "echo checking; echo 'no rows' >&2; exit 4"}},
				health,
			},
			ran:      []string{"db"},
			out:      "checking\nno rows\n",
			wantErr:  `smoke check "db" failed: command "sh -c echo checking; echo 'no rows' >&2; exit 4" exited with status 4: no rows`,
			exitCode: 4,
		},
		{
			name:     "command without a name",
			checks:   []config.Check{{Command: []string{"/bin/false"}}},
			ran:      []string{"/bin/false"},
			wantErr:  `smoke check "/bin/false" failed: command "/bin/false" exited with status 1`,
			exitCode: 1,
		},
		{
			name:    "timeout",
			checks:  []config.Check{{Name: "slow", Path: "/slow", Method: "GET", Status: 200, Timeout: 50 * time.Millisecond}},
			ran:     []string{"slow"},
			wantErr: `smoke check "slow" failed: GET URL/slow: no response within 50ms`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smokeServer(t)
			var out lineRecorder
			res, err := deploy.Smoke(t.Context(), nil, srv.URL, tt.checks, deploy.Vars{Color: "green"}, &out)
			var ran []string
			for _, r := range res {
				ran = append(ran, r.Name)
			}
			if !slices.Equal(ran, tt.ran) {
				t.Errorf("checks that ran: %q, want %q", ran, tt.ran)
			}
			if want := strings.ReplaceAll(tt.out, "URL", srv.URL); out.String() != want {
				t.Errorf("out = %q, want %q", out.String(), want)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Smoke: %v", err)
				}
				return
			}
			var se *deploy.SmokeError
			if !errors.As(err, &se) {
				t.Fatalf("Smoke error = %v (%T), want a *deploy.SmokeError", err, err)
			}
			if want := strings.ReplaceAll(tt.wantErr, "URL", srv.URL); err.Error() != want {
				t.Errorf("error = %q\n     want %q", err, want)
			}
			if last := res[len(res)-1]; se.Check != last.Name || last.Err == nil {
				t.Errorf("SmokeError.Check = %q, last result %+v, want the failed check", se.Check, last)
			}
			var ce *deploy.CommandError
			if errors.As(err, &ce) != (tt.exitCode != 0) || (ce != nil && ce.ExitCode != tt.exitCode) {
				t.Errorf("errors.As(%v, *CommandError) = %v, want exit code %d", err, ce, tt.exitCode)
			}
		})
	}
}

// warmUpServer counts requests per path and the most in flight at once.
type warmUpServer struct {
	*httptest.Server
	mu               sync.Mutex
	paths            map[string]int
	inFlight, maxFly int
}

func newWarmUpServer(t *testing.T, status int) *warmUpServer {
	t.Helper()
	s := &warmUpServer{paths: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths[r.URL.Path]++
		s.inFlight++
		s.maxFly = max(s.maxFly, s.inFlight)
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		w.WriteHeader(status)
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

func TestWarmUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		gone    bool
		warmUp  config.WarmUp
		paths   map[string]int // requests per path, when not nil
		wantErr bool
	}{
		{
			name:   "paced over the paths",
			status: 200,
			warmUp: config.WarmUp{Requests: 20, Paths: []string{"/a", "b"}, Rate: 100},
			paths:  map[string]int{"/a": 10, "/b": 10},
		},
		{
			name:   "unpaced",
			status: 200,
			warmUp: config.WarmUp{Requests: 30, Paths: []string{"/"}},
			paths:  map[string]int{"/": 30},
		},
		{
			name:   "4xx passes",
			status: 404,
			warmUp: config.WarmUp{Requests: 5, Paths: []string{"/"}, Rate: 1000},
			paths:  map[string]int{"/": 5},
		},
		{
			name:   "nothing",
			status: 200,
			warmUp: config.WarmUp{Requests: 0, Paths: []string{"/"}, Rate: 50},
			paths:  map[string]int{},
		},
		{
			name:    "5xx",
			status:  502,
			warmUp:  config.WarmUp{Requests: 20, Paths: []string{"/"}, Rate: 100},
			wantErr: true,
		},
		{
			name:    "server down",
			gone:    true,
			warmUp:  config.WarmUp{Requests: 20, Paths: []string{"/"}, Rate: 100},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newWarmUpServer(t, tt.status)
			base := srv.URL
			if tt.gone {
				base = refusedURL(t)
			}
			res, err := deploy.WarmUp(t.Context(), nil, base, tt.warmUp)
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.maxFly > 4 {
				t.Errorf("%d requests in flight at once, want at most 4", srv.maxFly)
			}
			if tt.wantErr {
				var we *deploy.WarmUpError
				if !errors.As(err, &we) {
					t.Fatalf("WarmUp error = %v (%T), want a *deploy.WarmUpError", err, err)
				}
				if we.Failed < 1 || we.Sent < we.Failed || we.Sent > tt.warmUp.Requests || we.Sent != res.Sent || we.Failed != res.Failed {
					t.Errorf("WarmUpError{Sent: %d, Failed: %d}, result %+v: inconsistent", we.Sent, we.Failed, res)
				}
				var he *deploy.HTTPError
				if !errors.As(err, &he) || he.Status != tt.status {
					t.Errorf("errors.As(%v, *HTTPError) = %v, want status %d", err, he, tt.status)
				}
				if !strings.Contains(err.Error(), "warm-up of "+base) {
					t.Errorf("error %q does not name %s", err, base)
				}
				return
			}
			if err != nil {
				t.Fatalf("WarmUp: %v", err)
			}
			if res.Sent != tt.warmUp.Requests || res.Failed != 0 {
				t.Errorf("Sent %d, Failed %d, want %d, 0", res.Sent, res.Failed, tt.warmUp.Requests)
			}
			if fmt.Sprint(srv.paths) != fmt.Sprint(tt.paths) {
				t.Errorf("requests per path %v, want %v", srv.paths, tt.paths)
			}
			if r := tt.warmUp.Rate; r > 0 && tt.warmUp.Requests > 1 {
				if least := time.Duration(tt.warmUp.Requests-1) * time.Second / time.Duration(r); res.Duration < least {
					t.Errorf("Duration %s, want at least %s at %d per second", res.Duration, least, r)
				}
			}
			if res.Sent > 0 && (res.P50 <= 0 || res.P50 > res.P99) {
				t.Errorf("P50 %s, P99 %s", res.P50, res.P99)
			}
		})
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	conf := config.Confidence{Interval: 10 * time.Millisecond, Path: "/health", MaxErrorRate: pointerTo(0.2),
		Probes: 5, MaxLatency: 10 * time.Second}
	long := time.Minute
	type check func(t *testing.T, err error, got []deploy.ProbeResult, elapsed time.Duration)
	// failsFast checks for a *ConfidenceError well before the window
	// ends, with the counts given (-1: any).
	failsFast := func(failures, probes int) check {
		return func(t *testing.T, err error, got []deploy.ProbeResult, elapsed time.Duration) {
			t.Helper()
			var ce *deploy.ConfidenceError
			if !errors.As(err, &ce) {
				t.Fatalf("Watch = %v (%T), want a *deploy.ConfidenceError", err, err)
			}
			if elapsed > long/2 {
				t.Errorf("Watch waited %s for the failures, the window is %s", elapsed, long)
			}
			if failures >= 0 && (ce.Failures != failures || ce.Probes != probes) {
				t.Errorf("ConfidenceError{Failures: %d, Probes: %d}, want {%d, %d}", ce.Failures, ce.Probes, failures, probes)
			}
			if last := got[len(got)-1]; ce.Last.Err == nil || !ce.Last.At.Equal(last.At) {
				t.Errorf("Last = %+v, want the last progress report, failed", ce.Last)
			}
		}
	}
	tests := []struct {
		name    string
		handle  func(int, http.ResponseWriter, *http.Request)
		window  *time.Duration
		conf    func(c *config.Confidence)
		command []string // SERVER stands for the server's URL
		check   check
	}{
		{
			name:   "healthy",
			handle: statuses(func(int) int { return 200 }),
			window: pointerTo(300 * time.Millisecond),
			check: func(t *testing.T, err error, got []deploy.ProbeResult, elapsed time.Duration) {
				if err != nil {
					t.Fatalf("Watch: %v", err)
				}
				if elapsed < 300*time.Millisecond || len(got) == 0 {
					t.Errorf("Watch returned after %s and %d probes, want the whole window", elapsed, len(got))
				}
			},
		},
		{
			name: "one failure is tolerated",
			handle: statuses(func(n int) int {
				if n == 2 {
					return 500
				}
				return 200
			}),
			window: pointerTo(300 * time.Millisecond),
			check: func(t *testing.T, err error, got []deploy.ProbeResult, _ time.Duration) {
				if err != nil {
					t.Fatalf("Watch: %v", err)
				}
			},
		},
		{
			name:   "off",
			handle: func(int, http.ResponseWriter, *http.Request) { panic("probed") },
			window: pointerTo(time.Duration(0)),
			check: func(t *testing.T, err error, got []deploy.ProbeResult, _ time.Duration) {
				if err != nil || len(got) > 0 {
					t.Errorf("Watch with window 0 = %v after %d probes, want nil at once", err, len(got))
				}
			},
		},
		{
			name: "server fails midway",
			handle: statuses(func(n int) int {
				if n < 10 {
					return 200
				}
				return 500
			}),
			window: &long,
			check: func(t *testing.T, err error, got []deploy.ProbeResult, elapsed time.Duration) {
				failsFast(2, 5)(t, err, got, elapsed)
				var ce *deploy.ConfidenceError
				if !errors.As(err, &ce) {
					return
				}
				if len(got) != 12 {
					t.Fatalf("%d probes, want 10 passed then 2 failed", len(got))
				}
				if !ce.FirstFailure.Equal(got[10].At) || !got[9].At.Before(ce.FirstFailure) {
					t.Errorf("FirstFailure %s, want the 11th probe's start %s, after the 10th %s", ce.FirstFailure, got[10].At, got[9].At)
				}
				if ce.Rate != 0.4 || ce.MaxRate != 0.2 || ce.Last.Status != 500 {
					t.Errorf("ConfidenceError %+v", ce)
				}
				if want := "/health failed 2 of the last 5 probes (40%, at most 20% allowed), last: status 500, want 2xx"; !strings.HasSuffix(err.Error(), want) {
					t.Errorf("error = %q, want it to end with %q", err, want)
				}
				var he *deploy.HTTPError
				if !errors.As(err, &he) || he.Status != 500 {
					t.Errorf("errors.As(%v, *HTTPError) = %v", err, he)
				}
			},
		},
		{
			name: "too slow",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				if n >= 3 {
					stall(r, time.Minute)
				}
			},
			window: &long,
			conf:   func(c *config.Confidence) { c.MaxLatency = time.Second },
			check: func(t *testing.T, err error, got []deploy.ProbeResult, elapsed time.Duration) {
				failsFast(-1, -1)(t, err, got, elapsed) // a loaded machine may make a quick probe slow too
				var ce *deploy.ConfidenceError
				if errors.As(err, &ce) && !strings.HasPrefix(ce.Last.Reason, "slower than 1s") {
					t.Errorf("Last.Reason = %q, want it to say the probe was too slow", ce.Last.Reason)
				}
			},
		},
		{
			name:   "command fails",
			handle: statuses(func(int) int { return 200 }),
			window: &long,
			conf: func(c *config.Confidence) {
				c.Probes = 1
				c.Interval = time.Second // the command may run 5 intervals
			},
			command: []string{"sh", "-c", `echo "no: $1" >&2; test "$1" = blue`, "sh", "{color}"},
			check: func(t *testing.T, err error, got []deploy.ProbeResult, elapsed time.Duration) {
				failsFast(1, 1)(t, err, got, elapsed)
				var ce *deploy.CommandError
				if !errors.As(err, &ce) || ce.ExitCode != 1 {
					t.Errorf("errors.As(%v, *CommandError) = %v, want exit code 1", err, ce)
				}
				if len(got) > 0 && got[0].Reason != "command exited with status 1: no: green" {
					t.Errorf("Reason = %q", got[0].Reason)
				}
			},
		},
		{
			name:    "command passes",
			handle:  statuses(func(int) int { return 200 }),
			window:  pointerTo(1500 * time.Millisecond),
			conf:    func(c *config.Confidence) { c.Interval = 500 * time.Millisecond },
			command: []string{"sh", "-c", `test "$1" = green && test "$2" = SERVER && test "$BGMIGRATE_URL" = SERVER`, "sh", "{color}", "{url}"},
			check: func(t *testing.T, err error, got []deploy.ProbeResult, _ time.Duration) {
				if err != nil {
					t.Fatalf("Watch: %v", err)
				}
			},
		},
		{
			name:   "no rate allowed",
			handle: statuses(func(int) int { return 503 }),
			window: &long,
			conf: func(c *config.Confidence) {
				c.Probes = 1
				c.MaxErrorRate = pointerTo(0.0)
			},
			check: failsFast(1, 1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := scriptedServer(t, tt.handle)
			c := conf
			c.Window = tt.window
			for _, a := range tt.command {
				c.Command = append(c.Command, strings.ReplaceAll(a, "SERVER", srv.URL))
			}
			if tt.conf != nil {
				tt.conf(&c)
			}
			var got results
			start := time.Now()
			err := deploy.Watch(t.Context(), nil, srv.URL, c, deploy.Vars{Color: "green"}, got.add)
			tt.check(t, err, got.all, time.Since(start))
		})
	}
}

func TestWatchNilWindow(t *testing.T) {
	t.Parallel()
	err := deploy.Watch(t.Context(), nil, refusedURL(t), config.Confidence{}, deploy.Vars{}, nil)
	if err != nil {
		t.Errorf("Watch without a window = %v, want nil", err)
	}
}

func TestWatchCanceled(t *testing.T) {
	t.Parallel()
	srv := scriptedServer(t, statuses(func(int) int { return 200 }))
	ctx, cancel := context.WithCancel(t.Context())
	c := config.Confidence{Window: pointerTo(time.Hour), Interval: 10 * time.Millisecond, Path: "/", Probes: 5}
	err := deploy.Watch(ctx, nil, srv.URL, c, deploy.Vars{}, func(deploy.ProbeResult) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Watch = %v, want context.Canceled", err)
	}
}
