package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

// op is one schema change, written twice: the way a team writes it without
// the tool's lint (naive, run statement by statement with no lock_timeout)
// and the recipe the lint asks for (bgmigrate, applied by runner.Migrate).
type op struct {
	Key   string
	Title string
	Naive []string
	Safe  []migFile // in order; each a migration file of its own
	Lock  string    // what the naive DDL takes, for the notes
}

type migFile struct{ Name, SQL string }

func ops() []op {
	return []op{
		{
			Key: "a", Title: "add column, default",
			Naive: []string{`ALTER TABLE t ADD COLUMN flag boolean NOT NULL DEFAULT false`},
			Safe:  []migFile{{"001_add_flag.sql", "ALTER TABLE t ADD COLUMN flag boolean NOT NULL DEFAULT false;\n"}},
			Lock:  "ACCESS EXCLUSIVE, no rewrite",
		},
		{
			Key: "b", Title: "add foreign key",
			Naive: []string{`ALTER TABLE t ADD CONSTRAINT t_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id)`},
			Safe: []migFile{
				{"001_fk_not_valid.sql", "ALTER TABLE t ADD CONSTRAINT t_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;\n"},
				{"002_fk_validate.sql", "ALTER TABLE t VALIDATE CONSTRAINT t_parent_fk;\n"},
			},
			Lock: "SHARE ROW EXCLUSIVE during the validating scan",
		},
		{
			Key: "c", Title: "set not null",
			Naive: []string{`ALTER TABLE t ALTER COLUMN v SET NOT NULL`},
			Safe: []migFile{
				{"001_v_check.sql", "ALTER TABLE t ADD CONSTRAINT t_v_not_null CHECK (v IS NOT NULL) NOT VALID;\n"},
				{"002_v_validate.sql", "ALTER TABLE t VALIDATE CONSTRAINT t_v_not_null;\n"},
				{"003_v_set_not_null.sql", "ALTER TABLE t ALTER COLUMN v SET NOT NULL;\n"},
				{"004_v_drop_check.sql", "ALTER TABLE t DROP CONSTRAINT t_v_not_null;\n"},
			},
			Lock: "ACCESS EXCLUSIVE during the scan",
		},
		{
			Key: "d", Title: "create index",
			Naive: []string{`CREATE INDEX t_note_idx ON t (note)`},
			Safe:  []migFile{{"001_note_idx.sql", "CREATE INDEX CONCURRENTLY t_note_idx ON t (note);\n"}},
			Lock:  "SHARE (blocks writes) during the build",
		},
	}
}

// writeDir writes files into a new directory under parent.
func writeDir(parent, name string, files []migFile) (string, error) {
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), []byte(f.SQL), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// lintErrors returns the rules that stop bgmigrate's runner on files: the
// error findings of its lint.
func lintErrors(ctx context.Context, dir string) (string, error) {
	migs, err := runner.Load(ctx, dir, rules.Config{})
	if err != nil {
		return "", err
	}
	set := map[string]bool{}
	for _, m := range migs {
		for _, f := range m.Findings {
			set[f.Rule] = true
		}
	}
	var ids []string
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", "), nil
}

// ddlResult is one migration applied under the writer.
type ddlResult struct {
	Op       op
	Side     string // "naive" or "bgmigrate"
	Reader   bool
	Duration time.Duration
	Err      error
	Retries  int // lock_timeout hits the runner retried
	Writes   writeStats
}

const (
	sideNaive     = "naive"
	sideBgmigrate = "bgmigrate"
)

// runDDL applies one side of o on a fresh copy of the loaded database while
// the writer runs; with reader, a report query holds ACCESS SHARE on t for
// b.cfg.Reader from just before the migration starts.
func (b *bench) runDDL(ctx context.Context, o op, side string, dir string, reader bool) (ddlResult, error) {
	res := ddlResult{Op: o, Side: side, Reader: reader}
	db, url, err := b.newDB(ctx)
	if err != nil {
		return res, err
	}
	defer b.dropDB(db)

	var migs []*runner.Migration
	if side == sideBgmigrate {
		if migs, err = runner.Load(ctx, dir, rules.Config{}); err != nil {
			return res, err
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	var rconn *pgx.Conn
	if reader {
		if rconn, err = pgx.Connect(ctx, url); err != nil {
			return res, fmt.Errorf("connect reader: %w", err)
		}
		defer rconn.Close(context.Background())
	}

	w, err := startWriter(ctx, url, b.cfg.Rate, b.cfg.Conns, b.cfg.Rows, b.cfg.WriteTimeout)
	if err != nil {
		return res, err
	}
	sleep(ctx, b.cfg.Settle)

	readerDone := make(chan error, 1)
	if reader {
		held := make(chan struct{})
		go func() { readerDone <- longReader(ctx, rconn, b.cfg.Reader, held) }()
		select {
		case <-held:
		case err := <-readerDone:
			w.stop()
			return res, fmt.Errorf("reader: %w", err)
		}
	} else {
		readerDone <- nil
	}

	start := time.Now()
	switch side {
	case sideNaive:
		for _, q := range o.Naive {
			if _, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
				res.Err = err
				break
			}
		}
	case sideBgmigrate:
		var log bytes.Buffer
		_, res.Err = runner.Migrate(ctx, conn, migs, runner.Options{
			Phase:       runner.PhaseAll,
			LockTimeout: b.cfg.LockTimeout,
			Log:         &log,
			AppliedBy:   "bench",
		})
		res.Retries = strings.Count(log.String(), "lock not granted within")
		if b.cfg.Verbose {
			fmt.Fprint(b.stderr, indent(log.String(), "    | "))
		}
	}
	res.Duration = time.Since(start)
	if err := <-readerDone; err != nil && res.Err == nil {
		res.Err = fmt.Errorf("reader: %w", err)
	}
	sleep(ctx, b.cfg.Settle)
	res.Writes = w.stop()
	return res, nil
}

// longReader is a report: one transaction that reads t and then keeps its
// ACCESS SHARE lock for hold. held is closed once the lock is taken.
func longReader(ctx context.Context, conn *pgx.Conn, hold time.Duration, held chan<- struct{}) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE id <= 1000`).Scan(&n); err != nil {
		return err
	}
	close(held)
	if _, err := tx.Exec(ctx, `SELECT pg_sleep($1)`, hold.Seconds()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix) + "\n"
}
