package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/internal/lbtest"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/testapp"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

// deployEnv is a service for the deploy commands: a database, two colors of
// the test app behind a real HAProxy, migrations and a .bgmigrate.yaml.
type deployEnv struct {
	t           *testing.T
	dir, config string
	dbURL       string
	blue, green *testapp.Instance
	lb          *lbtest.LB
	// drain, window and confidence are the durations the configuration
	// gives (default 100ms, 30m and 500ms).
	drain, window, confidence string
}

// envOption changes a deployEnv before its colors start: the test app's
// options, the first migration.
type envOption func(e *deployEnv, app *testapp.Options)

func newDeployEnv(t *testing.T, opts ...envOption) *deployEnv {
	t.Helper()
	e := &deployEnv{t: t, dir: t.TempDir(), dbURL: pgtest.DB(t), drain: "100ms", window: "30m", confidence: "500ms"}
	app := testapp.Options{DeployDelay: 100 * time.Millisecond}
	if err := os.MkdirAll(filepath.Join(e.dir, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	first := true
	for _, o := range opts {
		o(e, &app)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "migrations")); len(entries) > 0 {
		first = false
	}
	e.blue = testapp.Start(t, "blue", "v0", app)
	e.green = testapp.Start(t, "green", "v0", app)
	e.lb = lbtest.HAProxy(t, e.blue.Addr, e.green.Addr)
	bin := testapp.Binary(t)
	if first {
		e.migration("0001_items.sql", "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, legacy text);\n")
	}
	cfg := fmt.Sprintf(`version: 1
runner: bgmigrate
migrations:
  - dir: migrations
deploy:
  service: shop
  database_url: ${SHOP_DATABASE_URL}
  switcher: %q
  blue:
    url: %q
  green:
    url: %q
  hooks:
    deploy: [%q, deploy, --admin, "{url}", --version, "{version}"]
    scale_down: [%q, stop, --admin, "{url}"]
  readiness:
    path: /healthz
    interval: 50ms
    successes: 2
    deadline: 10s
  smoke:
    - name: home
      path: /
      status: 200
  warm_up:
    requests: 10
    rate: 100
  confidence:
    window: %s
    interval: 100ms
  drain: %s
  rollback_window: %s
`, e.lb.Switcher, e.blue.URL, e.green.URL, bin, bin, e.confidence, e.drain, e.window)
	e.config = filepath.Join(e.dir, ".bgmigrate.yaml")
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *deployEnv) migration(name, sql string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "migrations", name), []byte(sql), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// run runs bgmigrate in-process with the service's configuration.
func (e *deployEnv) run(args ...string) result {
	e.t.Helper()
	var out, errOut strings.Builder
	code := execute(append(args, "--config", e.config), strings.NewReader(""), &out, &errOut, func(k string) string {
		if k == "SHOP_DATABASE_URL" {
			return e.dbURL
		}
		return os.Getenv(k)
	})
	return result{code, out.String(), errOut.String()}
}

// start runs bgmigrate as a process of its own.
func (e *deployEnv) start(env []string, args ...string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	e.t.Helper()
	cmd := exec.Command(os.Args[0], append(args, "--config", e.config)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1", "SHOP_DATABASE_URL="+e.dbURL)
	cmd.Env = append(cmd.Env, env...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewScanner(stderr), &stdout
}

func (e *deployEnv) served() string {
	e.t.Helper()
	_, body := e.lb.Get(e.t, "/")
	return strings.TrimSpace(body)
}

func (e *deployEnv) live() map[switcher.Color]*state.Deployment {
	e.t.Helper()
	ctx := e.t.Context()
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	lv, err := state.Live(ctx, conn, "shop")
	if err != nil {
		e.t.Fatal(err)
	}
	return lv
}

// killAfterSwitch starts a deploy of version as a process that stops dead
// between the switch and its record, and kills it (SIGKILL) there.
func (e *deployEnv) killAfterSwitch(version string) {
	e.t.Helper()
	e.killAt("deploy:after-switch", "deploy", "--version", version, "--format", "json")
}

// TestDeployKilledAfterSwitch: bgmigrate dies right after the switch,
// before recording it. status tells the truth from the load balancer;
// deploy --resume completes, and so does rollback.
func TestDeployKilledAfterSwitch(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	if r := e.run("deploy", "--version", "v1", "--format", "json"); r.code != ExitOK {
		t.Fatalf("first deploy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	} else {
		// One JSON event per line, each with a step and an outcome.
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var ev deploy.Event
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Step == "" || ev.Outcome == "" {
				t.Fatalf("not an event: %q (%v)", line, err)
			}
		}
	}
	if got := e.served(); got != "green v1" {
		t.Fatalf("served %q", got)
	}

	e.killAfterSwitch("v2")
	if got := e.served(); got != "blue v2" {
		t.Fatalf("after the kill the load balancer serves %q, want blue v2", got)
	}
	lv := e.live()
	if lv[switcher.Blue].Status != state.Ready || lv[switcher.Green].Status != state.Active {
		t.Fatalf("record after the kill: blue %s, green %s; want ready and active (the switch unrecorded)", lv[switcher.Blue].Status, lv[switcher.Green].Status)
	}
	r := e.run("status", "--format", "json")
	if r.code != ExitOK {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	var rep deploy.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Active != switcher.Blue || rep.Traffic == nil || rep.Traffic.Color != switcher.Blue || !strings.Contains(rep.Unfinished, "not recorded") {
		t.Fatalf("status after the kill: %+v", rep)
	}
	if r := e.run("deploy", "--version", "v3"); r.code != ExitFindings || !strings.Contains(r.stderr, "deploy was interrupted") || !strings.Contains(r.stderr, "deploy --resume") {
		t.Fatalf("a new deploy over the unfinished one: exit %d %s", r.code, r.stderr)
	}
	if r := e.run("deploy", "--resume"); r.code != ExitOK {
		t.Fatalf("deploy --resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lv = e.live()
	if lv[switcher.Blue].Status != state.Active || lv[switcher.Green].Status != state.Standby {
		t.Fatalf("after --resume: blue %s, green %s", lv[switcher.Blue].Status, lv[switcher.Green].Status)
	}

	// The same fault, undone with rollback this time.
	if r := e.run("retire"); r.code != ExitOK {
		t.Fatalf("retire: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	e.killAfterSwitch("v3")
	if got := e.served(); got != "green v3" {
		t.Fatalf("after the second kill served %q", got)
	}
	if r := e.run("rollback"); r.code != ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := e.served(); got != "blue v2" {
		t.Fatalf("after rollback served %q, want blue v2", got)
	}
	lv = e.live()
	if lv[switcher.Blue].Status != state.Active || lv[switcher.Green] != nil {
		t.Fatalf("after rollback: %+v", lv)
	}
	r = e.run("status")
	if r.code != ExitOK || !strings.Contains(r.stdout, "traffic: blue (load balancer)") || !strings.Contains(r.stdout, "blue   v2") {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestContractCommand: contract is refused (exit 1) while the old color is
// the rollback target and runs after retire.
func TestContractCommand(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	if r := e.run("deploy", "--version", "v1"); r.code != ExitOK {
		t.Fatalf("deploy v1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	e.migration("0002_drop_legacy.sql", "ALTER TABLE items DROP COLUMN legacy;\n")
	before := e.blue.App.State().Deploys
	r := e.run("deploy", "--version", "v2", "--dry-run")
	for _, want := range []string{"traffic on green (load balancer); version v2 would go onto blue", "contract migrations left for later (1)", "--version v2", "confidence window: 500ms"} {
		if r.code != ExitOK || !strings.Contains(r.stdout, want) {
			t.Fatalf("deploy --dry-run: exit %d, no %q in\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	if e.blue.App.State().Deploys != before || e.live()[switcher.Blue] != nil {
		t.Fatal("deploy --dry-run changed something")
	}
	r = e.run("deploy", "--version", "v2")
	if r.code != ExitOK {
		t.Fatalf("deploy v2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("deploy v2:\n%s", r.stdout)
	for _, step := range []string{"plan", "expand", "deploy-hook", "readiness", "smoke", "warm-up", "gate", "switch", "confidence", "drain"} {
		if !strings.Contains(r.stdout, " "+step+" ") {
			t.Errorf("no line for step %s in:\n%s", step, r.stdout)
		}
	}
	if r := e.run("deploy", "--version", "v3", "--dry-run"); r.code != ExitFindings || !strings.Contains(r.stdout, `would be refused: green holds version "v1", the rollback target`) {
		t.Fatalf("deploy --dry-run onto the rollback target: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = e.run("contract")
	if r.code != ExitFindings || !strings.Contains(r.stderr, "rollback target") {
		t.Fatalf("contract during the window: exit %d %s", r.code, r.stderr)
	}
	if r := e.run("contract", "--force"); r.code != ExitUsage {
		t.Fatalf("--force without --reason: exit %d", r.code)
	}
	gateArgs := []string{"gate", "--stage", "pre-contract", "--dir", filepath.Join(e.dir, "migrations"), "--dsn", e.dbURL, "--dev-url", e.dbURL, "--service", "shop"}
	if r := run(t, "", gateArgs...); r.code != ExitFindings || !strings.Contains(r.stdout, `block rollback-target     contract migration 0002 (`) || !strings.Contains(r.stdout, `waits: green (v1, deployment 1, schema 0001) is the rollback target until`) {
		t.Fatalf("gate pre-contract during the window: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("retire"); r.code != ExitOK || !strings.Contains(r.stdout, "retired") {
		t.Fatalf("retire: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, "", gateArgs...); r.code != ExitOK || !strings.Contains(r.stdout, "pass  rollback-target") {
		t.Fatalf("gate pre-contract after retire: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := e.green.App.State(); !st.Stopped {
		t.Fatalf("green after retire: %+v, want stopped by its scale-down hook", st)
	}
	if r := e.run("contract"); r.code != ExitOK || !strings.Contains(r.stdout, "0002_drop_legacy.sql") {
		t.Fatalf("contract after retire: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = e.run("status")
	if !strings.Contains(r.stdout, "pending contract (0)") {
		t.Fatalf("status:\n%s", r.stdout)
	}
	t.Logf("status:\n%s", r.stdout)
}

// TestDeployNeedsConfig: without a deploy: section the commands say so.
func TestDeployNeedsConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".bgmigrate.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "deploy", "--version", "v1", "--config", cfg)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "no deploy: section") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, "", "deploy", "--config", cfg); r.code != ExitUsage || !strings.Contains(r.stderr, "--version is required") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, "", "deploy", "--version", "v1", "--steps", "10,x", "--config", cfg); r.code != ExitUsage {
		t.Fatalf("bad steps: exit %d: %s", r.code, r.stderr)
	}
}

// TestDeployBadSwitcher: a switcher that cannot be opened stops the deploy
// before anything changes, with a clear error and exit status 1.
func TestDeployBadSwitcher(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(cfg), e.lb.Switcher, "haproxy:///nonexistent/admin.sock?map=/etc/haproxy/color.map&key=app", 1)
	if err := os.WriteFile(e.config, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run("deploy", "--version", "v1")
	if r.code != ExitFindings || !strings.Contains(r.stderr, "open the switcher (deploy.switcher)") || !strings.Contains(r.stderr, "traffic was not touched") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("%s", r.stderr)
	if got := e.served(); got != "blue v0" {
		t.Fatalf("served %q", got)
	}
	if st := e.green.App.State(); st.Deploys != 0 {
		t.Fatalf("the deploy hook ran: %+v", st)
	}
}
