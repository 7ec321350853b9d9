// Command gate measures bgmigrate gate over a schema of 300 tables built by
// 300 migrations: the replays of the two colors' schemas on a dev database
// and the comparison with the live one. It prints figures; no timing
// decides pass or fail.
//
// The server is BGMIGRATE_BENCH_DATABASE_URL (a superuser URL; the bench
// creates and drops its own databases there), or a throwaway one started
// through internal/pgtest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	gatelive "github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

func main() {
	tables := flag.Int("tables", 300, "tables, one migration each")
	expand := flag.Int("expand", 10, "of which the last are the new color's expand migrations (they also add a column to an early table)")
	devURL := flag.String("dev-url", "", "where the gate replays (default: the bench's server; docker://IMAGE works)")
	runs := flag.Int("runs", 3, "gate runs; the best is reported with the others")
	queries := flag.Int("queries", 1000, "queries of each color, prepared at the schemas they meet (0: none)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *tables, *expand, *runs, *queries, *devURL); err != nil {
		fmt.Fprintln(os.Stderr, "bench/gate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, tables, expand, runs, queries int, devURL string) error {
	var srv *pgtest.Server
	var err error
	if u := os.Getenv("BGMIGRATE_BENCH_DATABASE_URL"); u != "" {
		srv, err = pgtest.StartURL(ctx, u)
	} else {
		srv, err = pgtest.Start(ctx)
	}
	if err != nil {
		return err
	}
	defer srv.Close()

	dir, err := os.MkdirTemp("", "bgmigrate-bench-gate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if devURL == "" {
		devURL = srv.URL
	}
	if err := writeMigrations(dir, tables, expand); err != nil {
		return err
	}
	start := time.Now()
	migs, err := runner.Load(ctx, dir, rules.Config{})
	if err != nil {
		return err
	}
	fmt.Printf("load+lint %d migrations: %s\n", len(migs), time.Since(start).Round(time.Millisecond))

	admin, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		return err
	}
	defer admin.Close(context.Background())
	live := fmt.Sprintf("bench_gate_live_%d", os.Getpid())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+live); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+live+" WITH (FORCE)")
	cfg, err := pgx.ParseConfig(srv.URL)
	if err != nil {
		return err
	}
	cfg.Database = live
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	oldIdx := len(migs) - expand - 1
	start = time.Now()
	if _, err := runner.Migrate(ctx, conn, migs[:oldIdx+1], runner.Options{Deployment: "r1", Log: io.Discard}); err != nil {
		return err
	}
	if _, err := runner.Migrate(ctx, conn, migs, runner.Options{Phase: runner.PhaseExpand, Deployment: "r2", Log: io.Discard}); err != nil {
		return err
	}
	fmt.Printf("live database migrated (not part of the gate): %s\n", time.Since(start).Round(time.Millisecond))

	qs := makeQueries(tables, queries)
	if queries > 0 {
		// The preparing alone, over the old color's schema and each of the
		// expand migrations after it.
		base, meet := gatelive.Prefix(oldIdx+1), []int{}
		for i := oldIdx + 1; i < len(migs); i++ {
			meet = append(meet, i)
		}
		start := time.Now()
		rep, err := gatelive.CheckQueries(ctx, gatelive.QueryOptions{DevURL: devURL, Migrations: migs, Old: qs, New: qs, Base: base, Meet: meet})
		if err != nil {
			return err
		}
		el := time.Since(start)
		prepares := len(qs)*(1+len(meet)) + len(qs)
		fmt.Printf("queries: %d of each color, %d prepares over %d schemas, %d failures, in %s (replays included): %.0f prepares/s, %.0f queries checked/s\n",
			len(qs), prepares, 2+len(meet), len(rep.OldFailures)+len(rep.NewFailures), el.Round(time.Millisecond),
			float64(prepares)/el.Seconds(), float64(2*len(qs))/el.Seconds())
	}
	var best time.Duration
	for i := 0; i < runs; i++ {
		start := time.Now()
		in, tm, err := gatelive.Collect(ctx, conn, gatelive.CollectOptions{Stage: gate.PreSwitch, Migrations: migs, DevURL: devURL,
			OldQueries: qs, NewQueries: qs})
		if err != nil {
			return err
		}
		cstart := time.Now()
		d := gate.Evaluate(in)
		compare := time.Since(cstart)
		total := time.Since(start)
		if !d.Allow {
			for _, c := range d.Blocks() {
				fmt.Println("  block:", c.Name, c.Reason)
			}
			return fmt.Errorf("the gate blocked a clean expand")
		}
		fmt.Printf("run %d: replays (old at %s, new at %s, %d tables) %s; live catalog and sessions %s; comparison %s; total %s\n",
			i+1, in.OldVersion, in.NewVersion, len(in.New.Tables), tm.Replay.Round(time.Millisecond), tm.Live.Round(time.Millisecond),
			compare.Round(time.Microsecond), total.Round(time.Millisecond))
		if best == 0 || total < best {
			best = total
		}
	}
	fmt.Printf("best gate run: %s with %d queries of each color (target under 10s)\n", best.Round(time.Millisecond), len(qs))
	return nil
}

// makeQueries writes n queries over the tables as an application would:
// lookups by key and by name, joins to the parent table, inserts,
// updates, deletes and SELECT *.
func makeQueries(tables, n int) []gate.Query {
	var out []gate.Query
	for i := 0; len(out) < n; i++ {
		t := i%tables + 1
		p := t - 1
		var q string
		switch i % 6 {
		case 0:
			q = fmt.Sprintf("SELECT id, name, amount FROM t%03d WHERE id = $1", t)
		case 1:
			if p < 1 {
				p = 2
				q = fmt.Sprintf("SELECT c.name, c.amount FROM t%03d c JOIN t%03d p ON c.parent_id = p.id WHERE p.id = $1", p, t)
			} else {
				q = fmt.Sprintf("SELECT c.name, p.name AS parent FROM t%03d c JOIN t%03d p ON c.parent_id = p.id WHERE c.created_at > $1", t, p)
			}
		case 2:
			q = fmt.Sprintf("INSERT INTO t%03d (name, amount) VALUES ($1, $2) RETURNING id", t)
		case 3:
			q = fmt.Sprintf("UPDATE t%03d SET amount = amount + $2 WHERE id = $1", t)
		case 4:
			q = fmt.Sprintf("SELECT count(*), sum(amount) FROM t%03d WHERE name LIKE $1", t)
		case 5:
			q = fmt.Sprintf("DELETE FROM t%03d WHERE id = $1", t)
		}
		out = append(out, gate.Query{Source: fmt.Sprintf("generated:%d", i+1), SQL: q})
	}
	return out
}

// writeMigrations writes n migrations, each creating a table with a foreign
// key to the one before, an index and a check; the last expand ones also
// add a column to one of the first tables.
func writeMigrations(dir string, n, expand int) error {
	for i := 1; i <= n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "CREATE TABLE t%03d (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  name varchar(100) NOT NULL,\n  amount numeric(12,2) CHECK (amount >= 0),\n  created_at timestamptz NOT NULL DEFAULT now()", i)
		if i > 1 {
			fmt.Fprintf(&b, ",\n  parent_id bigint REFERENCES t%03d (id)", i-1)
		}
		b.WriteString("\n);\n")
		fmt.Fprintf(&b, "CREATE INDEX t%03d_name_idx ON t%03d (name);\n", i, i)
		if i > n-expand {
			fmt.Fprintf(&b, "ALTER TABLE t%03d ADD COLUMN note text;\n", i-(n-expand))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d_m%03d.sql", i, i)), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
