package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// schemaSQL creates the runner's own tables. Everything lives in schema
// bgmigrate so the application's schema stays untouched.
const schemaSQL = `
CREATE SCHEMA IF NOT EXISTS bgmigrate;
CREATE TABLE IF NOT EXISTS bgmigrate.history (
    version      text PRIMARY KEY,
    name         text NOT NULL,
    checksum     text NOT NULL,
    phase        text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    duration_ms  bigint NOT NULL,
    applied_by   text NOT NULL,
    deployment   text,
    forced_reason text
);
CREATE TABLE IF NOT EXISTS bgmigrate.progress (
    version    text NOT NULL,
    step       int NOT NULL,
    last_key   bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, step)
);
ALTER TABLE bgmigrate.progress ADD COLUMN IF NOT EXISTS unit_hash text;
ALTER TABLE bgmigrate.progress ADD COLUMN IF NOT EXISTS checksum text;
CREATE TABLE IF NOT EXISTS bgmigrate.retirements (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    color      text,
    retired_at timestamptz NOT NULL DEFAULT now(),
    retired_by text NOT NULL,
    reason     text
);
`

// Applied is a row of the history table.
type Applied struct {
	Version, Name, Checksum, Phase string
	StartedAt, FinishedAt          time.Time
	Duration                       time.Duration
	AppliedBy                      string
	Deployment, ForcedReason       string
}

func ensureSchema(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, schemaSQL); err != nil {
		return fmt.Errorf("create schema bgmigrate: %w", err)
	}
	return nil
}

// History reads the applied migrations, oldest first. A database without
// the history table has none.
func History(ctx context.Context, conn *pgx.Conn) ([]Applied, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('bgmigrate.history') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, nil
	}
	rows, err := conn.Query(ctx, `SELECT version, name, checksum, phase, started_at, finished_at, duration_ms, applied_by,
		coalesce(deployment, ''), coalesce(forced_reason, '') FROM bgmigrate.history ORDER BY finished_at, version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var a Applied
		var ms int64
		if err := rows.Scan(&a.Version, &a.Name, &a.Checksum, &a.Phase, &a.StartedAt, &a.FinishedAt, &ms, &a.AppliedBy, &a.Deployment, &a.ForcedReason); err != nil {
			return nil, err
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}

// ChecksumError is an applied migration whose file changed since.
type ChecksumError struct {
	Path, Version, Applied, Now string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: migration %s was applied with checksum %.12s but the file now has %.12s; released migrations must not change (add a new migration)",
		e.Path, e.Version, e.Applied, e.Now)
}

// Pending splits migrations into applied and pending ones, checking the
// checksums of the applied ones.
func Pending(migs []*Migration, hist []Applied) ([]*Migration, error) {
	applied := map[string]Applied{}
	for _, a := range hist {
		applied[a.Version] = a
	}
	var pending []*Migration
	var errs []error
	for _, m := range migs {
		a, ok := applied[m.Version]
		if !ok {
			pending = append(pending, m)
			continue
		}
		if a.Checksum != m.Checksum && a.Phase != "baseline" {
			errs = append(errs, &ChecksumError{Path: m.Path, Version: m.Version, Applied: a.Checksum, Now: m.Checksum})
		}
	}
	return pending, errors.Join(errs...)
}
