// Command migrate measures what a concurrent writer sees while migrations
// run on a 1,000,000-row table: the same schema changes applied naively
// (each statement as is, no lock_timeout) and through bgmigrate's runner
// (lock_timeout, retries, the safe recipes its lint asks for), with and
// without a long-running reader in the way; then backfill throughput of
// bgmigrate's batched backfill next to pgroll's.
//
// It prints figures; nothing here passes or fails on a timing.
//
//	go run ./bench/migrate            (or bench/migrate/run.sh, which also builds pgroll)
//
// The server is BGMIGRATE_BENCH_DATABASE_URL (a superuser URL; the bench
// creates and drops its databases there) or a throwaway cluster started
// through internal/pgtest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// Environment variables read by the bench.
const (
	envURL    = "BGMIGRATE_BENCH_DATABASE_URL"
	envPgroll = "BGMIGRATE_BENCH_PGROLL"
)

type config struct {
	Rows         int64
	Rate         int
	Conns        int
	WriteTimeout time.Duration
	LockTimeout  time.Duration
	Reader       time.Duration
	Settle       time.Duration
	Batch        int
	Pgroll       string
	Sections     string
	Verbose      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&cfg.Rows, "rows", 1_000_000, "rows in the table")
	fs.IntVar(&cfg.Rate, "rate", 500, "writes per second of the concurrent writer")
	fs.IntVar(&cfg.Conns, "conns", 20, "writer's connection pool size (500 writes/s need few; with 100 on 2 cores the writes released together after a lock timeout queue for CPU)")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", 3*time.Second, "client timeout of each write")
	fs.DurationVar(&cfg.LockTimeout, "lock-timeout", 2*time.Second, "bgmigrate runner's lock_timeout")
	fs.DurationVar(&cfg.Reader, "reader", 5*time.Second, "how long the long-running reader holds ACCESS SHARE")
	fs.DurationVar(&cfg.Settle, "settle", time.Second, "writer time before and after each migration")
	fs.IntVar(&cfg.Batch, "batch", 10_000, "backfill batch size (both tools)")
	fs.StringVar(&cfg.Pgroll, "pgroll", os.Getenv(envPgroll), "pgroll binary (default $"+envPgroll+")")
	fs.StringVar(&cfg.Sections, "sections", "quiet,reader,backfill", "what to run: quiet, reader, backfill")
	fs.BoolVar(&cfg.Verbose, "v", false, "print the runner's log to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	b := &bench{cfg: cfg, stdout: stdout, stderr: stderr}
	if err := b.run(ctx); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// bench is one run: a server, the loaded template database, and copies of
// it, one per measurement.
type bench struct {
	cfg            config
	stdout, stderr io.Writer

	srv      *pgtest.Server
	admin    *pgx.Conn
	version  int
	template string
	seq      int
	work     string
}

func (b *bench) run(ctx context.Context) error {
	if err := b.start(ctx); err != nil {
		return err
	}
	defer b.close()
	var err error
	if b.work, err = os.MkdirTemp("", "bgmigrate-bench-migrate-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)

	load := time.Now()
	if err := b.loadTemplate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(b.stdout, "loaded %d rows into t (and 1000 into parent) in %s\n\n", b.cfg.Rows, fmtDur(time.Since(load)))

	sections := map[string]bool{}
	for _, s := range strings.Split(b.cfg.Sections, ",") {
		sections[strings.TrimSpace(s)] = true
	}
	var all []ddlResult
	if sections["quiet"] || sections["reader"] {
		list := ops()
		safeDirs := b.printRecipes(ctx, list)
		for _, reader := range []bool{false, true} {
			if (!reader && !sections["quiet"]) || (reader && !sections["reader"]) {
				continue
			}
			b.printDDLHeader(reader)
			for _, o := range list {
				for _, side := range []string{sideNaive, sideBgmigrate} {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					r, err := b.runDDL(ctx, o, side, safeDirs[o.Key], reader)
					if err != nil {
						return fmt.Errorf("(%s) %s, %s: %w", o.Key, o.Title, side, err)
					}
					b.printDDL(r)
					all = append(all, r)
				}
			}
			fmt.Fprintln(b.stdout)
		}
		b.printTarget(all)
	}
	if sections["backfill"] {
		if err := b.backfill(ctx); err != nil {
			return err
		}
	}
	return nil
}

// start finds the server and, when the bench started it, tunes it.
func (b *bench) start(ctx context.Context) error {
	var err error
	if u := os.Getenv(envURL); u != "" {
		b.srv, err = pgtest.StartURL(ctx, u)
	} else {
		b.srv, err = pgtest.Start(ctx)
	}
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if b.admin, err = pgx.Connect(ctx, b.srv.URL); err != nil {
		b.srv.Close()
		return fmt.Errorf("connect: %w", err)
	}
	var v, full string
	if err := b.admin.QueryRow(ctx, `SELECT current_setting('server_version_num'), current_setting('server_version')`).Scan(&v, &full); err != nil {
		b.close()
		return err
	}
	b.version, _ = strconv.Atoi(v)

	tuning := "none (a server the bench did not start is left as it is)"
	if b.srv.Kind != pgtest.KindURL {
		// Reloadable settings only: pgtest has no way to pass
		// shared_buffers, which needs a restart.
		for _, s := range []string{
			"ALTER SYSTEM SET maintenance_work_mem = '256MB'",
			"ALTER SYSTEM SET max_wal_size = '8GB'",
			"ALTER SYSTEM SET checkpoint_timeout = '30min'",
			"SELECT pg_reload_conf()",
		} {
			if _, err := b.admin.Exec(ctx, s); err != nil {
				b.close()
				return fmt.Errorf("tune: %s: %w", s, err)
			}
		}
		tuning = "maintenance_work_mem=256MB max_wal_size=8GB checkpoint_timeout=30min (shared_buffers left at the default: pgtest cannot pass it)"
	}
	var sb string
	_ = b.admin.QueryRow(ctx, `SHOW shared_buffers`).Scan(&sb)
	fmt.Fprintf(b.stdout, "server: PostgreSQL %s (%s), shared_buffers=%s; %d cores\n", full, b.srv.Kind, sb, runtime.NumCPU())
	fmt.Fprintf(b.stdout, "tuning: %s\n", tuning)
	fmt.Fprintf(b.stdout, "writer: %d writes/s (7 UPDATE : 3 INSERT on t), pool of %d, client timeout %s; latency counted from when each write was due\n",
		b.cfg.Rate, b.cfg.Conns, b.cfg.WriteTimeout)
	fmt.Fprintf(b.stdout, "bgmigrate runner: lock_timeout %s, 5 retries, backoff 500ms doubling with jitter (the defaults)\n", b.cfg.LockTimeout)
	return nil
}

func (b *bench) close() {
	if b.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if b.template != "" {
			id := pgx.Identifier{b.template}.Sanitize()
			_, _ = b.admin.Exec(ctx, "ALTER DATABASE "+id+" WITH IS_TEMPLATE false")
			_, _ = b.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+id)
		}
		_ = b.admin.Close(ctx)
		cancel()
	}
	if err := b.srv.Close(); err != nil {
		fmt.Fprintf(b.stderr, "bench: stop server: %v\n", err)
	}
}

// loadTemplate creates the database every measurement copies: parent (1000
// rows) and t (cfg.Rows rows, loaded by one INSERT … generate_series).
func (b *bench) loadTemplate(ctx context.Context) error {
	b.template = fmt.Sprintf("bench_migrate_tpl_%d", os.Getpid())
	id := pgx.Identifier{b.template}.Sanitize()
	if _, err := b.admin.Exec(ctx, "CREATE DATABASE "+id); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	u, err := withDatabase(b.srv.URL, b.template)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	stmts := []string{
		`CREATE TABLE parent (id bigint PRIMARY KEY, name text NOT NULL)`,
		`INSERT INTO parent SELECT g, 'parent ' || g FROM generate_series(1, 1000) g`,
		`CREATE TABLE t (
			id bigint GENERATED BY DEFAULT AS IDENTITY,
			parent_id bigint,
			v integer,
			note text,
			old_col integer,
			created_at timestamptz NOT NULL DEFAULT now()
		)`,
		fmt.Sprintf(`INSERT INTO t (id, parent_id, v, note, old_col)
			SELECT g, 1 + g %% 1000, g %% 1000, 'row ' || g, g FROM generate_series(1, %d) g`, b.cfg.Rows),
		`ALTER TABLE t ADD PRIMARY KEY (id)`,
		fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('t', 'id'), %d)`, b.cfg.Rows),
		`CREATE INDEX t_parent_id_idx ON t (parent_id)`,
		`VACUUM (FREEZE, ANALYZE) parent, t`,
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			conn.Close(context.Background())
			return fmt.Errorf("load: %w\n  in: %s", err, strings.TrimSpace(s))
		}
	}
	conn.Close(context.Background())
	if _, err := b.admin.Exec(ctx, "ALTER DATABASE "+id+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	return nil
}

// newDB copies the template into a new database and returns its name and
// URL.
func (b *bench) newDB(ctx context.Context) (string, string, error) {
	b.seq++
	name := fmt.Sprintf("bench_migrate_%d_%d", os.Getpid(), b.seq)
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{b.template}.Sanitize()
	if b.version >= 150000 {
		q += " STRATEGY FILE_COPY"
	}
	if _, err := b.admin.Exec(ctx, q); err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	u, err := withDatabase(b.srv.URL, name)
	return name, u, err
}

func (b *bench) dropDB(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize()
	if b.version >= 130000 {
		q += " WITH (FORCE)"
	}
	if _, err := b.admin.Exec(ctx, q); err != nil {
		fmt.Fprintf(b.stderr, "bench: drop %s: %v\n", name, err)
	}
}

// withDatabase returns the URL u pointing at database name.
func withDatabase(u, name string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	if pu.Scheme == "" {
		return "", errors.New("the database URL must be a postgres:// URL")
	}
	pu.Path = "/" + name
	pu.RawPath = ""
	return pu.String(), nil
}

func (b *bench) backfill(ctx context.Context) error {
	fmt.Fprintf(b.stdout, "== 2. Backfill: UPDATE t SET new_col = old_col on %d rows, batch %d, under the writer ==\n", b.cfg.Rows, b.cfg.Batch)
	fmt.Fprintln(b.stdout, "bgmigrate: 001 ADD COLUMN new_col integer; 002 -- bgmigrate:backfill table=t batch=N + the UPDATE (runner.Migrate, both files timed)")
	fmt.Fprintln(b.stdout, "pgroll:    init, baseline, then add_column new_col with up: old_col; `pgroll start` (adds the column, triggers, backfills) timed, then `pgroll complete`")
	dir, err := writeDir(b.work, "backfill", backfillFiles(b.cfg.Batch))
	if err != nil {
		return err
	}
	var results []backfillResult
	r, err := b.backfillBgmigrate(ctx, dir)
	if err != nil {
		return fmt.Errorf("bgmigrate backfill: %w", err)
	}
	results = append(results, r)
	if r, err = b.backfillPgroll(ctx, b.work); err != nil {
		return fmt.Errorf("pgroll backfill: %w", err)
	}
	results = append(results, r)

	fmt.Fprintf(b.stdout, "%-10s %10s %12s %10s | %7s %7s %8s %8s %8s\n", "tool", "duration", "rows/s", "complete", "writes", "failed", "p50", "p99", "max")
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(b.stdout, "%-10s not run: %s\n", r.Tool, r.Skipped)
			continue
		}
		rows := r.Rows
		if rows == 0 {
			rows = b.cfg.Rows
		}
		complete := "-"
		if r.Complete > 0 {
			complete = fmtDur(r.Complete)
		}
		fmt.Fprintf(b.stdout, "%-10s %10s %12.0f %10s | %7d %7d %8s %8s %8s\n", r.Tool, fmtDur(r.Duration), float64(rows)/r.Duration.Seconds(), complete,
			r.Writes.Writes, r.Writes.Failed, fmtDur(r.Writes.P50), fmtDur(r.Writes.P99), fmtDur(r.Writes.Max))
		if r.Err != nil {
			fmt.Fprintf(b.stdout, "%-10s error: %s\n", "", oneLine(r.Err.Error()))
		}
		if r.Tool == "pgroll" && r.Writes.Failed > 0 {
			fmt.Fprintf(b.stdout, "%-10s failed writes: %d during start, %d during complete, %d outside both\n", "",
				r.FailedStart, r.FailedComplete, r.Writes.Failed-r.FailedStart-r.FailedComplete)
		}
		if r.Writes.Example != "" {
			fmt.Fprintf(b.stdout, "%-10s a failed write: %s\n", "", oneLine(r.Writes.Example))
		}
	}
	fmt.Fprintln(b.stdout)
	return nil
}

// printRecipes writes each op's two sides to disk and prints them, with
// the lint errors bgmigrate finds in the naive file.
func (b *bench) printRecipes(ctx context.Context, list []op) map[string]string {
	safeDirs := map[string]string{}
	fmt.Fprintln(b.stdout, "Each side runs the migration a team would write without and with bgmigrate's lint:")
	fmt.Fprintln(b.stdout, "  naive     = each statement sent as is with pgx Exec, no lock_timeout (as `psql -f` would)")
	fmt.Fprintln(b.stdout, "  bgmigrate = the lint's safe recipe, one file per step, applied by runner.Migrate")
	for _, o := range list {
		fmt.Fprintf(b.stdout, "(%s) %s\n", o.Key, o.Title)
		var nf []migFile
		for i, q := range o.Naive {
			nf = append(nf, migFile{fmt.Sprintf("%03d_naive.sql", i+1), q + ";\n"})
			fmt.Fprintf(b.stdout, "    naive:     %s;  -- %s\n", q, o.Lock)
		}
		for _, f := range o.Safe {
			fmt.Fprintf(b.stdout, "    bgmigrate: %-24s %s\n", f.Name, strings.TrimSpace(f.SQL))
		}
		if nd, err := writeDir(b.work, "naive_"+o.Key, nf); err == nil {
			if ids, err := lintErrors(ctx, nd); err == nil {
				if ids == "" {
					ids = "none at error severity"
				}
				fmt.Fprintf(b.stdout, "    bgmigrate lint errors on the naive file: %s\n", ids)
			}
		}
		if sd, err := writeDir(b.work, "safe_"+o.Key, o.Safe); err == nil {
			safeDirs[o.Key] = sd
		}
	}
	fmt.Fprintln(b.stdout)
	return safeDirs
}

func (b *bench) printDDLHeader(reader bool) {
	if reader {
		fmt.Fprintf(b.stdout, "== 1b. DDL under %d writes/s, with a report transaction holding ACCESS SHARE on t for %s from just before the DDL ==\n", b.cfg.Rate, b.cfg.Reader)
	} else {
		fmt.Fprintf(b.stdout, "== 1a. DDL under %d writes/s, nothing else running ==\n", b.cfg.Rate)
	}
	fmt.Fprintf(b.stdout, "%-24s %-9s %9s %7s | %6s %6s %8s %8s %9s %8s  %s\n", "operation", "side", "migration", "retries", "writes", "failed", "p50", "p99", "max", "max-in-db", "target")
}

func (b *bench) printDDL(r ddlResult) {
	label := ""
	if r.Side == sideNaive {
		label = "(" + r.Op.Key + ") " + r.Op.Title
	}
	retries, target := "-", ""
	if r.Side == sideBgmigrate {
		retries = strconv.Itoa(r.Retries)
		target = "met"
		if r.Writes.Max > b.cfg.LockTimeout+100*time.Millisecond || r.Writes.Failed > 0 {
			target = "MISSED"
		}
	}
	max := fmtDur(r.Writes.Max)
	if r.Writes.Timeouts > 0 {
		max = ">=" + max // writes that timed out count at their timeout
	}
	fmt.Fprintf(b.stdout, "%-24s %-9s %9s %7s | %6d %6d %8s %8s %9s %8s  %s\n", label, r.Side, fmtDur(r.Duration), retries,
		r.Writes.Writes, r.Writes.Failed, fmtDur(r.Writes.P50), fmtDur(r.Writes.P99), max, fmtDur(r.Writes.MaxInDB), target)
	if r.Err != nil {
		fmt.Fprintf(b.stdout, "%-24s migration error: %s\n", "", oneLine(r.Err.Error()))
	}
	if r.Writes.Timeouts > 0 {
		fmt.Fprintf(b.stdout, "%-24s %d writes hit the %s client timeout\n", "", r.Writes.Timeouts, b.cfg.WriteTimeout)
	}
	if r.Writes.Example != "" {
		fmt.Fprintf(b.stdout, "%-24s a failed write: %s\n", "", oneLine(r.Writes.Example))
	}
}

func (b *bench) printTarget(all []ddlResult) {
	limit := b.cfg.LockTimeout + 100*time.Millisecond
	n, met := 0, 0
	var worst time.Duration
	for _, r := range all {
		if r.Side != sideBgmigrate {
			continue
		}
		n++
		if r.Writes.Max <= limit && r.Writes.Failed == 0 {
			met++
		}
		worst = max(worst, r.Writes.Max)
	}
	if n == 0 {
		return
	}
	verdict := "MET"
	if met < n {
		verdict = "NOT MET"
	}
	fmt.Fprintf(b.stdout, "target: with bgmigrate no write waits longer than lock_timeout + 100ms = %s (and none fails): %s in %d of %d runs (worst write %s)\n\n",
		fmtDur(limit), verdict, met, n, fmtDur(worst))
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + " …"
	}
	return s
}
