package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/testapp"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

// usersApp makes the colors a users service: v1 reads and writes
// users.name, v2 and later users.full_name (the rename done the
// expand/contract way). A color whose column is gone answers 503, health
// check included.
func usersApp(e *deployEnv, app *testapp.Options) {
	e.migration("0001_users.sql", "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);\n")
	var mu sync.Mutex
	var conn *pgx.Conn
	e.t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if conn != nil {
			conn.Close(context.Background())
		}
	})
	app.Check = func(version string) error {
		col := "full_name"
		if version == "v0" || version == "v1" {
			col = "name"
		}
		mu.Lock()
		defer mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if conn == nil || conn.IsClosed() {
			var err error
			if conn, err = pgx.Connect(ctx, e.dbURL); err != nil {
				return err
			}
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO users (%s) VALUES ('probe')", col)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, fmt.Sprintf("SELECT %s FROM users LIMIT 1", col))
			return err
		})
	}
}

func (e *deployEnv) mustRun(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != ExitOK {
		e.t.Fatalf("bgmigrate %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (e *deployEnv) columnExists(table, col string) bool {
	e.t.Helper()
	conn, err := pgx.Connect(e.t.Context(), e.dbURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(e.t.Context(), `SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = $1 AND column_name = $2)`, table, col).Scan(&ok); err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *deployEnv) status() deploy.Report {
	e.t.Helper()
	r := e.mustRun("status", "--format", "json")
	var rep deploy.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		e.t.Fatalf("status: %v\n%s", err, r.stdout)
	}
	return rep
}

// TestContractAfterRollbackKeepsTheColumn is the sequence a new user ran:
// v1 uses users.name, v2 renames it the expand/contract way, v2 is rolled
// back, and contract must not drop users.name under the live v1. Only the
// contract migrations of the release that is live run; later ones wait,
// named.
func TestContractAfterRollbackKeepsTheColumn(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t, usersApp)
	e.mustRun("deploy", "--version", "v1")
	e.migration("0002_add_full_name.sql", "ALTER TABLE users ADD COLUMN full_name text;\n")
	e.migration("0003_drop_name.sql", "ALTER TABLE users DROP COLUMN name;\n")
	e.mustRun("deploy", "--version", "v2")
	if got := e.served(); got != "blue v2" {
		t.Fatalf("served %q after deploying v2", got)
	}
	e.mustRun("rollback")
	if got := e.served(); got != "green v1" {
		t.Fatalf("served %q after the rollback", got)
	}

	r := e.run("contract")
	if r.code != ExitFindings || !strings.Contains(r.stderr, "its release v2 (deployment 2) was rolled back") || !strings.Contains(r.stderr, "green (v1, deployment 1) takes traffic with schema 0001, which still needs what it removes") {
		t.Fatalf("contract after the rollback: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !e.columnExists("users", "name") {
		t.Fatal("users.name was dropped under the live v1")
	}
	if status, body := e.lb.Get(t, "/"); status != 200 {
		t.Fatalf("v1 through the load balancer: %d %s", status, body)
	}
	text := e.mustRun("status").stdout
	for _, want := range []string{"0003_drop_name.sql  waits: its release v2 (deployment 2) was rolled back", "contract: waiting: its release v2"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
	if rep := e.status(); rep.ContractAllowed || rep.Decisions["contract"].Allow {
		t.Errorf("status --format json allows the contract: %+v", rep.Decisions)
	}
	// migrate contract follows the same rule.
	if r := e.run("migrate", "contract"); r.code != ExitFindings || !strings.Contains(r.stderr, "was rolled back") {
		t.Fatalf("migrate contract after the rollback: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// v2 again, green retired: 0003 runs; a contract of a release no
	// color runs waits, named.
	e.mustRun("deploy", "--version", "v2")
	e.migration("0004_drop_legacy.sql", "ALTER TABLE users DROP COLUMN full_name;\n")
	if r := e.run("contract"); r.code != ExitFindings || !strings.Contains(r.stderr, "is the rollback target until") {
		t.Fatalf("contract while v1 stands by: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	e.mustRun("retire")
	r = e.mustRun("contract")
	if !strings.Contains(r.stdout, "0003_drop_name.sql") || !strings.Contains(r.stdout, "0004_drop_legacy.sql waits: 0004 belongs to a release no color runs yet") {
		t.Fatalf("contract after retire:\n%s", r.stdout)
	}
	if e.columnExists("users", "name") || !e.columnExists("users", "full_name") {
		t.Fatal("contract applied the wrong migrations")
	}
	if status, body := e.lb.Get(t, "/"); status != 200 || !strings.Contains(body, "blue v2") {
		t.Fatalf("v2 after the contract: %d %s", status, body)
	}
}

// killAt starts bgmigrate as a process of its own, waits for it to reach
// the failpoint and kills it (SIGKILL) there.
func (e *deployEnv) killAt(failpoint string, args ...string) {
	e.t.Helper()
	cmd, stderr, stdout := e.start([]string{failpointEnv + "=" + failpoint}, args...)
	reached := make(chan bool, 1)
	go func() {
		for stderr.Scan() {
			if strings.Contains(stderr.Text(), "failpoint "+failpoint) {
				reached <- true
				return
			}
		}
		reached <- false
	}()
	select {
	case ok := <-reached:
		if !ok {
			cmd.Wait()
			e.t.Fatalf("bgmigrate %s ended before %s:\n%s", strings.Join(args, " "), failpoint, stdout.String())
		}
	case <-time.After(2 * time.Minute):
		e.t.Fatalf("bgmigrate %s did not reach %s", strings.Join(args, " "), failpoint)
	}
	if err := cmd.Process.Kill(); err != nil {
		e.t.Fatal(err)
	}
	cmd.Wait()
}

// TestRollbackKilledAfterSwitchIsFinished: a rollback killed right after
// the load balancer took the change is named by status, and a rerun of
// rollback finishes that rollback instead of sending traffic back to the
// color it left.
func TestRollbackKilledAfterSwitchIsFinished(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	e.mustRun("deploy", "--version", "v1")
	e.mustRun("deploy", "--version", "v2")
	e.killAt("rollback:after-switch", "rollback")
	if got := e.served(); got != "green v1" {
		t.Fatalf("after the kill served %q, want green v1", got)
	}
	rep := e.status()
	if rep.Interrupted == nil || rep.Interrupted.Action != "rollback" || !strings.Contains(strings.Join(rep.Attention, "\n"), "rollback was interrupted") ||
		!strings.Contains(rep.Interrupted.Recovery, "run bgmigrate rollback to finish it") {
		t.Fatalf("status after the kill: %+v", rep)
	}
	if r := e.run("deploy", "--version", "v3"); r.code != ExitFindings || !strings.Contains(r.stderr, "rollback was interrupted") {
		t.Fatalf("deploy over the interrupted rollback: exit %d %s", r.code, r.stderr)
	}
	e.mustRun("rollback")
	if got := e.served(); got != "green v1" {
		t.Fatalf("after the rerun served %q, want green v1 still", got)
	}
	lv := e.live()
	if lv[switcher.Green] == nil || lv[switcher.Green].Status != state.Active || lv[switcher.Blue] != nil {
		t.Fatalf("record after the rerun: %+v", lv)
	}
	if rep := e.status(); rep.Interrupted != nil || rep.Active != switcher.Green {
		t.Fatalf("status after the rerun: %+v", rep)
	}
}

// TestDeployKilledInConfidenceIsResumed: a deploy killed inside its
// confidence window is named by status; deploy --resume watches the
// window again and drains the old color into standby.
func TestDeployKilledInConfidenceIsResumed(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	e.mustRun("deploy", "--version", "v1")
	e.killAt("confidence:after-first-probe", "deploy", "--version", "v2")
	lv := e.live()
	if lv[switcher.Blue].Status != state.Active || lv[switcher.Green].Status != state.Draining {
		t.Fatalf("record after the kill: blue %s, green %s", lv[switcher.Blue].Status, lv[switcher.Green].Status)
	}
	rep := e.status()
	if rep.Interrupted == nil || rep.Interrupted.Step != "confidence" || !strings.Contains(rep.Unfinished, "deploy --resume") {
		t.Fatalf("status after the kill: %+v", rep)
	}
	if rep.Decisions["contract"].Allow || rep.Decisions["deploy"].Allow {
		t.Fatalf("status allows a contract or a deploy over the interrupted one: %+v", rep.Decisions)
	}
	r := e.mustRun("deploy", "--resume")
	for _, want := range []string{"ok      confidence", "ok      drain"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("deploy --resume did not run %q:\n%s", want, r.stdout)
		}
	}
	lv = e.live()
	if lv[switcher.Blue].Status != state.Active || lv[switcher.Green].Status != state.Standby {
		t.Fatalf("record after --resume: blue %s, green %s", lv[switcher.Blue].Status, lv[switcher.Green].Status)
	}
	if rep := e.status(); rep.Interrupted != nil || rep.RollbackTarget != switcher.Green {
		t.Fatalf("status after --resume: %+v", rep)
	}
}

// TestDeployKilledInGateLeavesNoScratchDatabase: the scratch database of
// a deploy killed while it replays is dropped by the next replay.
func TestDeployKilledInGateLeavesNoScratchDatabase(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	scratch := func() []string {
		conn, err := pgx.Connect(t.Context(), e.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		rows, err := conn.Query(t.Context(), `SELECT datname FROM pg_database WHERE datname LIKE 'bgmigrate_gate_%' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	before := scratch() // other tests of the package share the server
	e.killAt("gate:scratch-created", "deploy", "--version", "v1")
	after := scratch()
	var left string
	for _, n := range after {
		found := false
		for _, b := range before {
			found = found || b == n
		}
		if !found {
			left = n
		}
	}
	if left == "" {
		t.Fatalf("no scratch database left by the killed deploy: before %v, after %v", before, after)
	}
	e.mustRun("deploy", "--version", "v1")
	for _, n := range scratch() {
		if n == left {
			t.Fatalf("%s is still there after the next deploy", left)
		}
	}
}

// TestUnreadableLoadBalancer: a load balancer that cannot be read refuses
// every command that would change something, with the reason, and status
// says what it could not read; nothing panics.
func TestUnreadableLoadBalancer(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	pid := filepath.Join(t.TempDir(), "missing.pid")
	for _, sw := range []string{
		"etcd://127.0.0.1:1/bgmigrate/shop/active",
		"caddy://127.0.0.1:1/id/app_upstream?blue=" + e.blue.Addr + "&green=" + e.green.Addr,
		"nginx://" + filepath.Join(t.TempDir(), "upstream.conf") + "?upstream=app&blue=" + e.blue.Addr + "&green=" + e.green.Addr + "&pid=" + pid,
	} {
		bad := strings.Replace(string(cfg), e.lb.Switcher, sw, 1)
		if err := os.WriteFile(e.config, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		cmds := [][]string{{"deploy", "--version", "v1"}, {"deploy", "--resume"}, {"rollback"}, {"switch", "--to", "green"}, {"retire"}, {"contract"}}
		if strings.HasPrefix(sw, "etcd:") {
			cmds = cmds[:1] // each waits for the client's 5 s timeout
		}
		for _, args := range cmds {
			r := e.run(args...)
			if r.code != ExitFindings || !strings.Contains(r.stderr, "the load balancer cannot be read") || strings.Contains(r.stderr, "panic") {
				t.Errorf("%s with %s: exit %d\n%s%s", strings.Join(args, " "), sw, r.code, r.stdout, r.stderr)
			}
		}
		r := e.run("status")
		if r.code != ExitOK || !strings.Contains(r.stdout, "traffic: unknown, the load balancer did not answer") {
			t.Errorf("status with %s: exit %d\n%s%s", sw, r.code, r.stdout, r.stderr)
		}
	}
	if st := e.green.App.State(); st.Deploys != 0 {
		t.Fatalf("a deploy hook ran: %+v", st)
	}
}

// TestConfigurationDrivesEveryCommand: migrate, plan and gate read the
// migrations directory, the database and the rules of .bgmigrate.yaml,
// and lint the way bgmigrate lint does (a rule disabled there does not
// stop migrate).
func TestConfigurationDrivesEveryCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := pgtest.DB(t)
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"db/001_users.sql": "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);\n",
		// require-concurrent-index-creation is an error by default.
		"db/002_index.sql": "CREATE INDEX users_email_idx ON users (email);\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(extra string) string {
		p := filepath.Join(dir, ".bgmigrate.yaml")
		body := "version: 1\nrunner: bgmigrate\nmigrations:\n  - dir: db\n" + extra
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := write("")
	env := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}
	runCfg := func(args ...string) result {
		var out, errOut strings.Builder
		code := execute(append(args, "--config", cfg), strings.NewReader(""), &out, &errOut, env)
		return result{code, out.String(), errOut.String()}
	}
	if r := runCfg("migrate", "expand"); r.code != ExitFindings || !strings.Contains(r.stderr, "require-concurrent-index-creation") {
		t.Fatalf("migrate with the rule on: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cfg = write("rules:\n  disable: [require-concurrent-index-creation]\n")
	if r := runCfg("migrate", "expand"); r.code != ExitOK || !strings.Contains(r.stdout, "2 migrations applied") {
		t.Fatalf("migrate with the rule disabled in the configuration: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCfg("plan"); r.code != ExitOK || !strings.Contains(r.stdout, "(nothing)") {
		t.Fatalf("plan from the configuration: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCfg("gate", "--old-version", "002"); r.code != ExitOK || !strings.Contains(r.stdout, "allow") {
		t.Fatalf("gate from the configuration (its dev database defaults to the database): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An excluded file is left out the same way.
	cfg = write("rules:\n  disable: [require-concurrent-index-creation]\nexclude: [\"db/003_*.sql\"]\n")
	if err := os.WriteFile(filepath.Join(dir, "db", "003_broken.sql"), []byte("ALTER TABLE users RENAME COLUMN email TO mail;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCfg("migrate", "all"); r.code != ExitOK {
		t.Fatalf("migrate with an excluded breaking file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
