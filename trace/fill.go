package trace

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// fill gives every user table opts.Rows synthetic rows, referenced tables
// first: integers and keys count 1…N (so that a foreign key to another
// filled table finds its row), text and the like are derived from the
// count, columns with a default or that accept NULL and are of another
// type are left to their default. A table that cannot be filled so (a
// constraint the values break) is left as it is, and said.
func (t *tracer) fill(ctx context.Context) error {
	tables, err := fillOrder(ctx, t.conn)
	if err != nil {
		return err
	}
	for _, tab := range tables {
		cols, exprs, err := fillColumns(ctx, t.conn, tab)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			continue
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM generate_series(1, %d) AS g", tab, strings.Join(cols, ", "), strings.Join(exprs, ", "), t.opts.Rows)
		if _, err := t.conn.Exec(ctx, q); err != nil {
			fmt.Fprintf(t.log, "could not fill %s: %v\n", tab, err)
			continue
		}
		fmt.Fprintf(t.log, "filled %s with %d rows\n", tab, t.opts.Rows)
	}
	_, err = t.conn.Exec(ctx, "ANALYZE")
	return err
}

// fillOrder lists the user tables, each after the tables it references.
func fillOrder(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT c.oid::regclass::text,
		coalesce((SELECT array_agg(DISTINCT k.confrelid::regclass::text) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.confrelid <> c.oid), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'bgmigrate') AND n.nspname NOT LIKE 'pg_%'
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{}
	var names []string
	for rows.Next() {
		var name string
		var refs []string
		if err := rows.Scan(&name, &refs); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, name)
		deps[name] = refs
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string)
	visit = func(n string) {
		if state[n] != 0 {
			return
		}
		state[n] = 1
		for _, d := range deps[n] {
			visit(d)
		}
		state[n] = 2
		if _, ok := deps[n]; ok {
			out = append(out, n)
		}
	}
	for _, n := range names {
		visit(n)
	}
	return out, nil
}

// fillColumns gives the columns of tab to fill and the expression of each.
func fillColumns(ctx context.Context, conn *pgx.Conn, tab string) (cols, exprs []string, err error) {
	rows, err := conn.Query(ctx, `SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), t.typcategory::text, a.attnotnull,
		a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', a.atttypmod, t.typtype::text,
		(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid ORDER BY e.enumsortorder LIMIT 1)
		FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, tab)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ, cat, typtype string
		var notNull, hasDefault bool
		var typmod int
		var label *string
		if err := rows.Scan(&name, &typ, &cat, &notNull, &hasDefault, &typmod, &typtype, &label); err != nil {
			return nil, nil, err
		}
		if hasDefault {
			continue
		}
		var e string
		switch {
		case typtype == "e" && label != nil:
			e = fmt.Sprintf("%s::%s", quoteLiteral(*label), typ)
		case cat == "N":
			e = "g"
		case cat == "S":
			e = "'v' || g"
			if typmod > 4 {
				e = fmt.Sprintf("left('v' || g, %d)", typmod-4)
			}
		case cat == "B":
			e = "g % 2 = 0"
		case cat == "D":
			e = "now() - g * interval '1 minute'"
		case typ == "uuid":
			e = "md5(g::text)::uuid"
		case typ == "json" || typ == "jsonb":
			e = "'{}'"
		case cat == "A":
			e = "'{}'"
		case !notNull:
			continue
		default:
			return nil, nil, nil // a required column of a type it cannot make up
		}
		cols = append(cols, name)
		exprs = append(exprs, fmt.Sprintf("(%s)::%s", e, typ))
	}
	return cols, exprs, rows.Err()
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
