package datacheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Count runs the checks' counts on q, in order, each in a READ ONLY
// transaction of its own (so q may be a read replica) under
// statement_timeout o.Timeout; it never writes. Skipped checks are
// returned as they are. A table whose estimated size is above
// o.SampleAbove is counted on a sample and the count scaled (Sampled),
// except for duplicates, which a sample does not show: they are counted
// exactly, within the timeout. A count that fails or times out says so
// in Err and is not a failure of the migration.
func Count(ctx context.Context, q Querier, checks []Check, o Options) []Result {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	version := o.PGVersion
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		if c.Skipped != "" {
			out = append(out, Result{Check: c})
			continue
		}
		if c.NeedsPG > 0 && c.Fallback != nil {
			if version == 0 {
				version = serverVersion(ctx, q)
			}
			if version < c.NeedsPG {
				c = *c.Fallback
			}
		}
		out = append(out, count(ctx, q, c, o))
	}
	return out
}

// serverVersion is q's major version, 0 when it cannot be read.
func serverVersion(ctx context.Context, q Querier) int {
	var v int
	_ = readOnly(ctx, q, DefaultTimeout, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT current_setting('server_version_num')::int / 10000`).Scan(&v)
	})
	return v
}

// Replayed reports whether q has replayed the WAL of its primary up to
// lsn; a server that is not in recovery (a primary, a copy) has.
func Replayed(ctx context.Context, q Querier, lsn string) (bool, error) {
	var ok bool
	err := readOnly(ctx, q, DefaultTimeout, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT NOT pg_is_in_recovery() OR coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`, lsn).Scan(&ok)
	})
	return ok, err
}

// readOnly runs fn in a READ ONLY transaction (a savepoint when q is a
// transaction) with statement_timeout set, and rolls it back.
func readOnly(ctx context.Context, q Querier, timeout time.Duration, fn func(pgx.Tx) error) error {
	tx, err := q.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	ms := max(timeout.Milliseconds(), 1)
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = %d", ms)); err != nil {
		return err
	}
	return fn(tx)
}

// count makes one check's count.
func count(ctx context.Context, q Querier, c Check, o Options) Result {
	r := Result{Check: c}
	start := time.Now()
	err := readOnly(ctx, q, o.Timeout, func(tx pgx.Tx) error {
		size := -1.0
		if c.Sample != "" && o.SampleAbove > 0 && c.Relation != "" {
			err := tx.QueryRow(ctx, `SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass($1)`, c.Relation).Scan(&size)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if size <= float64(o.SampleAbove) {
			return tx.QueryRow(ctx, c.SQL).Scan(&r.Rows)
		}
		var n, seen int64
		pct := 100 * float64(o.SampleAbove) / size
		if err := tx.QueryRow(ctx, c.Sample, pct).Scan(&n, &seen); err != nil {
			return err
		}
		r.Sampled = true
		if seen > 0 {
			r.Rows = int64(math.Round(float64(n) / float64(seen) * size))
		}
		if n > 0 && r.Rows == 0 {
			r.Rows = 1
		}
		return nil
	})
	r.Took = time.Since(start)
	if c.Convert {
		r.Rows = 0 // the conversion counts nothing: only its error tells
	}
	if err == nil {
		return r
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "57014" && ctx.Err() == nil:
		r.TimedOut = true
		r.Err = fmt.Sprintf("the count took longer than %s", o.Timeout)
	case c.Convert && errors.As(err, &pe) && dataError(pe.Code):
		r.Fails = pe.Message
	default:
		r.Err = err.Error()
	}
	return r
}

// dataError reports whether a SQLSTATE is an error of the data a value
// holds (class 22, data exception, or 23, integrity constraint, or a
// RAISE in a function of USING), as opposed to one of the query.
func dataError(code string) bool {
	return strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23") || code == "P0001"
}
