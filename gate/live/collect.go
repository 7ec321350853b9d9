// Package live gathers what the gate decides on: the history, the live
// catalog and sessions, and the catalogs of both colors replayed into a
// throwaway database.
package live

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/bgmigrate/bgmigrate/datacheck"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"

	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/jackc/pgx/v5"
)

// NoVersion as --old-version or --new-version means "before the first
// migration": an empty schema.
const NoVersion = "none"

// DockerScheme prefixes a dev URL that names an image to start with Docker
// ("docker://postgres:15").
const DockerScheme = "docker://"

// ErrDockerUnavailable is returned when a docker:// dev URL is given and no
// Docker engine answers.
var ErrDockerUnavailable = errors.New("no Docker engine answers")

// VersionError is a version that cannot be used or determined.
type VersionError struct {
	Flag    string // "old" or "new"
	Version string
	Reason  string
}

func (e *VersionError) Error() string {
	if e.Version == "" {
		return fmt.Sprintf("%s version: %s", e.Flag, e.Reason)
	}
	return fmt.Sprintf("%s version %q: %s", e.Flag, e.Version, e.Reason)
}

// CollectOptions say what to gather.
type CollectOptions struct {
	Stage      gate.Stage
	Migrations []*runner.Migration // the directory, as runner.Load reads it
	// OldVersion and NewVersion: see DefaultVersions for "".
	OldVersion, NewVersion string
	// DevURL is where the colors' schemas are replayed: a PostgreSQL URL
	// on which a throwaway database is created (and dropped), or
	// docker://IMAGE to start a container with testcontainers-go (through
	// bgmigrate-devdb).
	DevURL            string
	Schemas           []string
	MaxTransactionAge time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Service, when set, reads the deployment state of that service (if
	// bgmigrate deploy keeps one in this database): the active
	// deployment's schema version is the old color's version unless
	// OldVersion is given, and a color standing by as the rollback target
	// blocks the pre-contract stage.
	Service string
	// Deployment is the deployment being gated (by bgmigrate deploy); it
	// is not reported as unfinished.
	Deployment int64
	// State, when set, is the deployment state the caller read already
	// (bgmigrate deploy, with the load balancer's traffic); Service is
	// then not read again.
	State *gate.State
	// Old and New, when set, are the colors' catalogs replayed already
	// (a deploy's plan); they are not replayed again.
	Old, New *gate.Catalog
	// Failpoint, set by fault tests, is passed to the Replayer.
	Failpoint func(name string)
	// OldQueries and NewQueries are the colors' queries (ReadQueries),
	// prepared at the schemas they will meet (CheckQueries).
	OldQueries, NewQueries []gate.Query
	// Data, when set, counts the live rows the pending migrations would
	// fail on (runner.PendingDataChecks), on Data.Replica when it is set.
	Data *runner.DataChecks
	// Sized says the migrations were linted with the live table sizes
	// (their findings carry them: gate.Input.Sized).
	Sized bool
}

// Prefix returns the positions 0 to n-1.
func Prefix(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Timing says where Collect spent its time.
type Timing struct {
	Replay time.Duration // starting the dev server, replaying, reading the replays' catalogs
	Live   time.Duration // reading the live history, catalog and sessions
}

// Collect gathers the gate's Input: the live database's history, catalog and
// sessions through live, and the two colors' schemas by replaying the
// migrations up to each color's version on the dev database.
func Collect(ctx context.Context, live *pgx.Conn, o CollectOptions) (gate.Input, Timing, error) {
	var tm Timing
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	start := time.Now()
	hist, err := runner.History(ctx, live)
	if err != nil {
		return gate.Input{}, tm, fmt.Errorf("read history: %w", err)
	}
	st := o.State
	if st == nil && o.Service != "" {
		if st, err = ReadState(ctx, live, o.Service); err != nil {
			return gate.Input{}, tm, err
		}
	}
	if st != nil && o.OldVersion == "" && o.Stage != gate.PreContract {
		if d := activeDeployment(st); d != nil && d.SchemaVersion != "" {
			o.OldVersion = d.SchemaVersion
		}
	}
	oldV, newV, err := DefaultVersions(o.Migrations, hist, o.OldVersion, o.NewVersion)
	if err != nil {
		return gate.Input{}, tm, err
	}
	in := gate.Input{Stage: o.Stage, OldVersion: oldV, NewVersion: newV, MaxTransactionAge: o.MaxTransactionAge, State: st, Gated: o.Deployment}
	in.Migrations = runner.GateMigrations(o.Migrations)
	in.History = runner.GateHistory(hist)
	if in.Retirements, err = runner.Retirements(ctx, live); err != nil {
		return gate.Input{}, tm, err
	}
	if in.Live, err = ReadCatalog(ctx, live, o.Schemas); err != nil {
		return gate.Input{}, tm, fmt.Errorf("live database: %w", err)
	}
	if in.Ops, err = ReadOperations(ctx, live); err != nil {
		return gate.Input{}, tm, err
	}
	if o.Data != nil {
		if in.Data, err = countData(ctx, live, o.Migrations, o.Data); err != nil {
			return gate.Input{}, tm, fmt.Errorf("data checks: %w", err)
		}
	}
	in.Sized = o.Sized
	tm.Live = time.Since(start)

	start = time.Now()
	oldIdx, _ := gate.VersionIndex(in.Migrations, oldV)
	newIdx, _ := gate.VersionIndex(in.Migrations, newV)
	if len(o.OldQueries) > 0 || len(o.NewQueries) > 0 {
		qo := QueryOptions{DevURL: o.DevURL, Log: log, Migrations: o.Migrations, Old: o.OldQueries, New: o.NewQueries}
		qo.Base, qo.Meet, qo.Contract = queryStages(in.Migrations, in.History, oldIdx, newIdx)
		if in.Queries, err = CheckQueries(ctx, qo); err != nil {
			return gate.Input{}, tm, fmt.Errorf("queries: %w", err)
		}
	}
	if o.Old != nil && o.New != nil {
		in.Old, in.New = o.Old, o.New
		tm.Replay = time.Since(start)
		return in, tm, nil
	}
	// The new color may be the older one (a manual switch back to the
	// color standing by): each is replayed on its own then.
	cats, err := Replayer{DevURL: o.DevURL, Schemas: o.Schemas, Log: log, Failpoint: o.Failpoint}.Sets(ctx, o.Migrations, [][]int{Prefix(oldIdx + 1), Prefix(newIdx + 1)})
	tm.Replay = time.Since(start)
	if err != nil {
		return gate.Input{}, tm, err
	}
	in.Old, in.New = cats[0], cats[1]
	return in, tm, nil
}

// queryStages splits the migrations for CheckQueries: the old color's
// schema (up to its version), what is applied on top of it before the
// switch (every migration up to the new version but the contract ones not
// applied yet) and the contract migrations that wait.
func queryStages(migs []gate.Migration, hist []gate.Applied, oldIdx, newIdx int) (base, meet, contract []int) {
	applied := map[string]bool{}
	for _, a := range hist {
		applied[a.Version] = true
	}
	for i, m := range migs {
		switch {
		case i <= oldIdx:
			base = append(base, i)
		case i > newIdx:
		case m.Class == phases.Contract && !applied[m.Version]:
			contract = append(contract, i)
		default:
			meet = append(meet, i)
		}
	}
	return base, meet, contract
}

func activeDeployment(st *gate.State) *gate.Deployment {
	var out *gate.Deployment
	for i := range st.Deployments {
		d := &st.Deployments[i]
		if d.Status == gate.StatusActive && (out == nil || d.ID > out.ID) && (st.Traffic.Active == "" || d.Color == st.Traffic.Active) {
			out = d
		}
	}
	return out
}

// DefaultVersions resolves the colors' versions. NoVersion is "" (an empty
// schema). An empty new version is the last migration of the directory. An
// empty old version is the last migration (in directory order) applied
// before the most recent run, told apart by the deployment id runs record
// (bgmigrate migrate --deployment); with an empty history it is none, and
// when runs carry no deployment id it cannot be told: pass --old-version.
func DefaultVersions(migs []*runner.Migration, hist []runner.Applied, oldV, newV string) (string, string, error) {
	known := map[string]int{}
	for i, m := range migs {
		known[m.Version] = i
	}
	resolve := func(flag, v string) (string, error) {
		if v == NoVersion {
			return "", nil
		}
		if _, ok := known[v]; !ok {
			return "", &VersionError{Flag: flag, Version: v, Reason: "not a migration of the directory"}
		}
		return v, nil
	}
	var err error
	switch newV {
	case "":
		if len(migs) > 0 {
			newV = migs[len(migs)-1].Version
		}
	default:
		if newV, err = resolve("new", newV); err != nil {
			return "", "", err
		}
	}
	if oldV != "" {
		if oldV, err = resolve("old", oldV); err != nil {
			return "", "", err
		}
		return oldV, newV, nil
	}
	if len(hist) == 0 {
		return "", newV, nil
	}
	last := hist[len(hist)-1].Deployment
	if last == "" {
		return "", "", &VersionError{Flag: "old", Reason: "the history records no deployment id, so the most recent run cannot be told apart: pass --old-version"}
	}
	best := -1
	for _, a := range hist {
		if i, ok := known[a.Version]; ok && a.Deployment != last && i > best {
			best = i
		}
	}
	if best < 0 {
		return "", newV, nil
	}
	return migs[best].Version, newV, nil
}

// ReadOperations reads the runner's lock holder, the open transactions of
// other sessions with the tables they lock, and the sessions waiting for a
// lock on a table.
func ReadOperations(ctx context.Context, conn *pgx.Conn) (gate.Operations, error) {
	var ops gate.Operations
	var err error
	if ops.LockHolder, err = runner.LockHolder(ctx, conn); err != nil {
		return ops, fmt.Errorf("read the migration lock: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT a.pid, now() - a.xact_start, coalesce(a.state, ''), coalesce(a.query, ''),
			coalesce((SELECT array_agg(DISTINCT n.nspname || '.' || c.relname)
				FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation' AND c.relkind IN ('r', 'p')
				  AND n.nspname NOT IN ('pg_catalog', 'information_schema')), '{}')
		FROM pg_stat_activity a
		WHERE a.xact_start IS NOT NULL AND a.pid <> pg_backend_pid() AND a.datname = current_database()
		  AND a.backend_type = 'client backend'
		ORDER BY a.xact_start`)
	if err != nil {
		return ops, fmt.Errorf("read transactions: %w", err)
	}
	for rows.Next() {
		var tx gate.Transaction
		if err := rows.Scan(&tx.PID, &tx.Age, &tx.State, &tx.Query, &tx.Tables); err != nil {
			rows.Close()
			return ops, fmt.Errorf("read transactions: %w", err)
		}
		ops.Transactions = append(ops.Transactions, tx)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ops, fmt.Errorf("read transactions: %w", err)
	}
	rows, err = conn.Query(ctx, `SELECT l.pid, n.nspname || '.' || c.relname, l.mode, now() - coalesce(a.query_start, now()),
			pg_blocking_pids(l.pid)
		FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE NOT l.granted AND l.locktype = 'relation'
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY 1, 2`)
	if err != nil {
		return ops, fmt.Errorf("read lock waits: %w", err)
	}
	for rows.Next() {
		var w gate.LockWait
		var by []int32
		if err := rows.Scan(&w.PID, &w.Table, &w.Mode, &w.Age, &by); err != nil {
			rows.Close()
			return ops, fmt.Errorf("read lock waits: %w", err)
		}
		for _, p := range by {
			w.BlockedBy = append(w.BlockedBy, int(p))
		}
		ops.LockWaits = append(ops.LockWaits, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ops, fmt.Errorf("read lock waits: %w", err)
	}
	return ops, nil
}

// Replay applies the first counts[i] migrations to one throwaway database
// on devURL and returns the catalog after each count. Counts must not
// decrease; log (nil: none) receives progress lines. The database (and
// the container, for docker://) is removed before Replay returns, even on
// error.
func Replay(ctx context.Context, devURL string, migs []*runner.Migration, counts []int, schemas []string, log io.Writer) ([]*gate.Catalog, error) {
	for i := 1; i < len(counts); i++ {
		if counts[i] < counts[i-1] {
			return nil, &VersionError{Flag: "new", Reason: "comes before the old version in the directory"}
		}
	}
	sets := make([][]int, len(counts))
	for i, n := range counts {
		sets[i] = Prefix(n)
	}
	return ReplaySets(ctx, devURL, migs, sets, schemas, log)
}

// ReplaySets applies each set of migrations (positions in migs, in
// ascending order) to a throwaway database on devURL and returns the
// catalog after each (see Replayer.Sets).
func ReplaySets(ctx context.Context, devURL string, migs []*runner.Migration, sets [][]int, schemas []string, log io.Writer) ([]*gate.Catalog, error) {
	return Replayer{DevURL: devURL, Schemas: schemas, Log: log}.Sets(ctx, migs, sets)
}

// Replayer replays migrations into throwaway databases on a dev server.
type Replayer struct {
	// DevURL is a PostgreSQL URL (databases are created and dropped on
	// that server) or docker://IMAGE.
	DevURL  string
	Schemas []string  // the schemas whose catalog is read; nil: all
	Log     io.Writer // progress lines; nil: none
	// Failpoint, set by fault tests, is called once a scratch database
	// exists ("gate:scratch-created"); it may stop the process there.
	Failpoint func(name string)
}

// Sets applies each set of migrations (positions in migs, in ascending
// order) and returns the catalog after each. A set that extends the one
// before it (the same positions, then more after them) goes on in the
// same database; any other starts a new one. Every database it creates is
// dropped before it returns, and so are the scratch databases that runs
// killed part way left behind.
func (r Replayer) Sets(ctx context.Context, migs []*runner.Migration, sets [][]int) ([]*gate.Catalog, error) {
	devURL, schemas, log := r.DevURL, r.Schemas, r.Log
	if log == nil {
		log = io.Discard
	}
	if devURL == "" {
		return nil, errors.New("no dev database: pass --dev-url (a PostgreSQL URL or docker://IMAGE)")
	}
	adminURL := devURL
	if image, ok := strings.CutPrefix(devURL, DockerScheme); ok {
		fmt.Fprintf(log, "starting %s\n", image)
		u, stop, err := startDocker(ctx, image)
		if err != nil {
			return nil, err
		}
		defer stop()
		adminURL = u
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the dev database: %w", err)
	}
	defer admin.Close(context.Background())
	DropAbandoned(ctx, admin, log)
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return nil, fmt.Errorf("parse the dev URL: %w", err)
	}
	replayed := replayCopies(migs)
	var out []*gate.Catalog
	var conn *pgx.Conn
	var prev []int
	var created []string
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
		for _, name := range created {
			dropScratch(admin, name, log)
		}
	}()
	for _, set := range sets {
		add := set
		if conn == nil || !extends(set, prev) {
			if conn != nil {
				conn.Close(context.Background())
			}
			var name string
			conn, name, err = scratch(ctx, admin, cfg)
			if name != "" {
				created = append(created, name)
				if r.Failpoint != nil {
					r.Failpoint("gate:scratch-created")
				}
			}
			if err != nil {
				return nil, err
			}
		} else {
			add = set[len(prev):]
		}
		prev = set
		var todo []*runner.Migration
		for _, i := range add {
			todo = append(todo, replayed[i])
		}
		if len(todo) > 0 {
			fmt.Fprintf(log, "replaying %d migrations up to %s\n", len(todo), todo[len(todo)-1].Version)
			_, err := runner.Migrate(ctx, conn, todo, runner.Options{
				Phase: runner.PhaseAll, Force: true, Reason: "gate replay", AppliedBy: "bgmigrate gate",
				LockTimeout: 10 * time.Second, Retries: 1, Log: io.Discard,
			})
			if err != nil {
				return nil, fmt.Errorf("replay migrations up to %s: %w", todo[len(todo)-1].Version, err)
			}
		}
		cat, err := ReadCatalog(ctx, conn, schemas)
		if err != nil {
			return nil, fmt.Errorf("replay database: %w", err)
		}
		out = append(out, cat)
	}
	return out, nil
}

// Scratch creates a throwaway database on the dev server devURL names (a
// PostgreSQL URL, or docker://IMAGE) and connects to it; drop closes the
// connection and drops the database (and stops the container), and must
// be called whatever happens. The database devURL names is not changed;
// scratch databases earlier runs killed part way left are dropped first.
func Scratch(ctx context.Context, devURL string, log io.Writer) (conn *pgx.Conn, drop func(), err error) {
	if log == nil {
		log = io.Discard
	}
	if devURL == "" {
		return nil, nil, errors.New("no dev database: pass --dev-url (a PostgreSQL URL or docker://IMAGE)")
	}
	var stops []func()
	drop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	adminURL := devURL
	if image, ok := strings.CutPrefix(devURL, DockerScheme); ok {
		fmt.Fprintf(log, "starting %s\n", image)
		u, stop, err := startDocker(ctx, image)
		if err != nil {
			return nil, nil, err
		}
		stops = append(stops, stop)
		adminURL = u
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("connect to the dev database: %w", err)
	}
	stops = append(stops, func() { admin.Close(context.Background()) })
	DropAbandoned(ctx, admin, log)
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("parse the dev URL: %w", err)
	}
	conn, name, err := scratch(ctx, admin, cfg)
	if name != "" {
		stops = append(stops, func() { dropScratch(admin, name, log) })
	}
	if err != nil {
		drop()
		return nil, nil, err
	}
	stops = append(stops, func() { conn.Close(context.Background()) })
	return conn, drop, nil
}

// ReplayCopies returns the migrations without what would stop the runner
// from replaying them (their lint findings and class).
func ReplayCopies(migs []*runner.Migration) []*runner.Migration { return replayCopies(migs) }

// extends reports whether set starts with every position of prev.
func extends(set, prev []int) bool {
	if len(set) < len(prev) {
		return false
	}
	for i, p := range prev {
		if set[i] != p {
			return false
		}
	}
	return true
}

// scratchPrefix starts the name of every database a replay creates:
// bgmigrate_gate_<pid>_<start>_<random>, where pid and start (Unix
// seconds) name the admin session that created it, so that another run,
// from any database of the server, can tell whether its creator lives.
const scratchPrefix = "bgmigrate_gate_"

var scratchName = regexp.MustCompile(`^` + scratchPrefix + `(\d+)_(\d+)_[0-9a-f]+$`)

// scratch creates a throwaway database on the dev server, named after the
// admin session, and connects to it. name is set once the database
// exists, even when connecting fails.
func scratch(ctx context.Context, admin *pgx.Conn, cfg *pgx.ConnConfig) (conn *pgx.Conn, name string, err error) {
	var pid, start int64
	if err := admin.QueryRow(ctx, `SELECT pid, extract(epoch FROM backend_start)::bigint FROM pg_stat_activity WHERE pid = pg_backend_pid()`).Scan(&pid, &start); err != nil {
		return nil, "", fmt.Errorf("create the replay database: %w", err)
	}
	r, err := randomName()
	if err != nil {
		return nil, "", err
	}
	n := fmt.Sprintf("%s%d_%d_%s", scratchPrefix, pid, start, strings.TrimPrefix(r, scratchPrefix))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize()); err != nil {
		return nil, "", fmt.Errorf("create the replay database: %w", err)
	}
	c := cfg.Copy()
	c.Database = n
	conn, err = pgx.ConnectConfig(ctx, c)
	if err != nil {
		return nil, n, fmt.Errorf("connect to the replay database: %w", err)
	}
	return conn, n, nil
}

func dropScratch(admin *pgx.Conn, name string, log io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize()
	if admin.PgConn().ParameterStatus("server_version") >= "13" {
		q += " WITH (FORCE)"
	}
	if _, err := admin.Exec(ctx, q); err != nil {
		fmt.Fprintf(log, "drop replay database %s: %v\n", name, err)
	}
}

// DropAbandoned drops the scratch databases of replays whose process died
// (a deploy killed during its gate): the ones whose creating session (its
// pid and start time are in the name) is gone. It reports what it dropped
// to log and returns their names; failures are only reported.
func DropAbandoned(ctx context.Context, admin *pgx.Conn, log io.Writer) []string {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1`, scratchPrefix+"%")
	if err != nil {
		fmt.Fprintf(log, "look for abandoned replay databases: %v\n", err)
		return nil
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		fmt.Fprintf(log, "look for abandoned replay databases: %v\n", err)
		return nil
	}
	var dropped []string
	for _, name := range names {
		m := scratchName.FindStringSubmatch(name)
		if m == nil {
			continue // not named by this version: left alone
		}
		var alive bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1 AND extract(epoch FROM backend_start)::bigint = $2)`,
			m[1], m[2]).Scan(&alive); err != nil || alive {
			continue // its replay is still running
		}
		fmt.Fprintf(log, "dropping %s, left by a replay that did not finish\n", name)
		dropScratch(admin, name, log)
		dropped = append(dropped, name)
	}
	return dropped
}

// replayCopies returns the migrations without what would stop the runner
// from replaying them: they are the schema history, whatever their lint
// findings or class.
func replayCopies(migs []*runner.Migration) []*runner.Migration {
	out := make([]*runner.Migration, len(migs))
	for i, m := range migs {
		c := *m
		c.Findings = nil
		if c.Class == phases.Breaking || c.Class == phases.Mixed {
			c.Class = phases.Expand
		}
		out[i] = &c
	}
	return out
}

func randomName() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return scratchPrefix + hex.EncodeToString(b[:]), nil
}

// DevDBCommand is the program that starts the container of a docker://
// dev URL (cmd/bgmigrate-devdb): testcontainers-go lives there, so that no
// other command pays for loading it. startDocker looks for it in
// $BGMIGRATE_DEVDB, next to the running bgmigrate, then on PATH.
const DevDBCommand = "bgmigrate-devdb"

// devDBUnavailable is bgmigrate-devdb's exit code when no Docker engine
// answers (devdb.ExitUnavailable).
const devDBUnavailable = 3

// startDocker starts image through bgmigrate-devdb and returns the
// container's superuser URL and a func that has it removed.
func startDocker(ctx context.Context, image string) (string, func(), error) {
	path, err := devDBPath()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(path, image)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", path, err)
	}
	// The helper removes the container when its standard input ends.
	stop := func() {
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case u := <-line:
		if u != "" {
			return u, stop, nil
		}
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		stop()
		return "", nil, ctx.Err()
	}
	err = cmd.Wait()
	reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), DevDBCommand+": "))
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == devDBUnavailable {
		return "", nil, fmt.Errorf("%w: %s", ErrDockerUnavailable, reason)
	}
	if reason == "" && err != nil {
		reason = err.Error()
	}
	return "", nil, fmt.Errorf("%s %s: %s", DevDBCommand, image, reason)
}

// devDBPath finds bgmigrate-devdb: $BGMIGRATE_DEVDB, the directory of the
// running program, then PATH.
func devDBPath() (string, error) {
	if p := os.Getenv("BGMIGRATE_DEVDB"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), DevDBCommand)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(DevDBCommand); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("docker:// dev URLs need %s (go install github.com/bgmigrate/bgmigrate/cmd/%s) next to bgmigrate, on PATH or named by BGMIGRATE_DEVDB", DevDBCommand, DevDBCommand)
}

// ReadState reads the deployment state of service as the decision sees
// it, with the traffic as recorded (the gate reads no load balancer); nil
// when the database holds no deployment state.
func ReadState(ctx context.Context, conn *pgx.Conn, service string) (*gate.State, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('bgmigrate.operations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read the deployment state: %w", err)
	}
	if !exists {
		return nil, nil
	}
	deps, err := state.List(ctx, conn, service)
	if err != nil {
		return nil, err
	}
	if len(deps) == 0 {
		return nil, nil
	}
	st := &gate.State{Service: service, Now: time.Now(), RollbackWindow: DefaultRollbackWindow}
	for _, d := range deps {
		st.Deployments = append(st.Deployments, GateDeployment(d))
	}
	op, err := state.OpenOperation(ctx, conn, service)
	if err != nil {
		return nil, err
	}
	st.Operation = GateOperation(op)
	rule, err := state.Traffic(ctx, conn, service)
	switch {
	case err == nil:
		st.Traffic.Active = string(rule.Color)
		if rule.Percent < 100 {
			st.Traffic.Split = map[string]int{string(rule.Color): rule.Percent, string(rule.Color.Other()): 100 - rule.Percent}
			if rule.Percent < 50 {
				st.Traffic.Active = string(rule.Color.Other())
			}
		}
	case errors.Is(err, state.ErrNotFound):
		st.Traffic.Err = "no traffic is recorded"
	default:
		return nil, err
	}
	return st, nil
}

// DefaultRollbackWindow is the rollback window ReadState assumes; the
// caller with the configuration sets the configured one.
const DefaultRollbackWindow = 30 * time.Minute

// GateDeployment is a deployment as the decision sees it.
func GateDeployment(d *state.Deployment) gate.Deployment {
	return gate.Deployment{ID: d.ID, Version: d.Version, Color: string(d.Color), Status: string(d.Status), SchemaVersion: d.SchemaVersion,
		DeployedAt: d.DeployedAt, ActivatedAt: d.ActivatedAt, RetiredAt: d.RetiredAt, StoppedAt: d.StoppedAt}
}

// GateOperation is an open operation as the decision sees it; nil for nil.
func GateOperation(op *state.Operation) *gate.Operation {
	if op == nil {
		return nil
	}
	return &gate.Operation{ID: op.ID, Action: op.Action, Step: op.Step, Deployment: op.Deployment, Target: op.Target,
		From: string(op.From), To: string(op.To), StartedAt: op.StartedAt, UpdatedAt: op.UpdatedAt, Actor: op.Actor}
}

// countData counts, on the replica when there is one, the live rows the
// pending migrations would fail on.
func countData(ctx context.Context, live *pgx.Conn, migs []*runner.Migration, dc *runner.DataChecks) (*gate.DataReport, error) {
	var q datacheck.Querier = live
	if dc.Replica != nil {
		q = dc.Replica
	}
	res, err := runner.PendingDataChecks(ctx, live, q, migs, dc.Options)
	if err != nil {
		return nil, err
	}
	version := map[string]string{}
	for _, m := range migs {
		version[m.Path] = m.Version
	}
	r := &gate.DataReport{}
	for _, x := range res {
		f := gate.DataFinding{Version: version[x.Path], Message: x.Message()}
		switch {
		case x.Failing():
			r.Failing = append(r.Failing, f)
		case x.Err != "":
			r.NotChecked = append(r.NotChecked, f)
		}
		if x.Skipped == "" && x.Err == "" {
			r.Checked++
		}
	}
	return r, nil
}
