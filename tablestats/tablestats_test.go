package tablestats_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/tablestats"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func exec(t testing.TB, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestRead reads the statistics of plain, schema-qualified, partitioned,
// empty and never analyzed tables of a real database.
func TestRead(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	exec(t, conn, `
CREATE TABLE users (id bigint PRIMARY KEY, name text);
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 5000) g;
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id bigint, placed date) PARTITION BY RANGE (placed);
CREATE TABLE sales.orders_2025 PARTITION OF sales.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE sales.orders_2026 PARTITION OF sales.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO sales.orders SELECT g, date '2025-01-01' + (g % 700) FROM generate_series(1, 7000) g;
CREATE TABLE empty (id int);
ANALYZE users;
ANALYZE sales.orders;
CREATE TABLE unanalyzed (id int);
INSERT INTO unanalyzed SELECT generate_series(1, 100);`)

	got, err := tablestats.Read(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	size := func(table string) int64 {
		var n int64
		if err := conn.QueryRow(context.Background(), `SELECT pg_total_relation_size($1::regclass)`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		key  string
		want rules.TableStats
	}{
		{"users", rules.TableStats{Rows: 5000, Bytes: size("users")}},
		{"sales.orders_2025", rules.TableStats{Rows: got["sales.orders_2025"].Rows, Bytes: size("sales.orders_2025")}},
		{"sales.orders", rules.TableStats{Rows: 7000, Bytes: size("sales.orders_2025") + size("sales.orders_2026")}},
		{"empty", rules.TableStats{Rows: 0, Bytes: 0}},
		{"unanalyzed", rules.TableStats{Rows: -1, Bytes: size("unanalyzed")}},
	} {
		st, ok := got[tc.key]
		if !ok {
			t.Errorf("%s: missing from %v", tc.key, got)
			continue
		}
		if st != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.key, st, tc.want)
		}
	}
	if r := got["sales.orders_2025"].Rows; r <= 0 || r >= 7000 {
		t.Errorf("sales.orders_2025: %v rows, want part of 7000", r)
	}
	for key := range got {
		if key == "public.users" || strings.HasPrefix(key, "pg_catalog.") || strings.HasPrefix(key, "information_schema.") {
			t.Errorf("key %q: want public unqualified and no system tables", key)
		}
	}
}
