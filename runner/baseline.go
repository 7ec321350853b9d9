package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Baseline sources: the history tables of other migration tools.
var baselineQueries = map[string]string{
	"golang-migrate": `SELECT version::text FROM schema_migrations WHERE NOT dirty`,
	"goose":          `SELECT version_id::text FROM goose_db_version WHERE is_applied AND version_id > 0 GROUP BY version_id HAVING bool_and(is_applied)`,
	"dbmate":         `SELECT version::text FROM schema_migrations`,
	"flyway":         `SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL`,
}

// BaselineTools lists the tools Baseline reads.
func BaselineTools() []string { return []string{"dbmate", "flyway", "golang-migrate", "goose"} }

// Baseline records as applied the migrations that another tool's history
// table says it applied, so a team can switch to bgmigrate mid-life.
// It returns the versions recorded.
func Baseline(ctx context.Context, conn *pgx.Conn, tool string, migs []*Migration, by string) ([]string, error) {
	q, ok := baselineQueries[tool]
	if !ok {
		return nil, fmt.Errorf("unknown tool %q (want %s)", tool, strings.Join(BaselineTools(), ", "))
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read the %s history: %w", tool, err)
	}
	applied := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		applied[strings.TrimLeft(v, "0")] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := ensureSchema(ctx, conn); err != nil {
		return nil, err
	}
	var done []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, m := range migs {
			if !applied[strings.TrimLeft(m.Version, "0")] {
				continue
			}
			tag, err := tx.Exec(ctx, `INSERT INTO bgmigrate.history (version, name, checksum, phase, started_at, finished_at, duration_ms, applied_by)
				VALUES ($1, $2, $3, 'baseline', now(), now(), 0, $4) ON CONFLICT (version) DO NOTHING`, m.Version, m.Name, m.Checksum, by)
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				done = append(done, m.Version)
			}
		}
		return nil
	})
	return done, err
}
