package twocolor

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run applies k's change in mode while both colors run, on the timeline
// of the package doc, and returns what it saw. An error means the run
// itself could not be done (no database, a schema that does not load); a
// failure of the change or of the colors is in the Result.
func Run(ctx context.Context, k Kind, mode Mode, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	res := &Result{Kind: k.Name, Mode: mode, StallLimit: cfg.StallLimit(), Violations: -1}
	if mode == Pgroll {
		switch {
		case k.Pgroll == "":
			res.Skipped = "no pgroll equivalent: " + k.PgrollNone
			return res, nil
		case cfg.Pgroll == "":
			res.Skipped = "no pgroll binary"
			return res, nil
		}
	}
	for _, u := range []string{cfg.URL, cfg.ExpectURL} {
		if err := loopback(u); err != nil {
			return nil, err
		}
	}
	r := &run{k: k, mode: mode, cfg: cfg, res: res, dir: filepath.Join(cfg.Dir, "db")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	if err := r.run(ctx); err != nil {
		return res, fmt.Errorf("%s, %s: %w", k.Name, mode, err)
	}
	return res, nil
}

type run struct {
	k    Kind
	mode Mode
	cfg  Config
	res  *Result
	dir  string // the migrations
	conn *pgx.Conn
	// contractAt is when the contract started (UnixNano), for the colors.
	contractAt atomic.Int64
}

func (r *run) run(ctx context.Context) error {
	want, err := r.expected(ctx)
	if err != nil {
		return err
	}
	if r.conn, err = connect(ctx, r.cfg.URL); err != nil {
		return err
	}
	defer r.conn.Close(context.Background())
	if err := r.setup(ctx); err != nil {
		return err
	}
	m, err := r.loadModel(ctx)
	if err != nil {
		return err
	}

	newCode, newPath := r.k.New, ""
	switch r.mode {
	case Unsplit:
		newCode = r.k.newFinal()
	case Pgroll:
		newCode, newPath = r.k.newFinal(), "public_"+r.pgrollName()
	}
	maxRun := r.cfg.Warmup + r.cfg.Window + r.cfg.Tail + 2*time.Minute
	old, err := startColor(ctx, "old", r.cfg.URL, "", r.k.Old, r.k, m, r.cfg, &r.contractAt, maxRun)
	if err != nil {
		return err
	}
	oldStopped := false
	defer func() {
		if !oldStopped {
			old.stop()
		}
	}()
	sleep(ctx, r.cfg.Warmup)

	start := time.Now()
	expanded := r.expand(ctx)
	r.res.Expand = time.Since(start)
	next, err := startColor(ctx, "new", r.cfg.URL, newPath, newCode, r.k, m, r.cfg, &r.contractAt, maxRun)
	if err != nil {
		return err
	}
	sleep(ctx, r.cfg.Window)
	r.res.Old = old.stop()
	oldStopped = true
	r.res.Window = checkRows(ctx, r.conn, m, []reader{{"old", r.k.Old.ReadAll, ""}, {"new", newCode.ReadAll, newPath}})

	r.contractAt.Store(time.Now().UnixNano())
	if expanded && r.mode != Unsplit {
		start := time.Now()
		r.contract(ctx)
		r.res.Contract = time.Since(start)
	}
	sleep(ctx, r.cfg.Tail)
	r.res.New = next.stop()
	r.res.Final = checkRows(ctx, r.conn, m, []reader{{"new", newCode.ReadAll, newPath}})

	got, err := catalog(ctx, r.conn, "public")
	if err != nil {
		return err
	}
	if r.mode == Split && len(r.k.Renamed) > 0 {
		got = rename(got, r.k.Renamed)
		var names []string
		for from, to := range r.k.Renamed {
			names = append(names, fmt.Sprintf("%s is named %s", from, to))
		}
		r.res.SchemaNote = "compared modulo the split's new column name: " + strings.Join(names, ", ")
	}
	r.res.SchemaDiff = diff(want, got)
	return ctx.Err()
}

// expected applies the schema and the breaking migration as written on
// the second database and returns its catalog.
func (r *run) expected(ctx context.Context) ([]string, error) {
	conn, err := connect(ctx, r.cfg.ExpectURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, r.k.Schema, pgx.QueryExecModeSimpleProtocol); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if err := execStatements(ctx, conn, r.k.Migration); err != nil {
		return nil, fmt.Errorf("the breaking migration on an empty database: %w", err)
	}
	return catalog(ctx, conn, "public")
}

// setup gives the database the previous release's schema, the way the
// mode's tool would have it, and seeds the rows.
func (r *run) setup(ctx context.Context) error {
	switch r.mode {
	case Split:
		if err := r.writeConfig(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(r.dir, "0001_schema.sql"), []byte(r.k.Schema), 0o644); err != nil {
			return err
		}
		if err := r.bgmigrate(ctx, "setup: migrate expand", "migrate", "expand"); err != nil {
			return err
		}
	default:
		if _, err := r.conn.Exec(ctx, r.k.Schema, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
	}
	seed := fmt.Sprintf(r.k.Seed, r.cfg.Rows)
	if _, err := r.conn.Exec(ctx, seed+"\nANALYZE;", pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if r.mode == Pgroll {
		return r.pgrollSetup(ctx)
	}
	return nil
}

// loadModel reads the seeded rows as the old color reads them.
func (r *run) loadModel(ctx context.Context) (*model, error) {
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())
	rows, err := readAll(ctx, tx, reader{name: "old", readAll: r.k.Old.ReadAll})
	if err != nil {
		return nil, fmt.Errorf("read the seeded rows: %w", err)
	}
	m := newModel()
	for _, kv := range rows {
		m.rows[kv.id] = entry{kv.value, "seed"}
		m.last.Store(max(m.last.Load(), kv.id))
	}
	return m, nil
}

// expand applies the change while the old color runs; false when it
// failed, and the contract is not tried.
func (r *run) expand(ctx context.Context) bool {
	switch r.mode {
	case Split:
		if err := r.split(ctx); err != nil {
			return false
		}
		return r.bgmigrate(ctx, "migrate expand", "migrate", "expand") == nil
	case Unsplit:
		// A careful team cleans the data first (when there is any yet:
		// not for a column the migration adds), then migrates.
		var n int64
		if len(r.k.Fix) > 0 && r.conn.QueryRow(ctx, r.k.Violations).Scan(&n) == nil {
			r.fix(ctx, false)
		}
		start := time.Now()
		err := execStatements(ctx, r.conn, r.k.Migration)
		r.step(Step{Name: "breaking migration, as written", Took: time.Since(start), Err: err, Output: r.k.Migration})
		return err == nil
	case Pgroll:
		return r.pgroll(ctx, "pgroll start", "start", r.pgrollFile()) == nil
	}
	return false
}

// contract finishes the change once the old color stopped.
func (r *run) contract(ctx context.Context) {
	switch r.mode {
	case Split:
		r.fix(ctx, true)
		if err := r.bgmigrate(ctx, "retire", "retire", "--color", "blue", "--reason", "twocolor: the old color stopped"); err != nil {
			return
		}
		_ = r.bgmigrate(ctx, "migrate contract", "migrate", "contract")
	case Pgroll:
		_ = r.pgroll(ctx, "pgroll complete", "complete")
	}
}

// fix runs the kind's data fix, batch by batch, until no violation is
// left (count: the violations before it are recorded).
func (r *run) fix(ctx context.Context, count bool) {
	if len(r.k.Fix) == 0 {
		return
	}
	start := time.Now()
	var err error
	for batch := 0; err == nil; batch++ {
		var n int64
		if err = r.conn.QueryRow(ctx, r.k.Violations).Scan(&n); err != nil {
			break
		}
		if batch == 0 && count {
			r.res.Violations = n
		}
		if n == 0 {
			r.step(Step{Name: "data fix", Took: time.Since(start), Output: fmt.Sprintf("%s;\n%d batches", strings.Join(r.k.Fix, ";\n"), batch)})
			return
		}
		if time.Since(start) > 2*time.Minute {
			err = fmt.Errorf("%d violations left after 2 minutes", n)
			break
		}
		for _, q := range r.k.Fix {
			if _, err = r.conn.Exec(ctx, q); err != nil {
				break
			}
		}
	}
	r.step(Step{Name: "data fix", Took: time.Since(start), Err: err, Output: strings.Join(r.k.Fix, ";\n")})
}

func (r *run) step(s Step) {
	r.res.Steps = append(r.res.Steps, s)
	if r.cfg.Log != nil {
		status := "ok"
		if s.Err != nil {
			status = "FAILED: " + s.Err.Error()
		}
		fmt.Fprintf(r.cfg.Log, "[%s %s] %s: %s in %s\n%s", r.k.Name, r.mode, s.Name, status, Dur(s.Took), indent(s.Output))
	}
}

// execStatements sends each statement of sql on its own, in autocommit,
// with no lock_timeout, as psql -f does; it stops at the first error.
func execStatements(ctx context.Context, conn *pgx.Conn, sql string) error {
	for _, st := range statements(sql) {
		if _, err := conn.Exec(ctx, st, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
	}
	return nil
}

// connect opens the harness's own connection. It caches no statement: the
// same query text names other columns or types as the schema changes
// (and under another search_path), which a cached plan would refuse.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	cfg.RuntimeParams["application_name"] = "twocolor"
	return pgx.ConnectConfig(ctx, cfg)
}

// loopback refuses a database anywhere but this machine: the colors'
// traffic is a load test.
func loopback(dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		return nil // a Unix socket
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("twocolor sends load only to a loopback address or a Unix socket, not %q", host)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    | " + strings.ReplaceAll(s, "\n", "\n    | ") + "\n"
}
