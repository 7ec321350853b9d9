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

	"github.com/bgmigrate/bgmigrate/parser"
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
	// Gate, when set, decides whether contract migrations may run (the
	// deployment state); by default the retirement records decide.
	Gate func(ctx context.Context, conn *pgx.Conn) (bool, string, error)
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
	Path string
	Line int
	SQL  string
	Err  error
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

// LintError lists error findings that stop a run.
type LintError struct{ Findings []string }

func (e *LintError) Error() string {
	return "lint errors stop the run (suppress them in the file with -- bgmigrate:ignore rule -- reason once reviewed):\n  " + strings.Join(e.Findings, "\n  ")
}

// Result is what a run applied.
type Result struct {
	Applied []string
	Skipped []string // contract migrations left for later (phase expand)
}

// Select returns the pending migrations of the phase, in order, and checks
// them: lint errors, breaking and mixed files stop the run.
func Select(pending []*Migration, phase Phase) ([]*Migration, []*Migration, error) {
	var run, later []*Migration
	var problems []string
	for _, m := range pending {
		for _, fd := range m.Findings {
			problems = append(problems, fmt.Sprintf("%s:%d:%d: %s [%s]", fd.Path, fd.Span.Start.Line, fd.Span.Start.Column, fd.Message, fd.Rule))
		}
		if m.Class.String() == "breaking" || m.Class.String() == "mixed" {
			problems = append(problems, fmt.Sprintf("%s: a %s migration cannot be scheduled; split it into expand and contract migrations", m.Path, m.Class))
		}
		if phase == PhaseExpand && m.Phase() == PhaseContract {
			later = append(later, m)
			continue
		}
		if phase == PhaseContract && m.Phase() == PhaseExpand {
			later = append(later, m)
			continue
		}
		run = append(run, m)
	}
	if len(problems) > 0 {
		return nil, nil, &LintError{Findings: problems}
	}
	if phase == PhaseExpand {
		// A contract migration ends what can run before the switch: an
		// expand that follows it may depend on it.
		for i, m := range pending {
			if m.Phase() == PhaseContract {
				for _, n := range pending[i+1:] {
					if n.Phase() == PhaseExpand {
						return nil, nil, fmt.Errorf("%s (expand) comes after pending contract migration %s; apply contract first or reorder the migrations", n.Path, m.Path)
					}
				}
				break
			}
		}
	}
	return run, later, nil
}

// Migrate applies the pending migrations of the phase.
func Migrate(ctx context.Context, conn *pgx.Conn, migs []*Migration, opts Options) (*Result, error) {
	opts.defaults()
	if err := acquire(ctx, conn, opts); err != nil {
		return nil, err
	}
	defer release(conn)
	if err := ensureSchema(ctx, conn); err != nil {
		return nil, err
	}
	hist, err := History(ctx, conn)
	if err != nil {
		return nil, err
	}
	pending, err := Pending(migs, hist)
	if err != nil {
		return nil, err
	}
	run, later, err := Select(pending, opts.Phase)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, m := range later {
		res.Skipped = append(res.Skipped, m.Path)
	}
	var contract []string
	for _, m := range run {
		if m.Phase() == PhaseContract {
			contract = append(contract, m.Path)
		}
	}
	forced := ""
	if len(contract) > 0 {
		ok, why, err := contractAllowed(ctx, conn, opts)
		if err != nil {
			return nil, err
		}
		if !ok {
			if !opts.Force || strings.TrimSpace(opts.Reason) == "" {
				return nil, &ContractGateError{Reason: why, Pending: contract}
			}
			forced = opts.Reason
			fmt.Fprintf(opts.Log, "contract forced: %s (%s)\n", opts.Reason, why)
		}
	}
	for _, m := range run {
		reason := ""
		if m.Phase() == PhaseContract {
			reason = forced
		}
		if err := apply(ctx, conn, m, opts, reason); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m.Path)
	}
	return res, nil
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

// contractAllowed reports whether the old color has been retired since the
// last expand migration.
func contractAllowed(ctx context.Context, conn *pgx.Conn, opts Options) (bool, string, error) {
	if opts.Gate != nil {
		return opts.Gate(ctx, conn)
	}
	return RetirementGate(ctx, conn)
}

// RetirementGate is the default contract gate: contract migrations may run
// once a retirement was recorded after the last expand migration.
// The runner's tables must exist.
func RetirementGate(ctx context.Context, conn *pgx.Conn) (bool, string, error) {
	var lastExpand, lastRetire *time.Time
	if err := conn.QueryRow(ctx, `SELECT (SELECT max(finished_at) FROM bgmigrate.history WHERE phase = 'expand'),
		(SELECT max(retired_at) FROM bgmigrate.retirements)`).Scan(&lastExpand, &lastRetire); err != nil {
		return false, "", err
	}
	switch {
	case lastExpand == nil:
		return true, "", nil // nothing was ever deployed with bgmigrate: there is no old color
	case lastRetire != nil && lastRetire.After(*lastExpand):
		return true, "", nil
	}
	return false, fmt.Sprintf("expand migrations were applied at %s and no retirement was recorded since", lastExpand.Format(time.RFC3339)), nil
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
	done, err := progress(ctx, conn, m.Version)
	if err != nil {
		return err
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
		if done[i] {
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
					return markDone(ctx, tx, m.Version, i)
				})
			})
		case len(u.Steps) == 1 && u.Steps[0].Backfill != nil:
			err = backfill(ctx, conn, m, i, u.Steps[0], opts)
			if err == nil {
				err = finishUnit(ctx, conn, m, i, last, record)
			}
		default:
			s := u.Steps[0]
			err = retry(ctx, conn, m, s, opts, func() error {
				if err := setTimeouts(ctx, conn, opts, false); err != nil {
					return err
				}
				defer resetTimeouts(conn)
				if s.Index != "" {
					skip, err := prepareIndex(ctx, conn, s.Index, opts)
					if err != nil || skip {
						return err
					}
				}
				return execStep(ctx, conn, m, s, opts)
			})
			if err == nil {
				err = finishUnit(ctx, conn, m, i, last, record)
			}
		}
		if err != nil {
			return err
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

func finishUnit(ctx context.Context, conn *pgx.Conn, m *Migration, i int, last bool, record func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if last {
			return record(tx)
		}
		return markDone(ctx, tx, m.Version, i)
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
		return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: err}
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

func progress(ctx context.Context, conn *pgx.Conn, version string) (map[int]bool, error) {
	rows, err := conn.Query(ctx, `SELECT step FROM bgmigrate.progress WHERE version = $1 AND last_key IS NULL`, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var s int
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		done[s] = true
	}
	return done, rows.Err()
}

func markDone(ctx context.Context, e execer, version string, unit int) error {
	_, err := e.Exec(ctx, `INSERT INTO bgmigrate.progress (version, step) VALUES ($1, $2)
		ON CONFLICT (version, step) DO UPDATE SET last_key = NULL, updated_at = now()`, version, unit)
	return err
}

// prepareIndex handles a CREATE INDEX CONCURRENTLY that an earlier run may
// have started: an INVALID index is dropped so it can be built again; a
// valid one means the build finished and the step is skipped.
func prepareIndex(ctx context.Context, conn *pgx.Conn, name string, opts Options) (skip bool, err error) {
	var valid *bool
	err = conn.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass($1)`, name).Scan(&valid)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && valid == nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if *valid {
		fmt.Fprintf(opts.Log, "  index %s already exists and is valid: skipped\n", name)
		return true, nil
	}
	fmt.Fprintf(opts.Log, "  index %s is INVALID (a concurrent build failed): dropping it to build it again\n", name)
	_, err = conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{name}.Sanitize())
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
// fails on lock_timeout (SQLSTATE 55P03).
func retry(ctx context.Context, conn *pgx.Conn, m *Migration, s Step, opts Options, fn func() error) error {
	delay := opts.Backoff
	var last []Blocker
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !isLockTimeout(err) {
			return err
		}
		last = blockers(ctx, conn, s.Table)
		if attempt > opts.Retries {
			return &LockTimeoutError{Path: m.Path, Line: s.Line, Tries: attempt, Blockers: last}
		}
		wait := delay/2 + time.Duration(rand.Int64N(int64(delay)))
		fmt.Fprintf(opts.Log, "  %s:%d lock not granted within %s (try %d of %d); retrying in %s\n", m.Path, s.Line, opts.LockTimeout, attempt, opts.Retries+1, wait.Round(time.Millisecond))
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

var _ = parser.FormatPlain
