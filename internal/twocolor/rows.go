package twocolor

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// reader is one color's way of reading every row.
type reader struct {
	name       string
	readAll    string
	searchPath string // "" for the connection's default
}

// checkRows compares every row as each of readers reads it with the
// model and with the others, on one snapshot taken while no operation is
// in flight (the model is frozen for as long as that takes, not for the
// reads).
func checkRows(ctx context.Context, conn *pgx.Conn, m *model, readers []reader) RowCheck {
	var res RowCheck
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return RowCheck{Err: err.Error()}
	}
	defer tx.Rollback(context.Background())
	want, thaw := m.freeze()
	_, err = tx.Exec(ctx, "SELECT 1") // the snapshot
	thaw()
	if err != nil {
		return RowCheck{Err: err.Error()}
	}

	got := make([]map[int64]string, len(readers))
	for i, r := range readers {
		rows, err := readAll(ctx, tx, r)
		if err != nil {
			res.Err = join(res.Err, fmt.Sprintf("%s color cannot read the rows: %v", r.name, err))
			continue
		}
		dup := 0
		got[i] = map[int64]string{}
		for _, kv := range rows {
			if prev, ok := got[i][kv.id]; ok && prev != kv.value {
				dup++
				res.example(fmt.Sprintf("%s color reads row %d twice: %q and %q", r.name, kv.id, prev, kv.value))
			}
			got[i][kv.id] = kv.value
		}
		res.Mismatched += dup
	}

	ids := map[int64]bool{}
	for id := range want {
		ids[id] = true
	}
	for _, g := range got {
		for id := range g {
			ids[id] = true
		}
	}
	sorted := make([]int64, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, id := range sorted {
		e, had := want[id]
		bad := ""
		for i, g := range got {
			if g == nil {
				continue
			}
			v, ok := g[id]
			switch {
			case ok != had && had:
				bad = join(bad, fmt.Sprintf("%s color has no row, %s wrote %q last", readers[i].name, e.by, e.value))
			case ok != had:
				bad = join(bad, fmt.Sprintf("%s color reads %q of a row deleted or never inserted", readers[i].name, v))
			case ok && v != e.value:
				bad = join(bad, fmt.Sprintf("%s color reads %q, %s wrote %q last", readers[i].name, v, e.by, e.value))
			}
		}
		res.Rows++
		if bad != "" {
			res.Mismatched++
			res.example(fmt.Sprintf("row %d: %s", id, bad))
		}
	}
	return res
}

func (c *RowCheck) example(s string) {
	if len(c.Examples) < 3 {
		c.Examples = append(c.Examples, s)
	}
}

type idValue struct {
	id    int64
	value string
}

// readAll runs r.readAll in a savepoint of tx (a color that cannot read
// leaves tx usable for the next).
func readAll(ctx context.Context, tx pgx.Tx, r reader) ([]idValue, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer sp.Rollback(context.Background())
	if r.searchPath != "" {
		if _, err := sp.Exec(ctx, "SELECT set_config('search_path', $1, true)", r.searchPath); err != nil {
			return nil, err
		}
	}
	rows, err := sp.Query(ctx, r.readAll)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []idValue
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		if len(vals) < 2 {
			return nil, fmt.Errorf("%s: want id and value", r.readAll)
		}
		id, ok := vals[0].(int64)
		if !ok {
			return nil, fmt.Errorf("%s: id is %T, want bigint", r.readAll, vals[0])
		}
		out = append(out, idValue{id, text(vals[1])})
	}
	return out, rows.Err()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
