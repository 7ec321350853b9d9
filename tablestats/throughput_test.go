package tablestats_test

import (
	"context"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

// BenchmarkThroughput measures what rules.RewriteBytesPerSecond,
// IndexBytesPerSecond and ReadBytesPerSecond stand for on this machine: the
// total size of a table (pg_total_relation_size) divided by the time a
// statement that rewrites it, builds an index of it or reads it takes. Each
// statement but VACUUM runs in a transaction that is rolled back, so every
// run sees the same table. pgtest's own servers run with fsync off: measure
// on a server configured as in production, given by its URL:
//
//	BGMIGRATE_TEST_DATABASE_URL=postgres://… go test ./tablestats -run '^$' -bench Throughput -benchtime 3x
func BenchmarkThroughput(b *testing.B) {
	ctx := context.Background()
	conn := pgtest.Conn(b)
	exec(b, conn, `
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL, amount numeric(12,2),
                     status text NOT NULL, note text, placed_at timestamptz NOT NULL);
INSERT INTO orders SELECT g, g % 5000, (g % 100000) / 100.0, 'shipped', 'order number ' || g, now() - g * interval '1 minute'
FROM generate_series(1, 1000000) g;
CREATE INDEX orders_account_id_idx ON orders (account_id);
CREATE TABLE accounts (id bigint PRIMARY KEY);
INSERT INTO accounts SELECT generate_series(0, 4999);`)
	exec(b, conn, `VACUUM ANALYZE orders`)
	exec(b, conn, `VACUUM ANALYZE accounts`)
	var total int64
	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('orders')`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, sql string }{
		{"rewrite/alter-column-type", `ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,3)`},
		{"rewrite/volatile-default", `ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid()`},
		{"rewrite/vacuum-full", `VACUUM FULL orders`},
		{"read/check", `ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0)`},
		{"read/set-not-null", `ALTER TABLE orders ALTER COLUMN note SET NOT NULL`},
		{"read/foreign-key", `ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts`},
		{"index/create-index", `CREATE INDEX orders_placed_at_idx ON orders (placed_at)`},
		{"index/create-index-text", `CREATE INDEX orders_note_idx ON orders (note)`},
		{"index/unique", `ALTER TABLE orders ADD CONSTRAINT orders_id_key UNIQUE (id)`},
		{"index/reindex", `REINDEX TABLE orders`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var spent time.Duration
			for b.Loop() {
				// VACUUM cannot run in a transaction block: it runs on its
				// own, which leaves the table as it was.
				vacuum := bc.sql[:6] == "VACUUM"
				if !vacuum {
					exec(b, conn, "BEGIN")
				}
				start := time.Now()
				exec(b, conn, bc.sql)
				spent += time.Since(start)
				if !vacuum {
					exec(b, conn, "ROLLBACK")
				}
			}
			perSec := float64(total) / (spent.Seconds() / float64(b.N))
			b.ReportMetric(perSec/(1<<20), "MiB/s")
			b.ReportMetric(float64(total)/(1<<20), "MiB")
		})
	}
}
