// Package trace runs migrations on a scratch database and records what
// PostgreSQL did to each statement's tables (the locks it took, the
// tables and indexes it rewrote, the tables it scanned, the rows it
// touched), beside lint's static prediction of the same, so that the
// prediction can be checked against the server.
package trace

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

// Options tune a trace.
type Options struct {
	// DevURL names the server the scratch database is created on: a
	// PostgreSQL URL or docker://IMAGE.
	DevURL string
	// Rows, when positive, fills every table that exists before the traced
	// files with that many synthetic rows first.
	Rows int
	// LockTimeout and StatementTimeout are set for every statement, as the
	// runner sets them (defaults 2s and 0: none).
	LockTimeout, StatementTimeout time.Duration
	// Log gets progress lines; nil: none.
	Log io.Writer
}

// Lock is a lock on a relation, in lint's spelling.
type Lock struct {
	Table string `json:"table"`
	Mode  string `json:"mode"`

	index bool
}

// Prediction is what lint predicts of a statement.
type Prediction struct {
	Lock    string `json:"lock"`
	Table   string `json:"table,omitempty"`
	Rewrite bool   `json:"rewrite"`
	Scan    bool   `json:"scan"`
}

// Statement is what one statement did.
type Statement struct {
	Line int    `json:"line"`
	SQL  string `json:"sql"`
	// Locks are the relation locks it took on relations that existed
	// before the file (strongest mode per relation).
	Locks []Lock `json:"locks"`
	// Observed says how the locks were seen: "transaction" (read from the
	// statement's own backend before its transaction ended), "sampled"
	// (a statement that cannot run in a transaction, watched from another
	// session while it ran: a short lock can be missed) or "" when not run.
	Observed string `json:"observed"`
	// Rewritten are the tables and indexes whose storage was replaced
	// (their relfilenode changed); Truncated the tables TRUNCATE emptied.
	Rewritten []string `json:"rewritten"`
	Truncated []string `json:"truncated,omitempty"`
	// Scanned are the tables PostgreSQL's statistics show it read in full.
	Scanned    []string   `json:"scanned"`
	Rows       int64      `json:"rows"`
	DurationMS float64    `json:"duration_ms"`
	Predicted  Prediction `json:"predicted"`
	// Agrees compares Predicted with what was seen; nil when it cannot be
	// judged (the statement failed, was not run, or its locks were not
	// seen). Differences says how they differ.
	Agrees      *bool    `json:"agrees"`
	Differences []string `json:"differences,omitempty"`
	Error       string   `json:"error,omitempty"`
	Skipped     string   `json:"skipped,omitempty"`

	tag          string
	rewroteTable bool // a table (not only an index) was rewritten
}

// File is the trace of one migration.
type File struct {
	Path       string      `json:"path"`
	Statements []Statement `json:"statements"`
}

// Result is a whole trace.
type Result struct {
	Files []File `json:"files"`
}

// Disagreements lists the statements whose prediction was wrong.
func (r *Result) Disagreements() []Disagreement {
	var out []Disagreement
	for _, f := range r.Files {
		for _, s := range f.Statements {
			if s.Agrees != nil && !*s.Agrees {
				out = append(out, Disagreement{Path: f.Path, Line: s.Line, SQL: s.SQL, Differences: s.Differences})
			}
		}
	}
	return out
}

// Disagreement is a statement lint predicted wrongly.
type Disagreement struct {
	Path        string
	Line        int
	SQL         string
	Differences []string
}

// Run applies migs, in order, on a scratch database of opts.DevURL, and
// traces those traced reports true for, statement by statement, grouped in
// transactions as the runner groups them; the others are applied as the
// runner applies them. The scratch database is dropped before it returns,
// whatever happens; nothing else on the server is changed.
func Run(ctx context.Context, migs []*runner.Migration, traced func(i int) bool, opts Options) (*Result, error) {
	first := len(migs)
	for i := range migs {
		if traced(i) {
			first = i
			break
		}
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	conn, drop, err := live.Scratch(ctx, opts.DevURL, log)
	if err != nil {
		return nil, err
	}
	defer drop()
	if first > 0 {
		fmt.Fprintf(log, "replaying %d migrations up to %s\n", first, migs[first-1].Version)
		if _, err := runner.Migrate(ctx, conn, live.ReplayCopies(migs[:first]), runner.Options{
			Phase: runner.PhaseAll, Force: true, Reason: "trace replay", AppliedBy: "bgmigrate trace",
			LockTimeout: 10 * time.Second, Retries: 1, Log: io.Discard,
		}); err != nil {
			return nil, fmt.Errorf("replay migrations up to %s: %w", migs[first-1].Version, err)
		}
	}
	t := &tracer{conn: conn, opts: opts, log: log}
	if opts.Rows > 0 {
		if err := t.fill(ctx); err != nil {
			return nil, err
		}
	}
	res := &Result{Files: []File{}}
	for i := first; i < len(migs); i++ {
		m := migs[i]
		if !traced(i) {
			if _, err := runner.Migrate(ctx, conn, live.ReplayCopies(migs[i:i+1]), runner.Options{
				Phase: runner.PhaseAll, Force: true, Reason: "trace replay", AppliedBy: "bgmigrate trace",
				LockTimeout: 10 * time.Second, Retries: 1, Log: io.Discard,
			}); err != nil {
				return res, fmt.Errorf("apply %s: %w", m.Path, err)
			}
			continue
		}
		f, err := t.file(ctx, m)
		if err != nil {
			return res, err
		}
		res.Files = append(res.Files, f)
	}
	return res, nil
}

type tracer struct {
	conn *pgx.Conn
	opts Options
	log  io.Writer
	// existing are the names of the relations that existed before the
	// file being traced: locks and rewrites on the others are the file's
	// own. (By name: REINDEX CONCURRENTLY replaces an index by another of
	// the same name.)
	existing map[string]bool
}

// relation is a user relation of the scratch database.
type relation struct {
	oid      uint32
	name     string
	kind     string // pg_class.relkind
	filenode uint32
}

// relations reads every user relation.
func (t *tracer) relations(ctx context.Context, q queryer) (map[uint32]relation, error) {
	rows, err := q.Query(ctx, `SELECT c.oid, c.oid::regclass::text, c.relkind::text, c.relfilenode
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'bgmigrate') AND n.nspname NOT LIKE 'pg_temp%'
		  AND c.relkind IN ('r', 'p', 'i', 'I', 'm', 'S', 'v', 'f')`)
	if err != nil {
		return nil, err
	}
	out := map[uint32]relation{}
	for rows.Next() {
		var r relation
		if err := rows.Scan(&r.oid, &r.name, &r.kind, &r.filenode); err != nil {
			rows.Close()
			return nil, err
		}
		out[r.oid] = r
	}
	rows.Close()
	return out, rows.Err()
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconnTag, error)
}

// stats are a table's counters in the current transaction.
type stats struct{ seqScan, tuples int64 }

func (t *tracer) stats(ctx context.Context, q queryer) (map[uint32]stats, error) {
	rows, err := q.Query(ctx, `SELECT relid, seq_scan, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables`)
	if err != nil {
		return nil, err
	}
	out := map[uint32]stats{}
	for rows.Next() {
		var oid uint32
		var s stats
		if err := rows.Scan(&oid, &s.seqScan, &s.tuples); err != nil {
			rows.Close()
			return nil, err
		}
		out[oid] = s
	}
	rows.Close()
	return out, rows.Err()
}

// locks reads the relation locks the backend pid holds, strongest mode
// per relation.
func locks(ctx context.Context, q queryer, pid uint32) (map[uint32]phases.Lock, error) {
	rows, err := q.Query(ctx, `SELECT relation, mode FROM pg_locks WHERE pid = $1 AND locktype = 'relation' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, pid)
	if err != nil {
		return nil, err
	}
	out := map[uint32]phases.Lock{}
	for rows.Next() {
		var oid uint32
		var mode string
		if err := rows.Scan(&oid, &mode); err != nil {
			rows.Close()
			return nil, err
		}
		if l := modeLock(mode); l > out[oid] {
			out[oid] = l
		}
	}
	rows.Close()
	return out, rows.Err()
}

// modeLock maps pg_locks' mode ("AccessExclusiveLock") to lint's lock.
func modeLock(mode string) phases.Lock {
	var b strings.Builder
	for i, r := range strings.TrimSuffix(mode, "Lock") {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return phases.ParseLock(strings.ToUpper(b.String()))
}

// file traces one migration.
func (t *tracer) file(ctx context.Context, m *runner.Migration) (File, error) {
	out := File{Path: m.Path}
	rels, err := t.relations(ctx, connQ{t.conn})
	if err != nil {
		return out, err
	}
	t.existing = map[string]bool{}
	for _, r := range rels {
		t.existing[r.name] = true
	}
	fmt.Fprintf(t.log, "tracing %s\n", m.Path)
	// Each statement in a transaction of its own, in the runner's order
	// and with its timeouts: a transaction does not take again a lock it
	// holds, so statements sharing one would hide each other's locks.
	for _, u := range m.Units {
		for _, s := range u.Steps {
			var st Statement
			var err error
			if s.NonTx {
				st, err = t.sampled(ctx, s)
			} else {
				st, err = t.transaction(ctx, s)
			}
			if err != nil {
				return out, err
			}
			out.Statements = append(out.Statements, st)
		}
	}
	for i := range out.Statements {
		judge(&out.Statements[i])
	}
	return out, nil
}

// transaction runs a statement in a transaction and reads, before it
// ends, the locks it holds and what changed; a failure is recorded.
func (t *tracer) transaction(ctx context.Context, s runner.Step) (Statement, error) {
	st := newStatement(s)
	if st.Skipped != "" {
		return st, nil
	}
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return st, err
	}
	defer tx.Rollback(context.Background())
	if err := t.timeouts(ctx, tx, true); err != nil {
		return st, err
	}
	q := txQ{tx}
	beforeRels, err := t.relations(ctx, q)
	if err != nil {
		return st, err
	}
	beforeStats, err := t.stats(ctx, q)
	if err != nil {
		return st, err
	}
	// The snapshot queries hold locks on catalogs only, which are left out.
	start := time.Now()
	_, execErr := tx.Exec(ctx, s.SQL)
	st.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	st.Observed = "transaction"
	if execErr != nil {
		st.Error = execErr.Error()
		return st, nil
	}
	held, err := locks(ctx, q, t.conn.PgConn().PID())
	if err != nil {
		return st, err
	}
	for oid, l := range held {
		if r, ok := beforeRels[oid]; ok && t.existing[r.name] {
			st.Locks = append(st.Locks, Lock{Table: r.name, Mode: l.String()})
		}
	}
	afterRels, err := t.relations(ctx, q)
	if err != nil {
		return st, err
	}
	afterStats, err := t.stats(ctx, q)
	if err != nil {
		return st, err
	}
	t.changes(&st, beforeRels, afterRels, beforeStats, afterStats)
	if err := tx.Commit(ctx); err != nil {
		st.Error = "COMMIT: " + err.Error()
	}
	return st, nil
}

// changes records the rewrites, scans and rows between two snapshots.
func (t *tracer) changes(st *Statement, beforeRels, afterRels map[uint32]relation, beforeStats, afterStats map[uint32]stats) {
	for oid, b := range beforeRels {
		a, ok := afterRels[oid]
		if !ok || !t.existing[b.name] || a.filenode == b.filenode || b.kind == "v" || b.kind == "S" {
			continue
		}
		if st.tag == "TRUNCATE" {
			st.Truncated = append(st.Truncated, b.name)
		} else {
			st.Rewritten = append(st.Rewritten, b.name)
			st.rewroteTable = st.rewroteTable || b.kind == "r" || b.kind == "m" || b.kind == "p"
		}
	}
	for oid, a := range afterStats {
		b := beforeStats[oid]
		name := beforeRels[oid].name
		if !t.existing[name] {
			continue
		}
		if a.seqScan > b.seqScan && name != "" {
			st.Scanned = append(st.Scanned, name)
		}
		st.Rows += a.tuples - b.tuples
	}
	sort.Strings(st.Rewritten)
	sort.Strings(st.Truncated)
	sort.Strings(st.Scanned)
	sort.Slice(st.Locks, func(i, j int) bool { return st.Locks[i].Table < st.Locks[j].Table })
}

// sampled runs a statement that cannot run in a transaction, watching its
// locks from another session while it runs.
func (t *tracer) sampled(ctx context.Context, s runner.Step) (Statement, error) {
	st := newStatement(s)
	if st.Skipped != "" {
		return st, nil
	}
	if err := t.timeouts(ctx, nil, false); err != nil {
		return st, err
	}
	watcher, err := pgx.ConnectConfig(ctx, t.conn.Config())
	if err != nil {
		return st, err
	}
	defer watcher.Close(context.Background())
	beforeRels, err := t.relations(ctx, connQ{t.conn})
	if err != nil {
		return st, err
	}
	pid := t.conn.PgConn().PID()
	seen := map[uint32]phases.Lock{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if l, err := locks(ctx, connQ{watcher}, pid); err == nil {
				for oid, m := range l {
					if m > seen[oid] {
						seen[oid] = m
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	start := time.Now()
	_, execErr := t.conn.Exec(ctx, s.SQL)
	st.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	close(done)
	wg.Wait()
	st.Observed = "sampled"
	if execErr != nil {
		st.Error = execErr.Error()
		return st, nil
	}
	for oid, l := range seen {
		if r, ok := beforeRels[oid]; ok && t.existing[r.name] {
			st.Locks = append(st.Locks, Lock{Table: r.name, Mode: l.String(), index: r.kind == "i" || r.kind == "I"})
		}
	}
	afterRels, err := t.relations(ctx, connQ{t.conn})
	if err != nil {
		return st, err
	}
	t.changes(&st, beforeRels, afterRels, nil, nil)
	return st, nil
}

// timeouts sets the runner's timeouts, for the transaction (SET LOCAL) or
// the session.
func (t *tracer) timeouts(ctx context.Context, tx pgx.Tx, local bool) error {
	scope := "SESSION"
	if local {
		scope = "LOCAL"
	}
	q := fmt.Sprintf("SET %s lock_timeout = %d; SET %s statement_timeout = %d", scope, t.opts.LockTimeout.Milliseconds(), scope, t.opts.StatementTimeout.Milliseconds())
	var err error
	if tx != nil {
		_, err = tx.Exec(ctx, q)
	} else {
		_, err = t.conn.Exec(ctx, q)
	}
	return err
}

// outside are the statements that act beyond the scratch database: trace
// does not run them.
var outside = map[string]bool{
	"CREATE DATABASE": true, "ALTER DATABASE": true, "DROP DATABASE": true,
	"CREATE ROLE": true, "ALTER ROLE": true, "DROP ROLE": true, "CREATE USER": true, "ALTER USER": true, "DROP USER": true,
	"CREATE GROUP": true, "ALTER GROUP": true, "DROP GROUP": true, "ALTER SYSTEM": true,
	"CREATE TABLESPACE": true, "ALTER TABLESPACE": true, "DROP TABLESPACE": true, "CREATE SUBSCRIPTION": true,
	"COPY": true, "LOAD": true, "CHECKPOINT": true,
}

func newStatement(s runner.Step) Statement {
	st := Statement{Line: s.Line, SQL: s.SQL, tag: strings.ToUpper(s.Tag), Locks: []Lock{}, Rewritten: []string{}, Scanned: []string{},
		Predicted: Prediction{Lock: s.Lock.String(), Table: s.Table, Rewrite: s.Rewrite, Scan: s.Scan}}
	if s.Lock == phases.NoLock {
		st.Predicted.Lock = ""
	}
	if outside[st.tag] {
		st.Skipped = "it acts outside the scratch database"
	}
	return st
}

// dml are the statements lint predicts no scan for: reading rows is what
// they do, not a check or a rewrite under a schema lock.
var dml = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "DO": true, "CALL": true,
	"REFRESH MATERIALIZED VIEW": true, "VACUUM": true, "ANALYZE": true, "CLUSTER": true, "REINDEX": true, "TRUNCATE": true}

// judge compares a statement's prediction with what was seen.
func judge(st *Statement) {
	if st.Error != "" || st.Skipped != "" || st.Observed == "" {
		return
	}
	var diffs []string
	strongest := phases.NoLock
	table := ""
	for _, l := range st.Locks {
		if l.index && st.Observed == "sampled" {
			// A concurrent build or reindex drops the old index under
			// ACCESS EXCLUSIVE at its very end; no query waits for that.
			continue
		}
		if m := phases.ParseLock(l.Mode); m > strongest {
			strongest, table = m, l.Table
		}
	}
	if strongest == phases.AccessShare {
		strongest = phases.NoLock // lint reports no lock a reader takes
	}
	predicted := phases.ParseLock(st.Predicted.Lock)
	switch {
	case st.Observed == "sampled" && strongest == phases.NoLock:
		// Not seen is not proof of absence for a watched statement.
	case predicted != strongest:
		want, got := st.Predicted.Lock, strongest.String()
		if want == "" {
			want = "none"
		}
		if strongest == phases.NoLock {
			got = "none"
		} else {
			got += " on " + table
		}
		diffs = append(diffs, fmt.Sprintf("lock: predicted %s, took %s", want, got))
	}
	// A rewrite or scan lint predicts of a table the file created (it
	// predicts no lock then) is not one of the tables trace watches.
	onExisting := st.Predicted.Lock != ""
	rewrote := st.rewroteTable
	if st.Predicted.Rewrite && onExisting != rewrote && (onExisting || rewrote) {
		diffs = append(diffs, fmt.Sprintf("rewrite: predicted %v, rewrote %v", st.Predicted.Rewrite, strings.Join(st.Rewritten, ", ")))
	}
	if !dml[st.tag] && !st.Predicted.Rewrite && !rewrote {
		scanned := len(st.Scanned) > 0
		if (st.Predicted.Scan && onExisting) != scanned {
			diffs = append(diffs, fmt.Sprintf("scan: predicted %v, scanned %q", st.Predicted.Scan, st.Scanned))
		}
	}
	ok := len(diffs) == 0
	st.Agrees, st.Differences = &ok, diffs
}

// connQ and txQ adapt a connection and a transaction to queryer.
type connQ struct{ c *pgx.Conn }
type txQ struct{ tx pgx.Tx }
type pgconnTag = interface{ String() string }

func (q connQ) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return q.c.Query(ctx, sql, args...)
}
func (q connQ) Exec(ctx context.Context, sql string, args ...any) (pgconnTag, error) {
	return q.c.Exec(ctx, sql, args...)
}
func (q txQ) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return q.tx.Query(ctx, sql, args...)
}
func (q txQ) Exec(ctx context.Context, sql string, args ...any) (pgconnTag, error) {
	return q.tx.Exec(ctx, sql, args...)
}
