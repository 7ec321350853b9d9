package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/jackc/pgx/v5"
)

// backfill runs an UPDATE in ranges of the table's integer primary key,
// one transaction per batch, recording the last key done so a rerun after
// a crash resumes where it stopped.
func backfill(ctx context.Context, conn *pgx.Conn, m *Migration, unit int, u Unit, opts Options) error {
	s := u.Steps[0]
	b := s.Backfill
	table := b.Table
	if table == "" {
		table = s.Table
	}
	if table == "" {
		return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: errors.New("backfill: name the table (-- bgmigrate:backfill table=…)")}
	}
	key, err := primaryKey(ctx, conn, table)
	if err != nil {
		return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: err}
	}
	sql, err := parser.BatchedUpdate(s.SQL, key)
	if err != nil {
		return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: err}
	}
	sleep := time.Duration(0)
	if b.Sleep != "" {
		if sleep, err = time.ParseDuration(b.Sleep); err != nil {
			return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: fmt.Errorf("backfill sleep: %w", err)}
		}
	}
	var minKey, maxKey *int64
	q := fmt.Sprintf("SELECT min(%[1]s)::bigint, max(%[1]s)::bigint FROM %[2]s", pgx.Identifier{key}.Sanitize(), table)
	if err := conn.QueryRow(ctx, q).Scan(&minKey, &maxKey); err != nil {
		return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: err}
	}
	if minKey == nil {
		return nil // empty table
	}
	from := *minKey
	var resume *int64
	err = conn.QueryRow(ctx, `SELECT last_key FROM bgmigrate.progress WHERE version = $1 AND step = $2`, m.Version, unit).Scan(&resume)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if resume != nil {
		from = *resume
		fmt.Fprintf(opts.Log, "  backfill of %s resumes at %s = %d\n", table, key, from)
	}
	total := *maxKey - *minKey + 1
	bar := newProgress(opts.Log, total)
	start := time.Now()
	var rows int64
	for lo := from; lo <= *maxKey; lo += int64(b.Batch) {
		hi := lo + int64(b.Batch)
		err := retry(ctx, conn, m, s, opts, func() error {
			return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if err := setTimeouts(ctx, tx, opts, true); err != nil {
					return err
				}
				tag, err := tx.Exec(ctx, sql, lo, hi)
				if err != nil {
					return &StatementError{Path: m.Path, Line: s.Line, SQL: s.SQL, Err: err}
				}
				rows += tag.RowsAffected()
				_, err = tx.Exec(ctx, `INSERT INTO bgmigrate.progress (version, step, last_key, unit_hash, checksum) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (version, step) DO UPDATE SET last_key = excluded.last_key, unit_hash = excluded.unit_hash,
						checksum = excluded.checksum, updated_at = now()`, m.Version, unit, hi, u.Hash(), m.Checksum)
				return err
			})
		})
		if err != nil {
			return err
		}
		bar.set(hi - *minKey)
		if sleep > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(sleep):
			}
		}
	}
	bar.done()
	el := time.Since(start)
	fmt.Fprintf(opts.Log, "  %s:%d backfill of %s: %d rows in %s (%.0f rows/s)\n", m.Path, s.Line, table, rows, el.Round(time.Millisecond), float64(rows)/el.Seconds())
	return nil
}

// primaryKey returns the single integer primary key column of table.
func primaryKey(ctx context.Context, conn *pgx.Conn, table string) (string, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE i.indrelid = to_regclass($1) AND i.indisprimary`, table)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols, types []string
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return "", err
		}
		cols, types = append(cols, c), append(types, t)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(cols) != 1 {
		return "", fmt.Errorf("backfill of %s needs a single-column primary key", table)
	}
	switch types[0] {
	case "bigint", "integer", "smallint":
		return cols[0], nil
	}
	return "", fmt.Errorf("backfill of %s needs an integer primary key (%s is %s)", table, cols[0], types[0])
}

// progressBar draws a bar on a terminal; elsewhere it stays quiet (the log
// line at the end gives rows/s).
type progressBar struct {
	w     *os.File
	total int64
	last  time.Time
}

func newProgress(w any, total int64) *progressBar {
	f, ok := w.(*os.File)
	if !ok {
		return &progressBar{}
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return &progressBar{}
	}
	return &progressBar{w: f, total: total}
}

func (p *progressBar) set(n int64) {
	if p.w == nil || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	if n > p.total {
		n = p.total
	}
	const width = 30
	filled := int(n * width / max(p.total, 1))
	bar := make([]byte, width)
	for i := range bar {
		if i < filled {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	fmt.Fprintf(p.w, "\r  backfill [%s] %3d%%", bar, n*100/max(p.total, 1))
}

func (p *progressBar) done() {
	if p.w != nil {
		p.set(p.total)
		fmt.Fprintln(p.w)
	}
}
