// Package testapp is the HTTP service that end-to-end tests and benchmarks
// deploy with bgmigrate deploy: one App (or one bgmigrate-testapp process)
// per color, behind a real load balancer.
//
// Every path outside /admin/ answers "<color> <version>\n" with the
// headers X-Color and X-Version, and GET /healthz answers "ok" while the
// app is ready. The admin endpoints, on the same listener, drive it:
//
//	POST /admin/deploy?version=V   roll out V: not ready (503) for the deploy delay, then V and ready (202)
//	POST /admin/fail?status=N      answer N on every non-admin path, /healthz too; status=0 clears (200)
//	POST /admin/stop               scale down: 503 on every non-admin path until the next deploy (200)
//	POST /admin/start              undo a stop (200)
//	GET  /admin/state              the State as JSON
//
// Two kinds of versions are faults: one containing "never-ready" never
// becomes ready, and one containing "broken" becomes ready (/healthz
// answers 200) but answers 500 on every other path, as a smoke test would
// notice.
package testapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultDeployDelay is how long a deploy takes when Options.DeployDelay
// is zero.
const DefaultDeployDelay = 300 * time.Millisecond

// Options tune an App.
type Options struct {
	// Latency is added to every non-admin response.
	Latency time.Duration
	// DeployDelay is how long a deploy keeps the app not ready before the
	// new version serves: DefaultDeployDelay when zero, none when negative.
	DeployDelay time.Duration
	// Check, when set, is what the version's code needs from the world
	// (the database its queries read and write): every non-admin request,
	// /healthz too, calls it and answers 503 with its error when it fails.
	Check func(version string) error
}

// State is what GET /admin/state answers.
type State struct {
	Color      string `json:"color"`
	Version    string `json:"version"`
	Ready      bool   `json:"ready"`
	FailStatus int    `json:"fail_status"` // 0: not failing
	Stopped    bool   `json:"stopped"`
	Deploys    int    `json:"deploys"`  // deploys started
	Requests   int64  `json:"requests"` // non-admin requests answered, /healthz included
}

// App is the test service of one color. It is an http.Handler, safe for
// concurrent use. A new App is ready.
type App struct {
	opts Options
	mux  *http.ServeMux

	mu    sync.Mutex
	state State
	gen   int // the current deploy; a later one supersedes a pending one
}

// New returns a ready App serving version as color.
func New(color, version string, opts Options) *App {
	if opts.DeployDelay == 0 {
		opts.DeployDelay = DefaultDeployDelay
	}
	a := &App{opts: opts, state: State{Color: color, Version: version, Ready: true}}
	mux := http.NewServeMux()
	// Methods are checked by only, not by patterns: a pattern with a
	// method would let GET /admin/deploy fall through to /admin/ (404).
	mux.HandleFunc("/admin/deploy", only(http.MethodPost, a.handleDeploy))
	mux.HandleFunc("/admin/fail", only(http.MethodPost, a.handleFail))
	mux.HandleFunc("/admin/stop", only(http.MethodPost, func(w http.ResponseWriter, _ *http.Request) {
		a.Stop()
		answer(w, http.StatusOK, "stopped")
	}))
	mux.HandleFunc("/admin/start", only(http.MethodPost, func(w http.ResponseWriter, _ *http.Request) {
		a.Start()
		answer(w, http.StatusOK, "started")
	}))
	mux.HandleFunc("/admin/state", only(http.MethodGet, a.handleState))
	mux.HandleFunc("/admin/", http.NotFound)
	mux.HandleFunc("/", a.serveApp)
	a.mux = mux
	return a
}

// ServeHTTP serves the app and its admin endpoints.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// State returns the app's state.
func (a *App) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Deploy starts rolling out version: the app is not ready at once, and
// after the deploy delay it serves version and is ready (never, for a
// version containing "never-ready"). A deploy also undoes Stop. A later
// Deploy supersedes one still pending.
func (a *App) Deploy(version string) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	a.mu.Lock()
	a.gen++
	gen := a.gen
	a.state.Ready, a.state.Stopped = false, false
	a.state.Deploys++
	a.mu.Unlock()
	finish := func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.gen != gen {
			return
		}
		a.state.Version = version
		a.state.Ready = !strings.Contains(version, "never-ready")
	}
	if a.opts.DeployDelay > 0 {
		time.AfterFunc(a.opts.DeployDelay, finish)
	} else {
		finish()
	}
	return nil
}

// Fail makes every non-admin path, /healthz included, answer status from
// now on; 0 clears it.
func (a *App) Fail(status int) error {
	if status != 0 && (status < 200 || status > 599) {
		return fmt.Errorf("status %d: want 0 (clear) or 200 to 599", status)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.FailStatus = status
	return nil
}

// Stop scales the app down: every non-admin path answers 503 until Start
// or the next Deploy.
func (a *App) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.Stopped = true
}

// Start undoes Stop.
func (a *App) Start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.Stopped = false
}

// checkVersion rejects an empty version and one that cannot go in a
// header or the one-line body.
func checkVersion(v string) error {
	if v == "" {
		return errors.New("version is empty")
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("version %q holds %q", v, r)
		}
	}
	return nil
}

func (a *App) serveApp(w http.ResponseWriter, r *http.Request) {
	if d := a.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	a.mu.Lock()
	a.state.Requests++
	st := a.state
	a.mu.Unlock()

	w.Header().Set("X-Color", st.Color)
	w.Header().Set("X-Version", st.Version)
	who := st.Color + " " + st.Version
	var checkErr error
	if a.opts.Check != nil && st.FailStatus == 0 && !st.Stopped && st.Ready {
		checkErr = a.opts.Check(st.Version)
	}
	switch {
	case st.FailStatus != 0:
		answer(w, st.FailStatus, who+": failing with "+strconv.Itoa(st.FailStatus))
	case st.Stopped:
		answer(w, http.StatusServiceUnavailable, who+": stopped")
	case !st.Ready:
		answer(w, http.StatusServiceUnavailable, who+": not ready")
	case checkErr != nil:
		answer(w, http.StatusServiceUnavailable, who+": "+checkErr.Error())
	case r.URL.Path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	case strings.Contains(st.Version, "broken"):
		answer(w, http.StatusInternalServerError, who+": broken")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(who + "\n"))
	}
}

func (a *App) handleDeploy(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("version")
	if err := a.Deploy(v); err != nil {
		answer(w, http.StatusBadRequest, "deploy: "+err.Error())
		return
	}
	answer(w, http.StatusAccepted, "deploying "+v)
}

func (a *App) handleFail(w http.ResponseWriter, r *http.Request) {
	s := r.URL.Query().Get("status")
	n, err := strconv.Atoi(s)
	if err != nil {
		answer(w, http.StatusBadRequest, fmt.Sprintf("fail: status=%q: want a number", s))
		return
	}
	if err := a.Fail(n); err != nil {
		answer(w, http.StatusBadRequest, "fail: "+err.Error())
		return
	}
	answer(w, http.StatusOK, "failing with "+s)
}

func (a *App) handleState(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a.State())
}

// only answers 405 to a request whose method is not method.
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			answer(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": use "+method)
			return
		}
		h(w, r)
	}
}

// answer writes a one-line plain text response.
func answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
