package deploy_test

// The model-based test of the one invariant: seeded random sequences of
// operations (deploys that succeed or fail their readiness, smoke checks,
// gate or confidence window, rollbacks, switches, retires, contracts,
// forced contracts, migrate runs) and of kills at random failpoints
// followed by status and a recovery, against a real PostgreSQL and a real
// HAProxy in front of two colors of the test app, whose code needs the
// columns of its release. After every operation the invariants are checked
// against the database and the load balancer:
//
//   - every color that takes traffic, or that the decision would let traffic
//     move to (rollback, switch), finds in the live catalog everything its
//     schema version has (the gate's catalog comparison of its replayed
//     schema with the live one), and answers through the load balancer;
//   - traffic is on a color that passed readiness: every answer through
//     HAProxy is 200 from the color the load balancer names;
//   - after reconcile the record agrees with the load balancer (the
//     traffic rule, the running map and its file, the deployment statuses)
//     and status names every interrupted operation;
//   - no migration is recorded twice, or as applied when it was not (the
//     columns the history adds exist, the ones it drops do not);
//   - a contract that is not forced never takes away a rollback target.
//
// BGMIGRATE_MODEL_SEQUENCES, BGMIGRATE_MODEL_OPS and BGMIGRATE_MODEL_SEED
// set the number of sequences (default 200 with CI=true, 24 otherwise), the
// operations in each (default 16) and the first seed; a failure prints its
// seed and the operations that led to it, as a script to add to
// regressions. BGMIGRATE_MODEL_REPLAY=seed:ops runs one sequence again;
// BGMIGRATE_MODEL_VERBOSE=1 logs every sequence; BGMIGRATE_MODEL_SUMMARY
// names a file the counts are written to.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// regressions are sequences the model test found failing, each fixed and
// kept as the script of its operations (the log a failing sequence
// prints); they run first, every time.
var regressions = []struct {
	why    string
	script []string
}{
	{"the first deploy after migrations applied without deployment ids failed its gate: the old color's version could not be told",
		[]string{"world weighted=false drain=0s window=30m0s", "deploy"}},
	{"a manual switch back to the older color standing by was refused by the gate: the new version came before the old one",
		[]string{"world weighted=false drain=0s window=30m0s", "deploy", "prepare", "deploy", "switch green"}},
	{"a contract killed after its migration and run again with nothing left to apply left its operation open",
		[]string{"world weighted=false drain=0s window=30m0s", "prepare", "prepare", "deploy", "kill contract migrate:after-migration rollback"}},
	{"a contract killed after its migration and refused when run again (a later one waits for a pending expand) left its operation open: every command was refused from then on",
		[]string{"world weighted=false drain=0s window=30m0s", "prepare", "prepare", "deploy", "prepare", "kill contract migrate:after-migration rollback"}},
	{"deploy --resume of an interrupted manual switch dereferenced a nil deployment",
		[]string{"world weighted=false drain=0s window=30m0s", "deploy", "deploy", "kill switch:green switch:after-switch resume"}},
	{"rollback of a manual switch killed before the load balancer changed tried to record the standby target as failed and was left open",
		[]string{"world weighted=false drain=10ms window=30m0s", "prepare", "deploy", "migrate-expand", "kill deploy deploy:after-record rollback",
			"kill deploy deploy:after-switch resume", "deploy", "deploy", "kill switch:green gate:scratch-created rollback"}},
	{"the same, short",
		[]string{"world weighted=false drain=0s window=30m0s", "deploy", "deploy", "kill switch:green gate:scratch-created rollback"}},
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// modelCounts are what a run of the model test did.
type modelCounts struct {
	sequences, ops, checks, kills, refusals atomic.Int64
	byOp                                    sync.Map // op name → *atomic.Int64
}

func (c *modelCounts) op(name string) {
	v, _ := c.byOp.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func TestModel(t *testing.T) {
	t.Parallel()
	sequences := envInt("BGMIGRATE_MODEL_SEQUENCES", map[bool]int{true: 200, false: 24}[pgtest.InCI()])
	opsPer := envInt("BGMIGRATE_MODEL_OPS", 16)
	first := uint64(envInt("BGMIGRATE_MODEL_SEED", 1))
	type job struct {
		name   string
		seed   uint64
		ops    int
		script []string
	}
	var jobs []job
	for i, r := range regressions {
		// Seeds apart from the random sequences': a world's seed names its
		// sessions.
		jobs = append(jobs, job{name: fmt.Sprintf("regression%d", i+1), seed: 1<<40 + uint64(i), script: r.script})
	}
	if rp := os.Getenv("BGMIGRATE_MODEL_REPLAY"); rp != "" {
		seed, ops, _ := strings.Cut(rp, ":")
		s, _ := strconv.ParseUint(seed, 10, 64)
		n, _ := strconv.Atoi(ops)
		jobs = []job{{name: fmt.Sprintf("seed%d", s), seed: s, ops: max(n, 1)}}
	} else {
		for i := 0; i < sequences; i++ {
			s := first + uint64(i)
			jobs = append(jobs, job{name: fmt.Sprintf("seed%d", s), seed: s, ops: opsPer})
		}
	}
	var counts modelCounts
	start := time.Now()
	work := make(chan job)
	var wg sync.WaitGroup
	workers := envInt("BGMIGRATE_MODEL_WORKERS", 6)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				t.Run(j.name, func(t *testing.T) { runSequence(t, j.seed, j.ops, j.script, &counts) })
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	var ops []string
	counts.byOp.Range(func(k, v any) bool {
		ops = append(ops, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(ops)
	summary := fmt.Sprintf("model: %d sequences (%d regressions), %d operations (%d kills, %d refusals), %d invariant checks in %s; operations: %s",
		counts.sequences.Load(), len(regressions), counts.ops.Load(), counts.kills.Load(), counts.refusals.Load(), counts.checks.Load(),
		time.Since(start).Round(time.Second), strings.Join(ops, ", "))
	t.Log(summary)
	if p := os.Getenv("BGMIGRATE_MODEL_SUMMARY"); p != "" {
		// .ci/run prints it: go test shows a passing test's log only with -v.
		if err := os.WriteFile(p, []byte(summary+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// world is one sequence's service: its database, migrations, two colors
// of the test app behind a real HAProxy, and what the model knows.
type world struct {
	t        *testing.T
	seed     uint64
	rng      *rand.Rand
	counts   *modelCounts
	dbURL    string
	adminURL string
	conn     *pgx.Conn
	pool     *pgxpool.Pool
	dir      string
	blue     *testapp.Instance
	green    *testapp.Instance
	lb       *lbtest.LB
	cfg      *config.Deploy
	weighted bool
	steps    []int
	// released is the newest release whose migrations are in the
	// directory; files the migration files written so far.
	released int
	files    int
	redeploy int
	// cats are the catalogs replayed for each number of migrations.
	cats map[int]*gate.Catalog
	log  []string
	proc int
	// scratch are scratch databases seen left by a killed replay.
	scratch []string
	// script are the operations run, as next wrote them (with the world's
	// setup first), to replay them as a regression.
	script []string
}

// note records an operation of the script, and what came of it in the
// log.
func (w *world) note(op, outcome string) {
	w.script = append(w.script, op)
	if outcome != "" {
		op += ": " + outcome
	}
	w.log = append(w.log, op)
}

var releaseRe = regexp.MustCompile(`^v(\d+)`)

// columns returns what the code of version uses: release k reads and
// writes c(k-1) and c(k); v0 (the code from before bgmigrate) c0.
func columns(version string) []string {
	m := releaseRe.FindStringSubmatch(version)
	if m == nil {
		return []string{"c0"}
	}
	k, _ := strconv.Atoi(m[1])
	if k == 0 {
		return []string{"c0"}
	}
	return []string{fmt.Sprintf("c%d", k-1), fmt.Sprintf("c%d", k)}
}

// runSequence runs nops random operations from seed, or the operations
// of script (its first line sets up the world).
func runSequence(t *testing.T, seed uint64, nops int, script []string, counts *modelCounts) {
	setup := ""
	if len(script) > 0 {
		setup, script, nops = script[0], script[1:], len(script)-1
	}
	w := newWorld(t, seed, setup, counts)
	counts.sequences.Add(1)
	defer func() {
		if os.Getenv("BGMIGRATE_MODEL_VERBOSE") != "" && !t.Failed() {
			t.Logf("seed %d:\n  %s", seed, strings.Join(w.log, "\n  "))
		}
		if t.Failed() {
			var q []string
			for _, l := range w.script {
				q = append(q, strconv.Quote(l))
			}
			t.Logf("seed %d failed after:\n  %s\nas a regression script: {%s}\nreplay: BGMIGRATE_MODEL_REPLAY=%d:%d go test ./deploy -run 'TestModel/seed%d$' -v",
				seed, strings.Join(w.log, "\n  "), strings.Join(q, ", "), seed, nops, seed)
		}
	}()
	w.check("start")
	for i := 0; i < nops && !t.Failed(); i++ {
		op := ""
		if i < len(script) {
			op = script[i]
		} else {
			op = w.next()
		}
		w.do(op)
	}
	if !t.Failed() {
		w.finalChecks()
	}
}

// newWorld sets up a sequence's service. setup ("world weighted=… drain=…
// window=…") says how; "" draws it from the seed.
func newWorld(t *testing.T, seed uint64, setup string, counts *modelCounts) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, seed*7919)), counts: counts, dbURL: pgtest.DB(t), adminURL: pgtest.AdminURL(t),
		dir: t.TempDir(), cats: map[int]*gate.Catalog{}}
	var err error
	if w.conn, err = pgx.Connect(ctx, w.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.conn.Close(context.Background()) })
	if w.pool, err = pgxpool.New(ctx, w.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.pool.Close)
	w.write("CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, c0 text);\n", "items")
	// The code from before bgmigrate runs on blue, with the first
	// migration applied.
	migs := w.migrations()
	if _, err := runner.Migrate(ctx, w.conn, migs, runner.Options{Phase: runner.PhaseAll, Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	opts := testapp.Options{DeployDelay: 10 * time.Millisecond, Check: w.appCheck}
	w.blue = testapp.Start(t, "blue", "v0", opts)
	w.green = testapp.Start(t, "green", "v0", opts)
	w.lb = lbtest.HAProxy(t, w.blue.Addr, w.green.Addr)
	drain, rollbackWindow := time.Duration(w.rng.IntN(3))*10*time.Millisecond, 30*time.Minute
	w.weighted = w.rng.IntN(4) == 0
	if w.rng.IntN(5) == 0 {
		rollbackWindow = 0
	}
	if setup != "" {
		for _, f := range strings.Fields(strings.TrimPrefix(setup, "world")) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "weighted":
				w.weighted = v == "true"
			case "drain":
				drain, _ = time.ParseDuration(v)
			case "window":
				rollbackWindow, _ = time.ParseDuration(v)
			}
		}
	}
	w.note(fmt.Sprintf("world weighted=%v drain=%s window=%s", w.weighted, drain, rollbackWindow), "")
	sw := w.lb.Switcher
	if w.weighted {
		sw = w.lb.WeightedSwitcher
		w.steps = []int{50, 100}
	}
	bin := testapp.Binary(t)
	window, pause := 150*time.Millisecond, 60*time.Millisecond
	rate := 0.34
	w.cfg = &config.Deploy{
		Service: "shop", DatabaseURL: w.dbURL, Switcher: sw,
		Blue: config.ColorConfig{URL: w.blue.URL}, Green: config.ColorConfig{URL: w.green.URL},
		Hooks: config.Hooks{
			Deploy:    []string{bin, "deploy", "--admin", "{url}", "--version", "{version}"},
			ScaleDown: []string{bin, "stop", "--admin", "{url}"},
		},
		Readiness:  config.Probe{Path: "/healthz", Interval: 20 * time.Millisecond, Successes: 1, Deadline: 800 * time.Millisecond, Timeout: time.Second},
		Smoke:      []config.Check{{Name: "home", Path: "/", Status: 200}},
		Confidence: config.Confidence{Window: &window, Interval: 30 * time.Millisecond, Path: "/", Probes: 3, MaxErrorRate: &rate},
		Drain:      &drain, StepPause: &pause, RollbackWindow: &rollbackWindow,
		LockTimeout: time.Second,
	}
	deploy.ApplyDefaults(w.cfg)
	return w
}

// appCheck is what the code of a version needs: its columns, read and
// written (in a transaction rolled back).
func (w *world) appCheck(version string) error {
	cols := columns(version)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	vals := make([]string, len(cols))
	for i := range vals {
		vals[i] = "'x'"
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO items (%s) VALUES (%s)", strings.Join(cols, ", "), strings.Join(vals, ", "))); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf("SELECT %s FROM items LIMIT 1", strings.Join(cols, ", ")))
	return err
}

func (w *world) write(sql, name string) {
	w.t.Helper()
	w.files++
	p := filepath.Join(w.dir, fmt.Sprintf("%04d_%s.sql", w.files, name))
	if err := os.WriteFile(p, []byte(sql), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) migrations() []*runner.Migration {
	w.t.Helper()
	migs, err := runner.Load(w.t.Context(), w.dir, rules.Config{PGVersion: 15})
	if err != nil {
		w.t.Fatal(err)
	}
	return migs
}

// prepare writes the next release's migrations: an expand adding its
// column (sometimes with an index built concurrently, so the file runs
// statement by statement) and, from release 2, a contract dropping the
// column only the release before last used.
func (w *world) prepare(index bool) string {
	k := w.released + 1
	sql := fmt.Sprintf("ALTER TABLE items ADD COLUMN c%d text;\n", k)
	if index {
		sql += fmt.Sprintf("CREATE INDEX CONCURRENTLY items_c%d_idx ON items (c%d);\n", k, k)
	}
	w.write(sql, fmt.Sprintf("add_c%d", k))
	desc := fmt.Sprintf("release v%d: add c%d", k, k)
	if k >= 2 {
		w.write(fmt.Sprintf("ALTER TABLE items DROP COLUMN c%d;\n", k-2), fmt.Sprintf("drop_c%d", k-2))
		desc += fmt.Sprintf(", drop c%d (contract)", k-2)
	}
	w.released = k
	return desc
}

// deployer is a Deployer on a connection of its own, as a process of its
// own would have; tag names the process's sessions (application_name),
// so a kill can end all of them.
func (w *world) deployer(tag string) *deploy.Deployer {
	w.t.Helper()
	ctx := w.t.Context()
	cfg := *w.cfg
	cfg.Gate.DevURL = withAppName(w.adminURL, tag)
	c, err := pgx.Connect(ctx, withAppName(w.dbURL, tag))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close(context.Background()) })
	sw, err := switcher.Open(ctx, cfg.Switcher)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { sw.Close() })
	return &deploy.Deployer{Config: &cfg, Conn: c, Switcher: sw, Migrations: w.migrations(), Actor: "model", Report: deploy.Discard,
		Migrate: runner.Options{Retries: 2, Backoff: 50 * time.Millisecond}}
}

func withAppName(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set("application_name", name)
	p.RawQuery = q.Encode()
	return p.String()
}

// ops are the operations a sequence picks from, with their weights.
var ops = []struct {
	name   string
	weight int
}{
	{"prepare", 3}, {"deploy", 6}, {"deploy-never-ready", 1}, {"deploy-broken", 1}, {"deploy-confidence-fails", 1},
	{"deploy-gate-locked", 1}, {"deploy-gate-schema", 1}, {"rollback", 3}, {"switch", 2}, {"retire", 3}, {"retire-color", 1},
	{"contract", 3}, {"contract-forced", 1}, {"migrate-expand", 1}, {"migrate-all", 1}, {"kill", 5},
}

// pick chooses the next operation, leaning towards the ones that move
// the service on from where it is (a sequence that only meets refusals
// reaches few states), while every operation stays possible anywhere.
func (w *world) pick() string {
	weights := map[string]int{}
	for _, o := range ops {
		weights[o.name] = o.weight
	}
	if w.rollbackTarget() != "" {
		for _, n := range []string{"deploy", "deploy-never-ready", "deploy-broken", "deploy-confidence-fails", "deploy-gate-locked", "deploy-gate-schema"} {
			weights[n] = (weights[n] + 2) / 3
		}
		weights["retire"] += 4
		weights["rollback"] += 1
	} else {
		weights["rollback"] = 1
	}
	if w.released <= w.deployedRelease() {
		weights["prepare"] += 3
	}
	total := 0
	for _, o := range ops {
		total += weights[o.name]
	}
	n := w.rng.IntN(total)
	for _, o := range ops {
		if n < weights[o.name] {
			return o.name
		}
		n -= weights[o.name]
	}
	return ops[0].name
}

var colors = []switcher.Color{switcher.Blue, switcher.Green}

// next draws the next operation, written out in full (its arguments
// included), so that a script of them replays the same sequence.
func (w *world) next() string {
	name := w.pick()
	if name == "prepare" && w.released >= w.deployedRelease()+2 {
		name = "deploy"
	}
	switch name {
	case "prepare":
		if w.rng.IntN(2) == 0 {
			return "prepare index"
		}
	case "switch", "retire-color":
		return name + " " + string(colors[w.rng.IntN(2)])
	case "kill":
		return w.nextKill()
	}
	return name
}

// do runs one operation and checks the invariants after it.
func (w *world) do(op string) {
	f := strings.Fields(op)
	name, args := f[0], f[1:]
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	w.counts.ops.Add(1)
	w.counts.op(name)
	ctx := w.t.Context()
	before := w.rollbackTarget()
	lbBefore := w.activeLB()
	histBefore := w.historyText()
	var err error
	outcome := ""
	switch name {
	case "prepare":
		outcome = w.prepare(arg(0) == "index")
	case "deploy":
		err = w.deploy("")
	case "deploy-never-ready", "deploy-broken", "deploy-confidence-fails", "deploy-gate-locked", "deploy-gate-schema":
		err = w.deploy(strings.TrimPrefix(name, "deploy-"))
	case "rollback":
		err = w.deployer(w.tag()).Rollback(ctx)
	case "switch":
		err = w.deployer(w.tag()).Switch(ctx, switcher.Color(arg(0)))
	case "retire":
		err = w.deployer(w.tag()).Retire(ctx, "")
	case "retire-color":
		err = w.deployer(w.tag()).Retire(ctx, switcher.Color(arg(0)))
	case "contract":
		_, err = w.deployer(w.tag()).Contract(ctx, deploy.ContractOptions{})
	case "contract-forced":
		_, err = w.deployer(w.tag()).Contract(ctx, deploy.ContractOptions{Force: true, Reason: "model: forced"})
	case "migrate-expand":
		_, err = runner.Migrate(ctx, w.conn, w.migrations(), runner.Options{Phase: runner.PhaseExpand, Log: io.Discard, Retries: 2, Backoff: 50 * time.Millisecond})
		var lint *runner.LintError
		if errors.As(err, &lint) {
			err = &deploy.RefusedError{Action: "migrate expand", Reason: err.Error()}
		}
	case "migrate-all":
		_, err = w.deployer(w.tag()).Contract(ctx, deploy.ContractOptions{Phase: runner.PhaseAll})
	case "kill":
		outcome = w.kill(arg(0), arg(1), arg(2))
	default:
		w.t.Fatalf("unknown operation %q", op)
	}
	if outcome == "" {
		outcome = errText(err)
	}
	w.note(op, outcome)
	w.judge(name, err)
	if w.t.Failed() {
		return
	}
	var ref *deploy.RefusedError
	if errors.As(err, &ref) {
		w.counts.refusals.Add(1)
		// A refusal changes nothing.
		if got := w.activeLB(); got != lbBefore {
			w.fail("%s was refused but the load balancer moved from %s to %s", name, lbBefore, got)
		}
		if got := w.historyText(); got != histBefore {
			w.fail("%s was refused but the history changed:\n%s\nto\n%s", name, histBefore, got)
		}
	}
	switch name {
	case "deploy-never-ready", "deploy-broken", "deploy-gate-locked", "deploy-gate-schema", "deploy-confidence-fails":
		if err == nil {
			w.fail("%s succeeded", name)
		}
		if got := w.activeLB(); got != lbBefore {
			w.fail("%s failed but traffic moved from %s to %s", name, lbBefore, got)
		}
	case "contract", "migrate-all":
		if after := w.rollbackTarget(); before != "" && after != before {
			w.fail("%s (not forced) took away the rollback target %s (now %q)", name, before, after)
		}
	}
	w.check(op)
}

func (w *world) tag() string {
	w.proc++
	return fmt.Sprintf("bgm-m%d-%d", w.seed, w.proc)
}

// judge fails the sequence on an error no operation may end with: a
// refusal, a failed check of a faulty deploy and a rollback after one are
// outcomes; anything else is a bug.
func (w *world) judge(name string, err error) {
	if err == nil {
		return
	}
	var ref *deploy.RefusedError
	var failed *deploy.FailedError
	var rb *deploy.RolledBackError
	var gerr *deploy.GateError
	switch {
	case errors.As(err, &ref):
	case errors.As(err, &failed), errors.As(err, &rb):
		if name == "deploy" {
			w.fail("a deploy with nothing wrong failed: %v", err)
		}
	case errors.As(err, &gerr) && name == "switch":
	default:
		w.fail("%s: unexpected error: %v", name, err)
	}
}

func (w *world) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Errorf(format, args...)
}

// deployedRelease is the newest release a deployment of the service ran.
func (w *world) deployedRelease() int {
	best := 0
	deps, err := state.List(w.t.Context(), w.conn, "shop")
	if err != nil {
		return 0
	}
	for _, d := range deps {
		if m := releaseRe.FindStringSubmatch(d.Version); m != nil && d.Status != state.Failed {
			if k, _ := strconv.Atoi(m[1]); k > best {
				best = k
			}
		}
	}
	return best
}

// deploy deploys the newest release, with a fault: "" none, never-ready,
// broken (fails its smoke check), confidence-fails (breaks once it has the
// traffic), gate-locked (another run holds the migration lock),
// gate-schema (an expand that removes what the old color uses).
func (w *world) deploy(fault string) error {
	ctx := w.t.Context()
	k := w.released
	w.redeploy++
	version := fmt.Sprintf("v%d.%d", k, w.redeploy)
	switch fault {
	case "never-ready":
		version += "-never-ready"
	case "broken":
		version += "-broken"
	}
	d := w.deployer(w.tag())
	// A color rolled out again starts from a clean app.
	if idle := w.idleApp(); idle != nil && idle.App.State().FailStatus != 0 && w.liveOn(idle.App.State().Color) == nil {
		idle.App.Fail(0)
	}
	switch fault {
	case "confidence-fails":
		target := w.idleApp()
		d.Report = reporterFunc(func(e deploy.Event) {
			if e.Step == "switch" && e.Outcome == deploy.OK && target != nil && e.Fields["percent"] == nil {
				target.App.Fail(500)
			}
		})
		defer func() {
			if target != nil && w.liveOn(target.App.State().Color) == nil {
				target.App.Fail(0)
			}
		}()
	case "gate-locked":
		lock, err := pgx.Connect(ctx, w.dbURL)
		if err != nil {
			w.t.Fatal(err)
		}
		defer lock.Close(context.Background())
		if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock($1)`, runner.LockKey); err != nil {
			w.t.Fatal(err)
		}
	case "gate-schema":
		// An expand the author marked as such that drops what the color
		// taking traffic uses: the plan must refuse it before anything
		// changes. The file is removed again after.
		cols := w.servingColumns()
		p := filepath.Join(w.dir, fmt.Sprintf("%04d_bad.sql", w.files+1))
		body := fmt.Sprintf("-- bgmigrate:phase expand -- the old color does not need it (wrong)\nALTER TABLE items DROP COLUMN %s;\n", cols[len(cols)-1])
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			w.t.Fatal(err)
		}
		defer os.Remove(p)
		d.Migrations = w.migrations()
	}
	err := d.Deploy(ctx, deploy.DeployOptions{Version: version, Steps: w.steps})
	if fault == "" && err == nil {
		if want := w.liveOn(string(w.activeColor())); want == nil || want.Version != version {
			w.fail("deploy of %s succeeded but the load balancer sends traffic to %s", version, w.activeLB())
		}
	}
	return err
}

type reporterFunc func(deploy.Event)

func (f reporterFunc) Event(e deploy.Event) { f(e) }

func (w *world) idleApp() *testapp.Instance {
	if w.activeColor() == switcher.Blue {
		return w.green
	}
	return w.blue
}

// servingColumns are the columns the code taking traffic uses.
func (w *world) servingColumns() []string {
	if d := w.liveOn(string(w.activeColor())); d != nil {
		return columns(d.Version)
	}
	return columns("v0")
}

func (w *world) liveOn(color string) *state.Deployment {
	lv, err := state.Live(w.t.Context(), w.conn, "shop")
	if err != nil {
		return nil
	}
	return lv[switcher.Color(color)]
}

// killTargets are the commands a kill stops, with the points each may
// stop at.
var killTargets = []struct {
	cmd    string
	points []string
}{
	{"deploy", []string{"deploy:after-begin", "deploy:after-switch", "deploy:after-record", "confidence:after-first-probe",
		"drain:before-standby", "gate:scratch-created", "migrate:after-migration", "migrate:after-unit", "migrate:after-statement",
		"deploy:before:expand", "deploy:before:deploy-hook", "deploy:before:readiness", "deploy:before:gate", "deploy:before:switch",
		"deploy:before:confidence", "deploy:before:drain", "rollback:after-switch", "deploy:in-steps"}},
	{"rollback", []string{"rollback:after-intent", "rollback:after-switch"}},
	{"switch", []string{"switch:after-switch", "drain:before-standby", "gate:scratch-created"}},
	{"retire", []string{"retire:after-record"}},
	{"contract", []string{"contract:after-intent", "migrate:after-migration", "migrate:after-unit", "retire:after-record"}},
}

// nextKill draws a kill: a command the decision allows now (deploys most
// often: they have the most points to stop at), a point to stop it at,
// and the recovery to try first.
func (w *world) nextKill() string {
	f := w.facts()
	var pool []string
	for _, tg := range killTargets {
		switch tg.cmd {
		case "deploy":
			if v := gate.Decide(f, gate.Action{Kind: gate.Deploy, Version: "next", Steps: w.steps}); v.Allow || f.State == nil {
				pool = append(pool, "deploy", "deploy", "deploy", "deploy")
			}
		case "rollback":
			if v := gate.Decide(f, gate.Action{Kind: gate.Rollback}); v.Allow && !v.Abandon {
				pool = append(pool, "rollback")
			}
		case "switch":
			for _, c := range colors {
				if v := gate.Decide(f, gate.Action{Kind: gate.Switch, Color: string(c)}); v.Allow && !v.Noop {
					pool = append(pool, "switch:"+string(c))
				}
			}
		case "retire":
			if v := gate.Decide(f, gate.Action{Kind: gate.Retire}); v.Allow && !v.Noop {
				pool = append(pool, "retire")
			}
		case "contract":
			if v := gate.Decide(f, gate.Action{Kind: gate.Contract}); v.Allow && len(v.Run) > 0 {
				pool = append(pool, "contract")
			}
		}
	}
	if len(pool) == 0 {
		pool = []string{"deploy"}
	}
	cmd := pool[w.rng.IntN(len(pool))]
	base, _, _ := strings.Cut(cmd, ":")
	var points []string
	for _, tg := range killTargets {
		if tg.cmd == base {
			points = tg.points
		}
	}
	if base == "deploy" && !w.weighted {
		points = points[:len(points)-1] // no steps
	}
	point := points[w.rng.IntN(len(points))]
	return fmt.Sprintf("kill %s %s %s", cmd, point, []string{"resume", "rollback"}[w.rng.IntN(2)])
}

// kill runs cmd ("deploy", "rollback", "switch:COLOR", "retire",
// "contract") and stops it dead at the failpoint, as a killed process
// stops; then status must name what was interrupted, and a recovery
// (first, then the command the interrupted operation calls for) must
// finish it.
func (w *world) kill(cmd, point, first string) string {
	ctx := w.t.Context()
	tag := w.tag()
	d := w.deployer(tag)
	before := w.scratchDatabases()
	run := func() error {
		base, color, _ := strings.Cut(cmd, ":")
		switch base {
		case "deploy":
			w.redeploy++
			return d.Deploy(ctx, deploy.DeployOptions{Version: fmt.Sprintf("v%d.%d", w.released, w.redeploy), Steps: w.steps})
		case "rollback":
			return d.Rollback(ctx)
		case "switch":
			return d.Switch(ctx, switcher.Color(color))
		case "retire":
			return d.Retire(ctx, "")
		}
		_, err := d.Contract(ctx, deploy.ContractOptions{})
		return err
	}
	reached, err := killAt(d, w.adminURL, tag, point, run)
	if !reached {
		var ref *deploy.RefusedError
		var failed *deploy.FailedError
		var gerr *deploy.GateError
		if err != nil && !errors.As(err, &ref) && !errors.As(err, &failed) && !errors.As(err, &gerr) {
			w.fail("%s: unexpected error: %v", cmd, err)
		}
		return fmt.Sprintf("ran past %s (not reached): %s", point, errText(err))
	}
	w.counts.kills.Add(1)
	if point == "gate:scratch-created" {
		for _, n := range w.scratchDatabases() {
			if !contains(before, n) {
				w.scratch = append(w.scratch, n)
			}
		}
	}
	// The state a kill leaves must already be safe, and named.
	w.check(fmt.Sprintf("%s killed at %s", cmd, point))
	op, err := state.OpenOperation(ctx, w.conn, "shop")
	if err != nil {
		w.t.Fatal(err)
	}
	if op == nil {
		return "killed; nothing left open"
	}
	steps := []string{first}
	switch op.Action {
	case gate.OpRollback:
		steps = append(steps, "rollback")
	case gate.OpSwitch:
		steps = append(steps, "switch "+string(op.To))
	case gate.OpRetire:
		steps = append(steps, "retire")
	case gate.OpContract:
		steps = append(steps, "contract")
	case gate.OpDeploy:
		steps = append(steps, "resume", "rollback")
	}
	var done []string
	for _, s := range steps {
		rd := w.deployer(w.tag())
		var err error
		switch {
		case s == "resume":
			err = rd.Deploy(ctx, deploy.DeployOptions{Resume: true, Steps: w.steps})
		case s == "rollback":
			err = rd.Rollback(ctx)
		case strings.HasPrefix(s, "switch "):
			err = rd.Switch(ctx, switcher.Color(strings.TrimPrefix(s, "switch ")))
		case s == "retire":
			err = rd.Retire(ctx, "")
		case s == "contract":
			_, err = rd.Contract(ctx, deploy.ContractOptions{})
		}
		done = append(done, fmt.Sprintf("%s: %s", s, errText(err)))
		var ref *deploy.RefusedError
		var rb *deploy.RolledBackError
		var failed *deploy.FailedError
		var gerr *deploy.GateError
		if err != nil && !errors.As(err, &ref) && !errors.As(err, &rb) && !errors.As(err, &failed) && !errors.As(err, &gerr) {
			w.fail("recovery %s after %s killed at %s: unexpected error: %v", s, cmd, point, err)
			break
		}
		if open, _ := state.OpenOperation(ctx, w.conn, "shop"); open == nil {
			break
		}
	}
	if open, _ := state.OpenOperation(ctx, w.conn, "shop"); open != nil {
		w.fail("after %s killed at %s and the recovery (%s) operation %d (%s, step %s) is still open", cmd, point, strings.Join(done, "; "), open.ID, open.Action, open.Step)
	}
	return "killed; recovery: " + strings.Join(done, "; ")
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// killAt runs fn, a command of d, and stops it dead at the failpoint name
// as a killed process stops: its connection to PostgreSQL is cut, and
// with adminURL every other session of the process (application_name
// tag) is ended by the server, so that its locks go and its open
// transactions roll back; fn never goes on. It reports whether fn reached
// the point, and fn's error when it did not.
func killAt(d *deploy.Deployer, adminURL, tag, name string, fn func() error) (bool, error) {
	hit := make(chan struct{})
	done := make(chan error, 1)
	d.Failpoint = func(n string) {
		if n != name {
			return
		}
		_ = d.Conn.PgConn().Conn().Close()
		if adminURL != "" {
			terminate(adminURL, tag, d.Conn.PgConn().PID())
		}
		close(hit)
		select {} // the process is gone
	}
	go func() { done <- fn() }()
	select {
	case <-hit:
		return true, nil
	case err := <-done:
		return false, err
	}
}

// terminate ends the sessions named tag and waits until they and the
// session pid are gone.
func terminate(adminURL, tag string, pid uint32) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return
	}
	defer admin.Close(context.Background())
	_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, tag)
	for i := 0; i < 100; i++ {
		var n int
		if admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 OR pid = $2`, tag, pid).Scan(&n) == nil && n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *world) scratchDatabases() []string {
	rows, err := w.conn.Query(w.t.Context(), `SELECT datname FROM pg_database WHERE datname LIKE 'bgmigrate_gate_%'`)
	if err != nil {
		w.t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		w.t.Fatal(err)
	}
	return names
}

func (w *world) activeColor() switcher.Color {
	sw, err := switcher.Open(w.t.Context(), w.cfg.Switcher)
	if err != nil {
		w.t.Fatal(err)
	}
	defer sw.Close()
	c, err := sw.Active(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// activeLB describes where the load balancer sends traffic.
func (w *world) activeLB() string {
	sw, err := switcher.Open(w.t.Context(), w.cfg.Switcher)
	if err != nil {
		w.t.Fatal(err)
	}
	defer sw.Close()
	if ws, ok := sw.(switcher.Weighted); ok {
		m, err := ws.Weights(w.t.Context())
		if err != nil {
			w.t.Fatal(err)
		}
		return fmt.Sprintf("blue %d%% green %d%%", m[switcher.Blue], m[switcher.Green])
	}
	c, err := sw.Active(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	return string(c)
}

func (w *world) historyText() string {
	hist, err := runner.History(w.t.Context(), w.conn)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, a := range hist {
		out = append(out, a.Version+":"+a.Phase)
	}
	return strings.Join(out, " ")
}

// facts reads what the decision sees, the traffic as recorded (status has
// just reconciled the record with the load balancer).
func (w *world) facts() gate.Facts {
	ctx := w.t.Context()
	f, _, err := runner.ReadFacts(ctx, w.conn, w.migrations())
	if err != nil {
		w.t.Fatal(err)
	}
	if f.State, err = live.ReadState(ctx, w.conn, "shop"); err != nil {
		w.t.Fatal(err)
	}
	if f.State != nil {
		f.State.RollbackWindow = *w.cfg.RollbackWindow
	}
	return f
}

// rollbackTarget names the deployment traffic can go back to, "" if none.
func (w *world) rollbackTarget() string {
	f := w.facts()
	if f.State == nil || f.State.Operation != nil {
		return ""
	}
	v := gate.Decide(f, gate.Action{Kind: gate.Rollback})
	if !v.Allow || v.Abandon || v.Target == nil {
		return ""
	}
	return fmt.Sprintf("%s (deployment %d)", v.Target.Color, v.Target.ID)
}

// catalog returns the schema of the first n migrations, replayed once.
func (w *world) catalog(migs []*runner.Migration, n int) *gate.Catalog {
	w.t.Helper()
	if c, ok := w.cats[n]; ok {
		return c
	}
	var sets [][]int
	var want []int
	for k := 1; k <= len(migs); k++ {
		if _, ok := w.cats[k]; !ok {
			sets = append(sets, live.Prefix(k))
			want = append(want, k)
		}
	}
	cats, err := live.ReplaySets(w.t.Context(), w.adminURL, migs, sets, nil, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, k := range want {
		w.cats[k] = cats[i]
	}
	return w.cats[n]
}

// check runs the invariants.
func (w *world) check(after string) {
	w.t.Helper()
	if w.t.Failed() {
		return
	}
	w.counts.checks.Add(1)
	ctx := w.t.Context()
	fail := func(format string, args ...any) {
		w.t.Helper()
		w.t.Errorf("after %s: %s", after, fmt.Sprintf(format, args...))
	}
	d := w.deployer(w.tag())
	rep, err := d.Status(ctx, 0)
	if err != nil {
		fail("status: %v", err)
		return
	}
	op, err := state.OpenOperation(ctx, w.conn, "shop")
	if err != nil {
		w.t.Fatal(err)
	}
	// Status names every interrupted operation.
	if op != nil && (rep.Interrupted == nil || rep.Interrupted.ID != op.ID || !strings.Contains(strings.Join(rep.Attention, "\n"), "was interrupted")) {
		fail("operation %d (%s) is open but status does not name it: %+v", op.ID, op.Action, rep)
	}
	// The load balancer agrees with itself and with the record.
	lb := w.activeLB()
	if !w.weighted {
		if b, err := os.ReadFile(filepath.Join(w.lb.Dir, "color.map")); err != nil || !strings.Contains(string(b), "app app_"+lb) {
			fail("the map file says %q while HAProxy routes to %s", b, lb)
		}
	}
	rule, err := state.Traffic(ctx, w.conn, "shop")
	if err != nil {
		fail("no traffic recorded after status: %v", err)
		return
	}
	recorded := string(rule.Color)
	if w.weighted {
		blue := rule.Percent
		if rule.Color == switcher.Green {
			blue = 100 - rule.Percent
		}
		recorded = fmt.Sprintf("blue %d%% green %d%%", blue, 100-blue)
	}
	if recorded != lb {
		fail("the record says %s, the load balancer %s", recorded, lb)
	}
	// The deployment statuses agree with the load balancer.
	lv, err := state.Live(ctx, w.conn, "shop")
	if err != nil {
		w.t.Fatal(err)
	}
	active := w.activeColor()
	serving := []switcher.Color{active}
	if w.weighted && strings.Contains(lb, "50%") {
		serving = []switcher.Color{switcher.Blue, switcher.Green}
	}
	if op == nil {
		for c, dep := range lv {
			switch {
			case dep.Status == state.Deploying || dep.Status == state.Ready || dep.Status == state.Draining:
				fail("no operation is open but %s holds deployment %d in status %s", c, dep.ID, dep.Status)
			case dep.Status == state.Active && c != active:
				fail("%s is recorded active but the load balancer sends traffic to %s", c, active)
			}
		}
		if dep := lv[active]; dep != nil && dep.Status != state.Active {
			fail("the load balancer sends traffic to %s, recorded as %s", active, dep.Status)
		}
	}
	// Traffic is on colors that work, as the load balancer names them.
	frontend := w.lb.Frontend
	if w.weighted {
		frontend = w.lb.Weighted
	}
	for i := 0; i < 4; i++ {
		status, color, body := get(frontend + "/")
		if status != 200 || !containsColor(serving, color) {
			fail("GET / through HAProxy: %d from %q (%s), want 200 from %v", status, color, strings.TrimSpace(body), serving)
			return
		}
	}
	// Every color that takes traffic, or that the decision lets traffic
	// move to, finds its schema live.
	migs := w.migrations()
	liveCat, err := live.ReadCatalog(ctx, w.conn, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	f := w.facts()
	colors := map[switcher.Color]string{}
	for _, c := range serving {
		colors[c] = "serves"
	}
	if f.State != nil && op == nil {
		if v := gate.Decide(f, gate.Action{Kind: gate.Rollback}); v.Allow && !v.Abandon {
			colors[switcher.Color(v.TargetColor)] = "is the rollback target"
		}
		for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
			if v := gate.Decide(f, gate.Action{Kind: gate.Switch, Color: string(c)}); v.Allow && !v.Noop {
				colors[c] = "may be switched to"
			}
		}
	}
	pos := map[string]int{}
	for i, m := range migs {
		pos[m.Version] = i + 1
	}
	for c, why := range colors {
		n, version := 1, "v0" // the code from before bgmigrate: the first migration
		if dep := lv[c]; dep != nil {
			n, version = pos[dep.SchemaVersion], dep.Version
		}
		for _, ch := range gate.CompareSchema(string(c), w.catalog(migs, n), liveCat) {
			if ch.Status == gate.Block {
				fail("%s (%s) %s but its schema does not fit the live one: %s", c, version, why, ch.Reason)
			}
		}
		if why != "serves" {
			if err := w.appCheck(version); err != nil {
				fail("%s (%s) %s but its code cannot use the database: %v", c, version, why, err)
			}
		}
	}
	// The history records what ran, once.
	hist, err := runner.History(ctx, w.conn)
	if err != nil {
		w.t.Fatal(err)
	}
	cols := map[string]bool{}
	rows, err := w.conn.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_name = 'items'`)
	if err != nil {
		w.t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		w.t.Fatal(err)
	}
	for _, n := range names {
		cols[n] = true
	}
	seen := map[string]bool{}
	dropped := map[string]bool{}
	for _, a := range hist {
		if seen[a.Version] {
			fail("migration %s is recorded twice", a.Version)
		}
		seen[a.Version] = true
		if strings.Contains(a.Name, "drop_") {
			dropped[strings.TrimPrefix(a.Name, "drop_")] = true
		}
	}
	for _, a := range hist {
		switch {
		case strings.HasPrefix(a.Name, "add_"):
			c := strings.TrimPrefix(a.Name, "add_")
			if !cols[c] && !dropped[c] {
				fail("%s is recorded as applied but column %s does not exist", a.Version, c)
			}
		case strings.HasPrefix(a.Name, "drop_"):
			if c := strings.TrimPrefix(a.Name, "drop_"); cols[c] {
				fail("%s is recorded as applied but column %s still exists", a.Version, c)
			}
		}
	}
}

func containsColor(list []switcher.Color, c string) bool {
	for _, x := range list {
		if string(x) == c {
			return true
		}
	}
	return false
}

var modelClient = &http.Client{Timeout: 10 * time.Second}

func get(u string) (int, string, string) {
	resp, err := modelClient.Get(u)
	if err != nil {
		return 0, "", err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Color"), string(b)
}

// finalChecks: the scratch databases killed replays left are gone once a
// replay ran again.
func (w *world) finalChecks() {
	if len(w.scratch) == 0 {
		return
	}
	if _, err := live.ReplaySets(w.t.Context(), w.adminURL, w.migrations(), [][]int{{0}}, nil, nil); err != nil {
		w.t.Fatal(err)
	}
	for _, n := range w.scratchDatabases() {
		if contains(w.scratch, n) {
			w.fail("scratch database %s, left by a killed replay, is still there", n)
		}
	}
}
