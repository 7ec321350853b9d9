package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/user"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options control a run.
type Options struct {
	Phase            Phase
	LockTimeout      time.Duration // per try; default 2s
	StatementTimeout time.Duration // default 30m
	Retries          int           // tries after the first on lock timeout; default 5
	// LockWait makes a second runner wait for the advisory lock instead
	// of failing; LockWaitTimeout bounds the wait (0: forever).
	LockWait        bool
	LockWaitTimeout time.Duration
	// Force applies contract migrations while the old color is still a
	// rollback target; Reason is recorded with them.
	Force      bool
	Reason     string
	Deployment string
	AppliedBy  string
	Log        io.Writer
	// Backoff is the first retry delay (doubled each time, with jitter);
	// default 500ms.
	Backoff time.Duration
	// State, when set, returns the deployment state of the service the
	// migrations belong to (bgmigrate deploy): the decision (gate.Decide)
	// then lets only the contract migrations of a release every color
	// that may take traffic runs. Without it the retirements recorded by
	// bgmigrate retire decide.
	State func(ctx context.Context, conn *pgx.Conn) (*gate.State, error)
	// Failpoint, set by fault tests, is called at named points of a run
	// ("migrate:after-unit"); it may stop the process there.
	Failpoint func(name string)
	// DataChecks, when set, count the live rows each migration would
	// fail on before it runs, and refuse it when any would (see
	// DataChecks); nil counts nothing.
	DataChecks *DataChecks
}

func (o *Options) defaults() {
	if o.LockTimeout == 0 {
		o.LockTimeout = 2 * time.Second
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 30 * time.Minute
	}
	if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Backoff == 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.AppliedBy == "" {
		if u, err := user.Current(); err == nil {
			o.AppliedBy = u.Username
		}
	}
	if o.Phase == "" {
		o.Phase = PhaseAll
	}
}

// LockKey is the advisory lock that allows one runner per database.
const LockKey int64 = 0x62676d6967726174 // "bgmigrat"

// LockedError says another runner holds the advisory lock.
type LockedError struct{ Holder string }

func (e *LockedError) Error() string {
	return "another bgmigrate run holds the migration lock: " + e.Holder + " (use --lock-wait to wait for it)"
}

// StatementError is a statement that failed, with where it is.
type StatementError struct {
	Path  string
	Line  int
	SQL   string
	Table string // the table it locks, "" if none
	Err   error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s:%d: %v\n  in: %s", e.Path, e.Line, e.Err, firstLine(e.SQL))
}

func (e *StatementError) Unwrap() error { return e.Err }

// LockTimeoutError is a statement that kept hitting lock_timeout.
type LockTimeoutError struct {
	Path     string
	Line     int
	Tries    int
	Blockers []Blocker
}

func (e *LockTimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: gave up after %d tries: the lock was not granted within lock_timeout", e.Path, e.Line, e.Tries)
	for _, bl := range e.Blockers {
		fmt.Fprintf(&b, "\n  blocked by %s", bl)
	}
	return b.String()
}

// ContractGateError refuses contract migrations while the old color may
// still be rolled back to.
type ContractGateError struct {
	Reason  string
	Pending []string
}

func (e *ContractGateError) Error() string {
	return fmt.Sprintf("refusing to apply contract migrations (%s) while the old color is still a rollback target: %s; run bgmigrate retire once it is gone, or --force --reason \"…\"",
		strings.Join(e.Pending, ", "), e.Reason)
}

// LintError lists what stops the pending migrations from being scheduled:
// error findings, breaking or mixed files, edited or misordered
// migrations.
type LintError struct{ Findings []string }

func (e *LintError) Error() string {
	return "the pending migrations cannot run (a lint finding, once reviewed, is suppressed in the file with -- bgmigrate:ignore rule -- reason):\n  " + strings.Join(e.Findings, "\n  ")
}

// PartialChangeError is a migration that was applied part way (a file run
// statement by statement outside a transaction) and changed since: what
// ran is not what the file now says.
type PartialChangeError struct {
	Path, Version string
	Unit          int    // 1-based
	Line          int    // where that unit starts now
	Was           string // the checksum of the file when the unit ran
}

func (e *PartialChangeError) Error() string {
	was := ""
	if e.Was != "" {
		was = fmt.Sprintf(" (checksum %.12s)", e.Was)
	}
	return fmt.Sprintf("%s:%d: migration %s was applied part way and changed since: statement %d ran as the file was then%s, and the file now holds something else there; restore the file as it was so the rest can run, and put the change in a new migration",
		e.Path, e.Line, e.Version, e.Unit, was)
}

// Result is what a run applied.
type Result struct {
	Applied []string
	Skipped []string // contract migrations left for later (phase expand)
}

// Migrate applies the pending migrations of the phase that the decision
// (gate.Decide, see Schedule) lets run now, in order; the ones that wait
// are listed in Result.Skipped.
func Migrate(ctx context.Context, conn *pgx.Conn, migs []*Migration, opts Options) (*Result, error) {
	opts.defaults()
	if err := acquire(ctx, conn, opts); err != nil {
		return nil, err
	}
	defer release(conn)
	if err := ensureSchema(ctx, conn); err != nil {
		return nil, err
	}
	f, hist, err := ReadFacts(ctx, conn, migs)
	if err != nil {
		return nil, err
	}
	if _, err := Pending(migs, hist); err != nil {
		return nil, err // an applied migration changed
	}
	if opts.State != nil {
		if f.State, err = opts.State(ctx, conn); err != nil {
			return nil, err
		}
	}
	run, later, v, err := Schedule(f, migs, opts.Phase, opts.Force, opts.Reason)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, m := range later {
		res.Skipped = append(res.Skipped, m.Path)
	}
	forced := ""
	if v.Forced {
		forced = opts.Reason
		fmt.Fprintf(opts.Log, "contract forced: %s\n", opts.Reason)
	}
	for _, w := range v.Wait {
		fmt.Fprintf(opts.Log, "%s waits: %s\n", w.Migration.Path, w.Reason)
	}
	for _, m := range run {
		reason := ""
		if m.Phase() == PhaseContract {
			reason = forced
		}
		if err := checkData(ctx, conn, migs, m, opts); err != nil {
			return res, err
		}
		if err := apply(ctx, conn, m, opts, reason); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m.Path)
		opts.failpoint("migrate:after-migration")
	}
	return res, nil
}

func (o *Options) failpoint(name string) {
	if o.Failpoint != nil {
		o.Failpoint(name)
	}
}

func acquire(ctx context.Context, conn *pgx.Conn, opts Options) error {
	// Name the session for a second runner's message, unless the caller
	// (bgmigrate deploy) named it more precisely already.
	if _, err := conn.Exec(ctx, `SELECT set_config('application_name', 'bgmigrate', false)
		WHERE current_setting('application_name') NOT LIKE 'bgmigrate%'`); err != nil {
		return err
	}
	// PostgreSQL 14+ then notices within a second when the runner dies
	// mid-statement, and rolls back instead of holding its locks until the
	// statement ends on its own.
	if conn.PgConn().ParameterStatus("server_version") >= "14" {
		_, _ = conn.Exec(ctx, `SET client_connection_check_interval = '1s'`)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, LockKey).Scan(&ok); err != nil {
		return err
	}
	if ok {
		return nil
	}
	holder, _ := LockHolder(ctx, conn)
	// No live holder: the lock belongs to a session that is ending (its
	// client died or was terminated) and goes with it within moments.
	for i := 0; holder == "" && i < 20; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, LockKey).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		holder, _ = LockHolder(ctx, conn)
	}
	if holder == "" {
		holder = "a session that is ending"
	}
	if !opts.LockWait {
		return &LockedError{Holder: holder}
	}
	fmt.Fprintf(opts.Log, "waiting for the migration lock held by %s\n", holder)
	wctx := ctx
	if opts.LockWaitTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, opts.LockWaitTimeout)
		defer cancel()
	}
	for {
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, LockKey).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-wctx.Done():
			holder, _ := LockHolder(ctx, conn)
			return &LockedError{Holder: holder}
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func release(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, LockKey)
}

// LockHolder describes the session holding the migration lock of this
// database, "" if none (advisory locks are per database).
func LockHolder(ctx context.Context, conn *pgx.Conn) (string, error) {
	var pid int
	var app, user, addr string
	var age time.Duration
	err := conn.QueryRow(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''),
			coalesce(host(a.client_addr), 'local'), now() - a.backend_start
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.pid <> pg_backend_pid()`, LockKey).Scan(&pid, &app, &user, &addr, &age)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pid %d (%s, user %s from %s, connected %s ago)", pid, app, user, addr, age.Round(time.Second)), nil
}

// Retire records that the old color is gone, so contract migrations may run.
func Retire(ctx context.Context, conn *pgx.Conn, color, by, reason string) error {
	if err := ensureSchema(ctx, conn); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, `INSERT INTO bgmigrate.retirements (color, retired_by, reason) VALUES (nullif($1, ''), $2, nullif($3, ''))`, color, by, reason)
	return err
}

func apply(ctx context.Context, conn *pgx.Conn, m *Migration, opts Options, forced string) error {
	start := time.Now()
	fmt.Fprintf(opts.Log, "applying %s (%s)\n", m.Path, m.Phase())
	for _, n := range m.Notes {
		fmt.Fprintf(opts.Log, "  %s\n", n)
	}
	done, err := progress(ctx, conn, m.Version)
	if err != nil {
		return err
	}
	for i, u := range m.Units {
		if p, ok := done[i]; ok && p.hash != "" && p.hash != u.Hash() {
			return &PartialChangeError{Path: m.Path, Version: m.Version, Unit: i + 1, Line: u.Steps[0].Line, Was: p.checksum}
		}
	}
	record := func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO bgmigrate.history (version, name, checksum, phase, started_at, finished_at, duration_ms, applied_by, deployment, forced_reason)
			VALUES ($1, $2, $3, $4, $5, now(), $6, $7, nullif($8, ''), nullif($9, ''))`,
			m.Version, m.Name, m.Checksum, string(m.Phase()), start, time.Since(start).Milliseconds(), opts.AppliedBy, opts.Deployment, forced)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM bgmigrate.progress WHERE version = $1`, m.Version)
		return err
	}
	for i, u := range m.Units {
		if p, ok := done[i]; ok && p.finished {
			fmt.Fprintf(opts.Log, "  unit %d already applied by an earlier run\n", i+1)
			continue
		}
		last := i == len(m.Units)-1
		var err error
		switch {
		case u.Tx:
			err = retry(ctx, conn, m, u.Steps[0], opts, func() error {
				return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					if err := setTimeouts(ctx, tx, opts, true); err != nil {
						return err
					}
					for _, s := range u.Steps {
						if err := execStep(ctx, tx, m, s, opts); err != nil {
							return err
						}
					}
					if last {
						return record(tx)
					}
					return markDone(ctx, tx, m, i, u)
				})
			})
		case len(u.Steps) == 1 && u.Steps[0].Backfill != nil:
			err = backfill(ctx, conn, m, i, u, opts)
			if err == nil {
				err = finishUnit(ctx, conn, m, i, u, last, record)
			}
		default:
			s := u.Steps[0]
			err = retry(ctx, conn, m, s, opts, func() error {
				if err := setTimeouts(ctx, conn, opts, false); err != nil {
					return err
				}
				defer resetTimeouts(conn)
				if s.Index != "" {
					skip, err := prepareIndex(ctx, conn, s, opts)
					if err != nil || skip {
						return err
					}
				}
				return execStep(ctx, conn, m, s, opts)
			})
			if err == nil {
				opts.failpoint("migrate:after-statement")
				err = finishUnit(ctx, conn, m, i, u, last, record)
			}
		}
		if err != nil {
			return err
		}
		if !last {
			opts.failpoint("migrate:after-unit")
		}
	}
	if len(m.Units) == 0 {
		if err := pgx.BeginFunc(ctx, conn, record); err != nil {
			return err
		}
	}
	fmt.Fprintf(opts.Log, "applied %s in %s\n", m.Path, time.Since(start).Round(time.Millisecond))
	return nil
}

func finishUnit(ctx context.Context, conn *pgx.Conn, m *Migration, i int, u Unit, last bool, record func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if last {
			return record(tx)
		}
		return markDone(ctx, tx, m, i, u)
	})
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func setTimeouts(ctx context.Context, e execer, opts Options, local bool) error {
	scope := ""
	if local {
		scope = "LOCAL "
	}
	_, err := e.Exec(ctx, fmt.Sprintf("SET %slock_timeout = %d; SET %sstatement_timeout = %d", scope, opts.LockTimeout.Milliseconds(), scope, opts.StatementTimeout.Milliseconds()))
	return err
}

func resetTimeouts(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "RESET lock_timeout; RESET statement_timeout")
}

func execStep(ctx context.Context, e execer, m *Migration, s Step, opts Options) error {
	t := time.Now()
	if _, err := e.Exec(ctx, s.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
		return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Table: s.Table, Err: err}
	}
	fmt.Fprintf(opts.Log, "  %s:%d %s (%s) %s\n", m.Path, s.Line, s.Tag, lockText(s), time.Since(t).Round(time.Millisecond))
	return nil
}

func lockText(s Step) string {
	if s.Lock.String() == "" {
		return "no lock on existing tables"
	}
	return s.Lock.String() + " on " + s.Table
}

// unitProgress is a unit an earlier run applied (finished) or started (a
// backfill part way), with the hash of its statements and the file's
// checksum then.
type unitProgress struct {
	finished       bool
	hash, checksum string
}

func progress(ctx context.Context, conn *pgx.Conn, version string) (map[int]unitProgress, error) {
	rows, err := conn.Query(ctx, `SELECT step, last_key IS NULL, coalesce(unit_hash, ''), coalesce(checksum, '') FROM bgmigrate.progress WHERE version = $1`, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := map[int]unitProgress{}
	for rows.Next() {
		var s int
		var p unitProgress
		if err := rows.Scan(&s, &p.finished, &p.hash, &p.checksum); err != nil {
			return nil, err
		}
		done[s] = p
	}
	return done, rows.Err()
}

func markDone(ctx context.Context, e execer, m *Migration, unit int, u Unit) error {
	_, err := e.Exec(ctx, `INSERT INTO bgmigrate.progress (version, step, unit_hash, checksum) VALUES ($1, $2, $3, $4)
		ON CONFLICT (version, step) DO UPDATE SET last_key = NULL, unit_hash = excluded.unit_hash, checksum = excluded.checksum, updated_at = now()`,
		m.Version, unit, u.Hash(), m.Checksum)
	return err
}

// prepareIndex handles a CREATE INDEX CONCURRENTLY that an earlier run may
// have started: an INVALID index is dropped so it can be built again; a
// valid one means the build finished and the step is skipped. The index
// is looked up by its exact name among the indexes of its table (the
// table as the statement names it, so one outside search_path is found).
func prepareIndex(ctx context.Context, conn *pgx.Conn, s Step, opts Options) (skip bool, err error) {
	table := pgx.Identifier{s.IndexTable.Name}
	if s.IndexTable.Schema != "" {
		table = pgx.Identifier{s.IndexTable.Schema, s.IndexTable.Name}
	}
	var valid bool
	var schema string
	err = conn.QueryRow(ctx, `SELECT i.indisvalid, n.nspname FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = $1 AND i.indrelid = to_regclass($2)`, s.Index, table.Sanitize()).Scan(&valid, &schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	name := pgx.Identifier{schema, s.Index}.Sanitize()
	if valid {
		fmt.Fprintf(opts.Log, "  index %s already exists and is valid: skipped\n", name)
		return true, nil
	}
	fmt.Fprintf(opts.Log, "  index %s is INVALID (a concurrent build failed): dropping it to build it again\n", name)
	_, err = conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name)
	return false, err
}

// Blocker is a session holding a lock the runner waited for.
type Blocker struct {
	PID   int
	State string
	Age   time.Duration
	Query string
}

func (b Blocker) String() string {
	return fmt.Sprintf("pid %d (%s for %s): %s", b.PID, b.State, b.Age.Round(time.Second), firstLine(b.Query))
}

// blockers lists the sessions holding locks on table that conflict with DDL.
func blockers(ctx context.Context, conn *pgx.Conn, table string) []Blocker {
	if table == "" {
		return nil
	}
	rows, err := conn.Query(ctx, `SELECT DISTINCT a.pid, coalesce(a.state, ''), now() - coalesce(a.xact_start, a.query_start, a.backend_start), coalesce(a.query, '')
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'relation' AND l.granted AND l.relation = to_regclass($1) AND l.pid <> pg_backend_pid()
		ORDER BY 3 DESC LIMIT 5`, table)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []Blocker
	for rows.Next() {
		var b Blocker
		if rows.Scan(&b.PID, &b.State, &b.Age, &b.Query) == nil {
			out = append(out, b)
		}
	}
	return out
}

// retry runs fn, trying again with exponential backoff and jitter while it
// fails on lock_timeout (SQLSTATE 55P03). The statement that waited (the
// one fn's *StatementError names, else s) is the one reported, with the
// sessions holding locks on its table.
func retry(ctx context.Context, conn *pgx.Conn, m *Migration, s Step, opts Options, fn func() error) error {
	delay := opts.Backoff
	var last []Blocker
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !isLockTimeout(err) {
			return err
		}
		line, table := s.Line, s.Table
		var se *StatementError
		if errors.As(err, &se) {
			line, table = se.Line, se.Table
		}
		last = blockers(ctx, conn, table)
		if attempt > opts.Retries {
			return &LockTimeoutError{Path: m.Path, Line: line, Tries: attempt, Blockers: last}
		}
		wait := delay/2 + time.Duration(rand.Int64N(int64(delay)))
		fmt.Fprintf(opts.Log, "  %s:%d lock not granted within %s (try %d of %d); retrying in %s\n", m.Path, line, opts.LockTimeout, attempt, opts.Retries+1, wait.Round(time.Millisecond))
		for _, b := range last {
			fmt.Fprintf(opts.Log, "    blocked by %s\n", b)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		delay *= 2
	}
}

func isLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
