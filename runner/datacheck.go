package runner

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/datacheck"
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/jackc/pgx/v5"
)

// DataChecks configure the counts the runner makes before each migration
// it applies: the live rows the migration would fail on (datacheck). A
// migration that would fail is refused before any of it runs.
type DataChecks struct {
	datacheck.Options
	// Replica, when set, runs the counts (read only) instead of the
	// connection the migrations run on. Before counting, the runner waits
	// up to the count timeout for a standby to replay what the primary
	// wrote; one that lags further is not used for that migration.
	Replica datacheck.Querier
}

// DataCheckError refuses a migration that would fail on the live rows.
type DataCheckError struct {
	Path    string
	Failing []datacheck.Result
}

func (e *DataCheckError) Error() string {
	msgs := make([]string, len(e.Failing))
	for i, r := range e.Failing {
		msgs[i] = r.Message()
	}
	return fmt.Sprintf("refusing to apply %s: it would fail on the live data:\n  %s\nfix those rows first (a migration before it can), or run with --no-data-checks",
		e.Path, strings.Join(msgs, "\n  "))
}

// checkData counts the rows that the statements of m still to run would
// fail on, and refuses m when any would.
func checkData(ctx context.Context, conn *pgx.Conn, migs []*Migration, m *Migration, opts Options) error {
	dc := opts.DataChecks
	if dc == nil {
		return nil
	}
	at := -1
	files := make([]*parser.File, 0, len(migs))
	for i, x := range migs {
		files = append(files, x.File)
		if x == m {
			at = i
		}
	}
	if at < 0 || m.File == nil {
		return nil
	}
	checks := datacheck.ForSet(files[:at+1], at, serverMajor(conn))
	// Units an earlier run finished are not run again: their statements
	// are not counted.
	done, err := progress(ctx, conn, m.Version)
	if err != nil {
		return err
	}
	ran := map[int]bool{}
	for i, u := range m.Units {
		if p, ok := done[i]; ok && p.finished {
			for _, s := range u.Steps {
				ran[s.Line] = true
			}
		}
	}
	var todo []datacheck.Check
	for _, c := range checks {
		if !ran[c.Line] {
			todo = append(todo, c)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	var q datacheck.Querier = conn
	if dc.Replica != nil {
		if caughtUp(ctx, conn, dc.Replica, dc.Timeout, opts) {
			q = dc.Replica
		} else {
			fmt.Fprintf(opts.Log, "  the replica has not replayed the primary's changes: counting on the primary\n")
		}
	}
	res := datacheck.Count(ctx, q, todo, dc.Options)
	for _, r := range res {
		fmt.Fprintf(opts.Log, "  data check %s\n", r.Message())
	}
	if failing := datacheck.Failing(res); len(failing) > 0 {
		return &DataCheckError{Path: m.Path, Failing: failing}
	}
	return nil
}

// caughtUp waits up to limit (the count timeout, default 30s) for a
// standby to replay the primary's WAL as of now; a server that is not in
// recovery (a copy, not a standby) is taken as it is.
func caughtUp(ctx context.Context, primary *pgx.Conn, replica datacheck.Querier, limit time.Duration, opts Options) bool {
	if limit <= 0 {
		limit = datacheck.DefaultTimeout
	}
	var lsn string
	if err := primary.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		return false
	}
	deadline := time.Now().Add(limit)
	for {
		ok, err := datacheck.Replayed(ctx, replica, lsn)
		if err != nil {
			fmt.Fprintf(opts.Log, "  replica: %v\n", err)
			return false
		}
		if ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PendingDataChecks counts, on q, the rows the pending migrations would
// fail on (datacheck.ForSet from the first pending one, each counted as
// the live data is now); conn reads the history. bgmigrate plan prints
// them.
func PendingDataChecks(ctx context.Context, conn *pgx.Conn, q datacheck.Querier, migs []*Migration, o datacheck.Options) ([]datacheck.Result, error) {
	hist, err := History(ctx, conn)
	if err != nil {
		return nil, err
	}
	pending, err := Pending(migs, hist)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return nil, nil
	}
	files := make([]*parser.File, 0, len(migs))
	from := -1
	for i, m := range migs {
		files = append(files, m.File)
		if from < 0 && m == pending[0] {
			from = i
		}
	}
	v := o.PGVersion
	if v == 0 {
		v = serverMajor(conn)
	}
	return datacheck.Count(ctx, q, datacheck.ForSet(files, from, v), o), nil
}

// serverMajor is the connection's server major version (15 for 15.4).
func serverMajor(conn *pgx.Conn) int {
	v := conn.PgConn().ParameterStatus("server_version")
	if i := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		v = v[:i]
	}
	n, _ := strconv.Atoi(v)
	return n
}
