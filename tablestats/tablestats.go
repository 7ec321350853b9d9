// Package tablestats reads the sizes of a live database's tables, for the
// size-aware lint verdicts (rules.Config.Tables). It reads only the
// statistics PostgreSQL keeps in its catalog: it counts no rows and takes
// no lock a migration or the application would wait for.
package tablestats

import (
	"context"
	"fmt"

	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/jackc/pgx/v5"
)

// relationsQuery lists the tables, partitioned tables and materialized
// views of the user schemas (every schema but pg_* and information_schema)
// with their row estimate, total size (indexes and TOAST included), heap
// size and, for a partition, its parent.
const relationsQuery = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.reltuples::float8,
       pg_total_relation_size(c.oid), pg_relation_size(c.oid),
       coalesce((SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition), 0::oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'`

type relation struct {
	key    string
	kind   string
	parent uint32
	stats  rules.TableStats
}

// Read returns the size of every table of the user schemas, keyed as
// parser.QName.Key: "table" in public, "schema.table" elsewhere. Rows is
// pg_class.reltuples, negative for a table that holds data but was never
// vacuumed or analyzed; Bytes is pg_total_relation_size. A partitioned
// table gets the sums over its partitions, whose own entries stay.
func Read(ctx context.Context, conn *pgx.Conn) (map[string]rules.TableStats, error) {
	rows, err := conn.Query(ctx, relationsQuery)
	if err != nil {
		return nil, fmt.Errorf("read table sizes: %w", err)
	}
	rels := map[uint32]*relation{}
	for rows.Next() {
		var (
			oid, parent  uint32
			schema, name string
			r            relation
			heap         int64
		)
		if err := rows.Scan(&oid, &schema, &name, &r.kind, &r.stats.Rows, &r.stats.Bytes, &heap, &parent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read table sizes: %w", err)
		}
		r.key, r.parent = key(schema, name), parent
		r.stats.Rows = rowEstimate(r.stats.Rows, heap)
		rels[oid] = &r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read table sizes: %w", err)
	}
	return collect(rels), nil
}

// key is parser.QName{Schema: schema, Name: name}.Key().
func key(schema, name string) string {
	if schema == "public" {
		return name
	}
	return schema + "." + name
}

// rowEstimate makes reltuples a row count, or -1 when it knows none.
// PostgreSQL 14 and later say -1 for a table never vacuumed or analyzed,
// earlier versions 0; a table without a single page is empty all the same.
func rowEstimate(reltuples float64, heapBytes int64) float64 {
	switch {
	case heapBytes == 0:
		return 0
	case reltuples < 0, reltuples == 0:
		// Pages on disk with no rows counted: a table not analyzed yet
		// (or one whose rows were all deleted since, which is rare).
		return -1
	}
	return reltuples
}

// collect keys the relations by name, adding each partition's figures to
// every partitioned table above it. A partitioned table with a partition of
// unknown rows has unknown rows.
func collect(rels map[uint32]*relation) map[string]rules.TableStats {
	sums := map[uint32]rules.TableStats{}
	for oid, r := range rels {
		if r.kind == "p" {
			sums[oid] = rules.TableStats{}
		}
	}
	for _, r := range rels {
		if r.kind == "p" {
			continue
		}
		// Walk up the partition tree; a cycle cannot happen in
		// pg_inherits, but the walk is bounded all the same.
		for up, depth := r.parent, 0; up != 0 && depth < len(rels); depth++ {
			parent, ok := rels[up]
			if !ok {
				break
			}
			s := sums[up]
			s.Bytes += r.stats.Bytes
			if s.Rows >= 0 {
				if r.stats.Rows < 0 {
					s.Rows = -1
				} else {
					s.Rows += r.stats.Rows
				}
			}
			sums[up] = s
			up = parent.parent
		}
	}
	out := make(map[string]rules.TableStats, len(rels))
	for oid, r := range rels {
		st := r.stats
		if r.kind == "p" {
			st = sums[oid]
		}
		out[r.key] = st
	}
	return out
}
