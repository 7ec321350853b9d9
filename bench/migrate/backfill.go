package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

// backfillResult is one tool filling new_col from old_col on every row of t
// while the writer runs.
type backfillResult struct {
	Tool     string
	Skipped  string        // why the tool did not run, when it did not
	Duration time.Duration // adding the column and backfilling it
	Rows     int64         // rows the backfill updated, when the tool says
	Complete time.Duration // pgroll complete
	Err      error
	Writes   writeStats

	// Failed writes during pgroll start and during pgroll complete.
	FailedStart, FailedComplete int
}

// backfillFiles is the bgmigrate side: a nullable column, then the UPDATE
// under the backfill directive.
func backfillFiles(batch int) []migFile {
	return []migFile{
		{"001_add_new_col.sql", "ALTER TABLE t ADD COLUMN new_col integer;\n"},
		{"002_backfill_new_col.sql", fmt.Sprintf("-- bgmigrate:backfill table=t batch=%d\nUPDATE t SET new_col = old_col;\n", batch)},
	}
}

var backfillLine = regexp.MustCompile(`backfill of \S+: (\d+) rows in`)

func (b *bench) backfillBgmigrate(ctx context.Context, dir string) (backfillResult, error) {
	res := backfillResult{Tool: "bgmigrate"}
	migs, err := runner.Load(ctx, dir, rules.Config{})
	if err != nil {
		return res, err
	}
	db, url, err := b.newDB(ctx)
	if err != nil {
		return res, err
	}
	defer b.dropDB(db)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())

	w, err := startWriter(ctx, url, b.cfg.Rate, b.cfg.Conns, b.cfg.Rows, b.cfg.WriteTimeout)
	if err != nil {
		return res, err
	}
	sleep(ctx, b.cfg.Settle)
	var log bytes.Buffer
	start := time.Now()
	_, res.Err = runner.Migrate(ctx, conn, migs, runner.Options{Phase: runner.PhaseAll, LockTimeout: b.cfg.LockTimeout, Log: &log, AppliedBy: "bench"})
	res.Duration = time.Since(start)
	sleep(ctx, b.cfg.Settle)
	res.Writes = w.stop()
	if m := backfillLine.FindStringSubmatch(log.String()); m != nil {
		res.Rows, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if b.cfg.Verbose {
		fmt.Fprint(b.stderr, indent(log.String(), "    | "))
	}
	if res.Err == nil {
		res.Err = checkBackfilled(ctx, conn, "new_col", b.cfg.Rows)
	}
	return res, nil
}

// pgrollMigration adds new_col with up SQL, so pgroll start backfills it
// from old_col in batches.
func pgrollMigration() string {
	return `{
  "operations": [
    {
      "add_column": {
        "table": "t",
        "up": "old_col",
        "column": {"name": "new_col", "type": "integer", "nullable": true}
      }
    }
  ]
}
`
}

func (b *bench) backfillPgroll(ctx context.Context, work string) (backfillResult, error) {
	res := backfillResult{Tool: "pgroll"}
	bin := b.cfg.Pgroll
	if bin == "" {
		res.Skipped = "BGMIGRATE_BENCH_PGROLL is not set (bench/migrate/run.sh builds pgroll v0.16.2 outside the repo and sets it)"
		return res, nil
	}
	if _, err := os.Stat(bin); err != nil {
		res.Skipped = fmt.Sprintf("pgroll binary %s: %v", bin, err)
		return res, nil
	}
	dir := filepath.Join(work, "pgroll")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	db, url, err := b.newDB(ctx)
	if err != nil {
		return res, err
	}
	defer b.dropDB(db)

	pg := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, append(args, "--postgres-url", url)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("pgroll %s: %v: %s", args[0], err, lastLines(string(out), 6))
		}
		return string(out), nil
	}
	if _, err := pg("init"); err != nil {
		res.Skipped = err.Error()
		return res, nil
	}
	if _, err := pg("baseline", "00_baseline", dir, "--yes"); err != nil {
		res.Skipped = err.Error()
		return res, nil
	}
	file := filepath.Join(dir, "01_add_new_col.json")
	if err := os.WriteFile(file, []byte(pgrollMigration()), 0o644); err != nil {
		return res, err
	}

	w, err := startWriter(ctx, url, b.cfg.Rate, b.cfg.Conns, b.cfg.Rows, b.cfg.WriteTimeout)
	if err != nil {
		return res, err
	}
	sleep(ctx, b.cfg.Settle)
	start := time.Now()
	_, res.Err = pg("start", file, "--backfill-batch-size", strconv.Itoa(b.cfg.Batch))
	startEnd := time.Now()
	res.Duration = startEnd.Sub(start)
	var complete, completeEnd time.Time
	if res.Err == nil {
		complete = time.Now()
		_, res.Err = pg("complete")
		completeEnd = time.Now()
		res.Complete = completeEnd.Sub(complete)
	}
	sleep(ctx, b.cfg.Settle)
	res.Writes = w.stop()
	res.FailedStart = res.Writes.failedBetween(start, startEnd)
	if !complete.IsZero() {
		res.FailedComplete = res.Writes.failedBetween(complete, completeEnd)
	}
	if res.Err == nil {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return res, fmt.Errorf("connect: %w", err)
		}
		defer conn.Close(context.Background())
		res.Err = checkBackfilled(ctx, conn, "new_col", b.cfg.Rows)
		res.Rows = b.cfg.Rows
	}
	return res, nil
}

// checkBackfilled fails when a row of the loaded range (ids up to rows)
// kept a NULL in col. Rows the writer inserted later are not counted: with
// bgmigrate the new code writes them, pgroll's trigger fills them.
func checkBackfilled(ctx context.Context, conn *pgx.Conn, col string, rows int64) error {
	var n int64
	q := fmt.Sprintf(`SELECT count(*) FROM t WHERE id <= $1 AND %s IS NULL`, pgx.Identifier{col}.Sanitize())
	if err := conn.QueryRow(ctx, q, rows).Scan(&n); err != nil {
		return fmt.Errorf("check backfill: %w", err)
	}
	if n > 0 {
		return errors.New(strconv.FormatInt(n, 10) + " rows were not backfilled")
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
