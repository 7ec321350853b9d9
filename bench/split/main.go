// Command split runs each breaking statement kind through the two-color
// harness (internal/twocolor) three ways, side by side in one run: the
// migrations bgmigrate split writes (migrate expand, retire, migrate
// contract), the breaking migration applied as written while both colors
// run, and pgroll's equivalent operation (start, complete). It prints,
// per kind and way, the operations each color ran, their failures, the
// worst write latency, the row check and the schema check.
//
// It prints figures; nothing here passes or fails on a timing.
//
//	go run ./bench/split            (or bench/split/run.sh, which also builds pgroll)
//
// The server is BGMIGRATE_BENCH_DATABASE_URL (a superuser URL on a
// loopback address; the bench creates and drops its databases there) or a
// throwaway cluster started through internal/pgtest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/internal/twocolor"
	"github.com/jackc/pgx/v5"
)

// Environment variables read by the bench.
const (
	envURL    = "BGMIGRATE_BENCH_DATABASE_URL"
	envPgroll = "BGMIGRATE_BENCH_PGROLL"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	twocolor.Config
	Kinds   string
	Modes   string
	Verbose bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("split", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Rows, "rows", 100_000, "rows in the table under test")
	fs.IntVar(&cfg.Rate, "rate", 250, "operations per second of each color")
	fs.IntVar(&cfg.Conns, "conns", 8, "connections of each color")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "the old color alone before the change")
	fs.DurationVar(&cfg.Window, "window", 10*time.Second, "both colors together after expand")
	fs.DurationVar(&cfg.Tail, "tail", 2*time.Second, "the new color alone after the contract")
	fs.DurationVar(&cfg.LockTimeout, "lock-timeout", 2*time.Second, "bgmigrate's lock_timeout (and the stall limit, plus 100ms)")
	fs.StringVar(&cfg.Pgroll, "pgroll", os.Getenv(envPgroll), "pgroll binary (default $"+envPgroll+")")
	fs.StringVar(&cfg.Kinds, "kinds", "", "comma-separated kinds to run (default all): "+kindNames())
	fs.StringVar(&cfg.Modes, "modes", "split,unsplit,pgroll", "comma-separated ways to apply each change")
	fs.BoolVar(&cfg.Verbose, "v", false, "print each step's output to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	kinds, modes, err := selection(cfg.Kinds, cfg.Modes)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if cfg.Verbose {
		cfg.Log = stderr
	}
	if err := bench(ctx, cfg, kinds, modes, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

func kindNames() string {
	var names []string
	for _, k := range twocolor.Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

func selection(kindList, modeList string) ([]twocolor.Kind, []twocolor.Mode, error) {
	var kinds []twocolor.Kind
	if kindList == "" {
		kinds = twocolor.Kinds()
	}
	for _, name := range strings.Split(kindList, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		k, ok := twocolor.KindByName(name)
		if !ok {
			return nil, nil, fmt.Errorf("-kinds: no kind %q (%s)", name, kindNames())
		}
		kinds = append(kinds, k)
	}
	var modes []twocolor.Mode
	for _, m := range strings.Split(modeList, ",") {
		switch mode := twocolor.Mode(strings.TrimSpace(m)); mode {
		case twocolor.Split, twocolor.Unsplit, twocolor.Pgroll:
			modes = append(modes, mode)
		default:
			return nil, nil, fmt.Errorf("-modes: %q is not split, unsplit or pgroll", m)
		}
	}
	return kinds, modes, nil
}

func bench(ctx context.Context, cfg config, kinds []twocolor.Kind, modes []twocolor.Mode, stdout, stderr io.Writer) error {
	var srv *pgtest.Server
	var err error
	if u := os.Getenv(envURL); u != "" {
		srv, err = pgtest.StartURL(ctx, u)
	} else {
		srv, err = pgtest.Start(ctx)
	}
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(stderr, "bench: stop server: %v\n", err)
		}
	}()
	admin, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(context.Background())
	var version string
	if err := admin.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "bgmigrate-bench-split-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	pgrollNote := cfg.Pgroll
	if pgrollNote == "" {
		pgrollNote = "none: its rows are left out (bench/split/run.sh builds it)"
	}
	fmt.Fprintf(stdout, "server: PostgreSQL %s (%s); %d cores\n", version, srv.Kind, runtime.NumCPU())
	fmt.Fprintf(stdout, "each color: %d operations/s open loop (25%% insert, 35%% update, 5%% delete, 35%% read), %d connections; %d rows seeded\n",
		cfg.Rate, cfg.Conns, cfg.Rows)
	fmt.Fprintf(stdout, "timeline: old color %s, expand, both colors %s, old color stops, contract, new color %s\n", cfg.Warmup, cfg.Window, cfg.Tail)
	fmt.Fprintf(stdout, "bgmigrate: lock_timeout %s, so no write may take longer than %s; pgroll: %s\n\n",
		cfg.LockTimeout, twocolor.Dur(cfg.StallLimit()), pgrollNote)

	var results []*twocolor.Result
	seq := 0
	for _, k := range kinds {
		for _, mode := range modes {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			seq++
			res, err := runOne(ctx, admin, srv.URL, work, seq, k, mode, cfg.Config)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "%-28s %-8s %d failures, %d problems, worst write %s\n", k.Name, mode, res.Failures(), len(res.Problems()), twocolor.Dur(max(res.Old.MaxWrite, res.New.MaxWrite)))
			results = append(results, res)
		}
	}
	twocolor.WriteTable(stdout, results)
	return nil
}

// runOne runs k in mode on two fresh databases, dropped afterwards.
func runOne(ctx context.Context, admin *pgx.Conn, adminURL, work string, seq int, k twocolor.Kind, mode twocolor.Mode, cfg twocolor.Config) (*twocolor.Result, error) {
	var dbs []string
	defer func() {
		for _, db := range dbs {
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_, _ = admin.Exec(dctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
			cancel()
		}
	}()
	for _, role := range []string{"run", "expect"} {
		db := fmt.Sprintf("bench_split_%d_%d_%s", os.Getpid(), seq, role)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return nil, fmt.Errorf("create database: %w", err)
		}
		dbs = append(dbs, db)
	}
	var err error
	if cfg.URL, err = withDatabase(adminURL, dbs[0]); err != nil {
		return nil, err
	}
	if cfg.ExpectURL, err = withDatabase(adminURL, dbs[1]); err != nil {
		return nil, err
	}
	cfg.Dir = fmt.Sprintf("%s/%d_%s_%s", work, seq, k.Name, mode)
	res, err := twocolor.Run(ctx, k, mode, cfg)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// withDatabase returns the URL u pointing at database name.
func withDatabase(u, name string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme == "" {
		return "", fmt.Errorf("the database URL must be a postgres:// URL")
	}
	pu.Path = "/" + name
	pu.RawPath = ""
	return pu.String(), nil
}
