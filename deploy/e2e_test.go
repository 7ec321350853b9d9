package deploy_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/internal/lbtest"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/testapp"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// The migrations of the test service: a table, an expand (a nullable
// column) and a contract (dropping the column the old code read).
var migrations = map[string]string{
	"0001_items.sql":       "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, legacy text);\n",
	"0002_items_note.sql":  "ALTER TABLE items ADD COLUMN note text;\n",
	"0003_drop_legacy.sql": "ALTER TABLE items DROP COLUMN legacy;\n",
}

// env is one service: a database, two colors of the test app behind a real
// HAProxy, and a Deployer for it.
type env struct {
	t           *testing.T
	dbURL       string
	conn        *pgx.Conn
	blue, green *testapp.Instance
	lb          *lbtest.LB
	dir         string
	cfg         *config.Deploy
	events      *recorder
	sw          switcher.Switcher
}

// recorder keeps the events and lets a test act on one.
type recorder struct {
	mu     sync.Mutex
	events []deploy.Event
	on     func(deploy.Event)
}

func (r *recorder) Event(e deploy.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	on := r.on
	r.mu.Unlock()
	if on != nil {
		on(e)
	}
}

// find returns the last event of step with outcome.
func (r *recorder) find(step, outcome string) (deploy.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if e := r.events[i]; e.Step == step && e.Outcome == outcome {
			return e, true
		}
	}
	return deploy.Event{}, false
}

func newEnv(t *testing.T, files ...string) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, dbURL: pgtest.DB(t), dir: t.TempDir(), events: &recorder{}}
	if len(files) == 0 {
		files = []string{"0001_items.sql"}
	}
	for _, f := range files {
		e.addMigration(f)
	}
	var err error
	if e.conn, err = pgx.Connect(ctx, e.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.conn.Close(context.Background()) })
	opts := testapp.Options{DeployDelay: 100 * time.Millisecond}
	e.blue = testapp.Start(t, "blue", "v1", opts)
	e.green = testapp.Start(t, "green", "v0", opts)
	e.lb = lbtest.HAProxy(t, e.blue.Addr, e.green.Addr)
	bin := testapp.Binary(t)
	window, drain := 1500*time.Millisecond, 200*time.Millisecond
	rate := 0.2
	e.cfg = &config.Deploy{
		Service:     "shop",
		DatabaseURL: e.dbURL,
		Switcher:    e.lb.Switcher,
		Blue:        config.ColorConfig{URL: e.blue.URL},
		Green:       config.ColorConfig{URL: e.green.URL},
		Hooks: config.Hooks{
			Deploy:    []string{bin, "deploy", "--admin", "{url}", "--version", "{version}"},
			ScaleDown: []string{bin, "stop", "--admin", "{url}"},
		},
		Readiness:  config.Probe{Path: "/healthz", Interval: 50 * time.Millisecond, Successes: 2, Deadline: 5 * time.Second},
		Smoke:      []config.Check{{Name: "home", Path: "/", Status: 200}},
		WarmUp:     config.WarmUp{Requests: 20, Rate: 200},
		Confidence: config.Confidence{Window: &window, Interval: 100 * time.Millisecond, Path: "/", Probes: 4, MaxErrorRate: &rate},
		Drain:      &drain,
	}
	deploy.ApplyDefaults(e.cfg)
	e.sw, err = switcher.Open(ctx, e.cfg.Switcher)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sw.Close() })
	return e
}

func (e *env) addMigration(name string) {
	e.t.Helper()
	body, ok := migrations[name]
	if !ok || body == "" {
		e.t.Fatalf("no migration %s", name)
	}
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// deployer returns a Deployer on its own connection, as a process would have.
func (e *env) deployer() *deploy.Deployer {
	e.t.Helper()
	ctx := e.t.Context()
	migs, err := runner.Load(ctx, e.dir, rules.Config{PGVersion: 15})
	if err != nil {
		e.t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close(context.Background()) })
	return &deploy.Deployer{Config: e.cfg, Conn: conn, Switcher: e.sw, Migrations: migs, Actor: "ci", Report: e.events}
}

// served returns the color and version that answer through the load
// balancer.
func (e *env) served() string {
	e.t.Helper()
	_, body := e.lb.Get(e.t, "/")
	return strings.TrimSpace(body)
}

func (e *env) live() map[switcher.Color]*state.Deployment {
	e.t.Helper()
	lv, err := state.Live(e.t.Context(), e.conn, e.cfg.Service)
	if err != nil {
		e.t.Fatal(err)
	}
	return lv
}

func (e *env) applied() []string {
	e.t.Helper()
	hist, err := runner.History(e.t.Context(), e.conn)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range hist {
		out = append(out, a.Version+":"+a.Phase)
	}
	return out
}

func wantStatus(t *testing.T, d *state.Deployment, want state.Status) {
	t.Helper()
	if d == nil {
		t.Fatalf("no deployment, want one in status %s", want)
	}
	if d.Status != want {
		t.Fatalf("deployment %d (%s on %s) is %s, want %s", d.ID, d.Version, d.Color, d.Status, want)
	}
}

// TestDeployLifecycle runs a whole release: deploy with an expand, the
// contract refused during the rollback window, a rollback, a redeploy,
// retire with its scale-down hook, then the contract.
func TestDeployLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	// First release: green gets v1 (blue runs the code from before bgmigrate).
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "green v1" {
		t.Fatalf("after the first deploy the load balancer serves %q, want green v1", got)
	}
	// Second release: an expand and a contract migration.
	e.addMigration("0002_items_note.sql")
	e.addMigration("0003_drop_legacy.sql")
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"}); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "blue v2" {
		t.Fatalf("served %q, want blue v2", got)
	}
	if got := strings.Join(e.applied(), " "); got != "0001:expand 0002:expand" {
		t.Fatalf("applied %s, want the expand migrations only", got)
	}
	lv := e.live()
	wantStatus(t, lv[switcher.Blue], state.Active)
	wantStatus(t, lv[switcher.Green], state.Standby)
	if lv[switcher.Blue].SchemaVersion != "0003" {
		t.Fatalf("schema version of blue = %q, want 0003", lv[switcher.Blue].SchemaVersion)
	}
	if _, ok := e.events.find("gate", deploy.OK); !ok {
		t.Fatal("no gate passed before the switch")
	}

	// Contract during the rollback window is refused.
	_, err := e.deployer().Contract(ctx, deploy.ContractOptions{})
	var refused *deploy.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "rollback target") {
		t.Fatalf("contract during the window: %v, want a refusal naming the rollback target", err)
	}
	if got := strings.Join(e.applied(), " "); got != "0001:expand 0002:expand" {
		t.Fatalf("applied %s after a refused contract", got)
	}

	// Rollback: traffic back on green v1 at once.
	if err := e.deployer().Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "green v1" {
		t.Fatalf("after rollback served %q, want green v1", got)
	}
	rb, _ := e.events.find("rollback", deploy.OK)
	t.Logf("rollback took %.0f ms", rb.Duration*1000)
	lv = e.live()
	wantStatus(t, lv[switcher.Green], state.Active)
	if lv[switcher.Blue] != nil {
		t.Fatalf("blue still live after rollback: %+v", lv[switcher.Blue])
	}

	// Redeploy v2 onto blue, retire green, contract.
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.deployer().Retire(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if st := e.green.App.State(); !st.Stopped {
		t.Fatalf("green after retire: %+v, want stopped by the scale-down hook", st)
	}
	if err := e.deployer().Rollback(ctx); !errors.As(err, &refused) {
		t.Fatalf("rollback after retire: %v, want a refusal", err)
	}
	if _, err := e.deployer().Contract(ctx, deploy.ContractOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.applied(), " "); got != "0001:expand 0002:expand 0003:contract" {
		t.Fatalf("applied %s, want the contract too", got)
	}
	if got := e.served(); got != "blue v2" {
		t.Fatalf("served %q at the end, want blue v2", got)
	}
	r, err := e.deployer().Status(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if r.Active != switcher.Blue || r.RollbackTarget != "" || len(r.PendingContract) != 0 || r.Colors[switcher.Green].Status != "retired" {
		t.Fatalf("status at the end: %+v", r)
	}
	actions := map[string]bool{}
	for _, ev := range r.Events {
		actions[ev.Action+"/"+ev.Outcome] = true
	}
	for _, want := range []string{"contract/ok", "retire/ok", "rollback/ok", "gate/ok", "contract/rejected"} {
		if !actions[want] {
			t.Errorf("no %s event in the log: %v", want, actions)
		}
	}
}

// TestDeployFailsBeforeSwitch: green fails readiness, or a smoke test; no
// switch, green left running, the deployment recorded as failed.
func TestDeployFailsBeforeSwitch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version string
		step    string
		want    any
	}{
		{"v2-never-ready", "readiness", new(*deploy.NotReadyError)},
		{"v2-broken", "smoke", new(*deploy.SmokeError)},
	} {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.cfg.Readiness.Deadline = 2 * time.Second
			err := e.deployer().Deploy(t.Context(), deploy.DeployOptions{Version: tt.version})
			if err == nil || !errors.As(err, tt.want) {
				t.Fatalf("deploy %s: %v, want a %s failure", tt.version, err, tt.step)
			}
			if _, ok := e.events.find(tt.step, deploy.Failed); !ok {
				t.Fatalf("no failed %s event", tt.step)
			}
			if _, ok := e.events.find("switch", deploy.Start); ok {
				t.Fatal("the switch started after a failed check")
			}
			if got := e.served(); got != "blue v1" {
				t.Fatalf("served %q, want blue v1", got)
			}
			if got := e.lb.Active(t); got != "blue" {
				t.Fatalf("load balancer on %s", got)
			}
			if st := e.green.App.State(); st.Version != tt.version || st.Stopped {
				t.Fatalf("green %+v, want it left running with %s", st, tt.version)
			}
			latest, err := state.Latest(t.Context(), e.conn, "shop")
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, latest[switcher.Green], state.Failed)
			// A failed deploy does not block the next one.
			if err := e.deployer().Deploy(t.Context(), deploy.DeployOptions{Version: "v2"}); err != nil {
				t.Fatal(err)
			}
			if got := e.served(); got != "green v2" {
				t.Fatalf("served %q after the redeploy", got)
			}
		})
	}
}

// TestConfidenceRollback: green starts failing inside the confidence
// window; traffic goes back to blue automatically.
func TestConfidenceRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil { // onto green
		t.Fatal(err)
	}
	window := 20 * time.Second
	e.cfg.Confidence.Window = &window
	e.events.on = func(ev deploy.Event) {
		if ev.Step == "switch" && ev.Outcome == deploy.OK {
			// Blue (the new color) breaks right after it takes the traffic.
			if err := e.blue.App.Fail(500); err != nil {
				t.Error(err)
			}
		}
	}
	start := time.Now()
	err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"})
	var rb *deploy.RolledBackError
	if !errors.As(err, &rb) {
		t.Fatalf("deploy: %v, want an automatic rollback", err)
	}
	if took := time.Since(start); took > window {
		t.Fatalf("the rollback waited for the window to end (%s)", took)
	}
	t.Logf("first failing probe to traffic back on green: %s", rb.Back.Sub(rb.FirstFailure))
	if rb.To != switcher.Green || e.lb.Active(t) != "green" {
		t.Fatalf("rolled back to %s, load balancer on %s; want green", rb.To, e.lb.Active(t))
	}
	if got := e.served(); got != "green v1" {
		t.Fatalf("served %q after the rollback", got)
	}
	latest, err := state.Latest(ctx, e.conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, latest[switcher.Blue], state.RolledBack)
	wantStatus(t, latest[switcher.Green], state.Active)
}

// TestSwitcherFails: the HAProxy admin socket is gone at the switch;
// traffic stays on blue, and deploy --resume finishes once it is back.
func TestSwitcherFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.events.on = func(ev deploy.Event) {
		if ev.Step == "gate" && ev.Outcome == deploy.OK {
			e.lb.Stop()
		}
	}
	err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"})
	var se *deploy.SwitchError
	if !errors.As(err, &se) || se.To != switcher.Green {
		t.Fatalf("deploy with the socket gone: %v, want a switch error", err)
	}
	t.Logf("error: %v", err)
	e.events.on = nil
	e.lb.Restart(t)
	if got := e.lb.Active(t); got != "blue" {
		t.Fatalf("after the failed switch the load balancer is on %s", got)
	}
	if got := e.served(); got != "blue v1" {
		t.Fatalf("served %q", got)
	}
	wantStatus(t, e.live()[switcher.Green], state.Ready)
	// A new deploy is refused while this one is unfinished.
	var refused *deploy.RefusedError
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v3"}); !errors.As(err, &refused) {
		t.Fatalf("second deploy: %v, want a refusal", err)
	}
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "green v2" {
		t.Fatalf("after --resume served %q", got)
	}
}

// TestTwoDeploysAtOnce: the second is refused with the holder named.
func TestTwoDeploysAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	first := e.deployer()
	inHook := make(chan struct{})
	release := make(chan struct{})
	e.events.on = func(ev deploy.Event) {
		if ev.Step == "readiness" && ev.Outcome == deploy.Start {
			close(inHook)
			<-release
		}
	}
	done := make(chan error, 1)
	go func() { done <- first.Deploy(ctx, deploy.DeployOptions{Version: "v2"}) }()
	<-inHook
	second := e.deployer()
	second.Report = deploy.Discard
	err := second.Deploy(ctx, deploy.DeployOptions{Version: "v3"})
	close(release)
	var locked *deploy.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second deploy: %v, want a LockedError", err)
	}
	if !strings.Contains(locked.Holder, "bgmigrate deploy shop by ci") || !strings.Contains(locked.Holder, "pid ") {
		t.Fatalf("holder %q does not name the first deploy", locked.Holder)
	}
	t.Logf("refused: %v", err)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "green v2" {
		t.Fatalf("served %q", got)
	}
}

// TestBreakingMigrationRefused: a breaking migration stops the deploy
// before anything changes.
func TestBreakingMigrationRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.dir, "0002_rename.sql"), []byte("ALTER TABLE items RENAME COLUMN name TO title;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := e.deployer().Deploy(t.Context(), deploy.DeployOptions{Version: "v2"})
	var refused *deploy.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "0002_rename.sql") {
		t.Fatalf("deploy: %v, want a refusal naming the breaking file", err)
	}
	if got := e.applied(); len(got) != 0 {
		t.Fatalf("applied %v after a refused deploy", got)
	}
	if len(e.live()) != 0 {
		t.Fatalf("a deployment was recorded: %+v", e.live())
	}
	if st := e.green.App.State(); st.Deploys != 0 {
		t.Fatalf("the deploy hook ran: %+v", st)
	}
}

func (e *env) servedAt(frontend string) string {
	e.t.Helper()
	resp, err := http.Get(frontend + "/")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.Header.Get("X-Color") + " " + resp.Header.Get("X-Version")
}

// useWeighted switches the service to HAProxy's server mode, which splits
// traffic by weight.
func (e *env) useWeighted() {
	e.t.Helper()
	e.cfg.Switcher = e.lb.WeightedSwitcher
	sw, err := switcher.Open(e.t.Context(), e.cfg.Switcher)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { sw.Close() })
	e.sw = sw
}

// TestDeployInSteps: a gradual switch through HAProxy weights, watched at
// each step; a failure at a step sends all traffic back.
func TestDeployInSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useWeighted()
	pause := 600 * time.Millisecond
	e.cfg.StepPause = &pause
	ctx := t.Context()
	var mu sync.Mutex
	var split map[switcher.Color]int
	e.events.on = func(ev deploy.Event) {
		if ev.Step == "step-watch" && ev.Outcome == deploy.Start {
			w, err := e.sw.(switcher.Weighted).Weights(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			split = w
			mu.Unlock()
		}
	}
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1", Steps: []int{50, 100}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if split[switcher.Green] != 50 || split[switcher.Blue] != 50 {
		t.Fatalf("weights at the 50%% step: %v", split)
	}
	mu.Unlock()
	if got := e.servedAt(e.lb.Weighted); got != "green v1" {
		t.Fatalf("served %q after the steps", got)
	}
	w, err := e.sw.(switcher.Weighted).Weights(ctx)
	if err != nil || w[switcher.Green] != 100 {
		t.Fatalf("weights after the steps: %v, %v", w, err)
	}

	// Blue breaks at its first step: all traffic goes back to green.
	e.events.on = func(ev deploy.Event) {
		if ev.Step == "switch" && ev.Outcome == deploy.OK && ev.Fields["percent"] == 50 {
			if err := e.blue.App.Fail(500); err != nil {
				t.Error(err)
			}
		}
	}
	err = e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2", Steps: []int{50, 100}})
	var rb *deploy.RolledBackError
	if !errors.As(err, &rb) || rb.To != switcher.Green {
		t.Fatalf("deploy with a failing step: %v, want traffic back on green", err)
	}
	t.Logf("first failing probe to traffic back: %s", rb.Back.Sub(rb.FirstFailure))
	if w, err := e.sw.(switcher.Weighted).Weights(ctx); err != nil || w[switcher.Green] != 100 {
		t.Fatalf("weights after the failed step: %v, %v", w, err)
	}
	latest, err := state.Latest(ctx, e.conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, latest[switcher.Blue], state.Failed)
	wantStatus(t, latest[switcher.Green], state.Active)
	rule, err := state.Traffic(ctx, e.conn, "shop")
	if err != nil || rule.Color != switcher.Green || rule.Percent != 100 {
		t.Fatalf("traffic record %+v, %v", rule, err)
	}
	// Steps need a weighted switcher.
	mapSw, err := switcher.Open(ctx, e.lb.Switcher)
	if err != nil {
		t.Fatal(err)
	}
	defer mapSw.Close()
	e.sw = mapSw
	var refused *deploy.RefusedError
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v3", Steps: []int{10, 100}}); !errors.As(err, &refused) {
		t.Fatalf("steps on a map switcher: %v, want a refusal", err)
	}
}

// TestRollbackWindow: while the old color stands by, a new deploy onto it
// is refused; once the window ends, status retires it and runs its
// scale-down hook, and rollback is refused.
func TestRollbackWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Long enough that deploy v3 is tried inside it on a loaded machine
	// (v2's own steps after its switch count against it).
	rw := 8 * time.Second
	e.cfg.RollbackWindow = &rw
	ctx := t.Context()
	for _, v := range []string{"v1", "v2"} {
		if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	var refused *deploy.RefusedError
	err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v3"})
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "green holds version \"v1\", the rollback target until") {
		t.Fatalf("deploy onto the rollback target: %v", err)
	}
	r, err := e.deployer().Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if r.RollbackTarget != switcher.Green || r.RollbackUntil == nil {
		t.Fatalf("status in the window: %+v", r)
	}
	time.Sleep(time.Until(*r.RollbackUntil) + 100*time.Millisecond)
	if r, err = e.deployer().Status(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if r.RollbackTarget != "" || r.Colors[switcher.Green].Status != string(state.Retired) {
		t.Fatalf("status after the window: target %q, green %+v", r.RollbackTarget, r.Colors[switcher.Green])
	}
	if st := e.green.App.State(); !st.Stopped {
		t.Fatalf("green after the window: %+v, want stopped by its scale-down hook", st)
	}
	if err := e.deployer().Rollback(ctx); !errors.As(err, &refused) {
		t.Fatalf("rollback after the window: %v, want a refusal", err)
	}
}

// TestRollbackRefusedAfterContract: once a contract migration ran (forced
// during the window), rollback refuses and names it.
func TestRollbackRefusedAfterContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	e.addMigration("0002_items_note.sql")
	e.addMigration("0003_drop_legacy.sql")
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.deployer().Contract(ctx, deploy.ContractOptions{Force: true, Reason: "hotfix: the column leaks data"}); err != nil {
		t.Fatal(err)
	}
	err := e.deployer().Rollback(ctx)
	var refused *deploy.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "contract migration(s) 0003") {
		t.Fatalf("rollback after a contract: %v", err)
	}
	if got := e.served(); got != "blue v2" {
		t.Fatalf("served %q", got)
	}
}

// TestContractGateForTheRunner: the runner, given the deployment state as
// recorded, follows the same contract rule.
func TestContractGateForTheRunner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	e.addMigration("0003_drop_legacy.sql")
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"}); err != nil {
		t.Fatal(err)
	}
	migs, err := runner.Load(ctx, e.dir, rules.Config{PGVersion: 15})
	if err != nil {
		t.Fatal(err)
	}
	recorded := func(ctx context.Context, conn *pgx.Conn) (*gate.State, error) {
		return live.ReadState(ctx, conn, "shop")
	}
	_, err = runner.Migrate(ctx, e.conn, migs, runner.Options{Phase: runner.PhaseContract, State: recorded})
	var gated *runner.ContractGateError
	if !errors.As(err, &gated) || !strings.Contains(gated.Reason, "green (v1, deployment 1, schema 0001) is the rollback target") {
		t.Fatalf("runner contract during the window: %v", err)
	}
	if err := e.deployer().Retire(ctx, ""); err != nil {
		t.Fatal(err)
	}
	res, err := runner.Migrate(ctx, e.conn, migs, runner.Options{Phase: runner.PhaseContract, State: recorded})
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("runner contract after retire: %+v, %v", res, err)
	}
}

// TestManualSwitch: switch --to a color standing by, after the gate, and
// back.
func TestManualSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	for _, v := range []string{"v1", "v2"} {
		if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	var refused *deploy.RefusedError
	if err := e.deployer().Switch(ctx, switcher.Blue); err != nil {
		t.Fatalf("switch to the active color: %v", err)
	}
	if err := e.deployer().Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.events.find("gate", deploy.OK); !ok {
		t.Fatal("the manual switch ran no gate")
	}
	if got := e.served(); got != "green v1" {
		t.Fatalf("served %q after switch --to green", got)
	}
	lv := e.live()
	wantStatus(t, lv[switcher.Green], state.Active)
	wantStatus(t, lv[switcher.Blue], state.Standby)
	if err := e.deployer().Switch(ctx, switcher.Blue); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "blue v2" {
		t.Fatalf("served %q after switching back", got)
	}
	if err := e.deployer().Retire(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.deployer().Switch(ctx, switcher.Green); !errors.As(err, &refused) {
		t.Fatalf("switch to a retired color: %v, want a refusal", err)
	}
}

// TestFirstDeployRollsBack: the very first deploy fails its confidence
// window; traffic goes back to the color that served before, though no
// deployment of it is recorded.
func TestFirstDeployRollsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.events.on = func(ev deploy.Event) {
		if ev.Step == "switch" && ev.Outcome == deploy.OK {
			e.green.App.Fail(503)
		}
	}
	err := e.deployer().Deploy(t.Context(), deploy.DeployOptions{Version: "v1"})
	var rb *deploy.RolledBackError
	if !errors.As(err, &rb) || rb.To != switcher.Blue {
		t.Fatalf("first deploy: %v, want traffic back on blue", err)
	}
	if got := e.served(); got != "blue v1" {
		t.Fatalf("served %q", got)
	}
	latest, err := state.Latest(t.Context(), e.conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, latest[switcher.Green], state.RolledBack)
}
