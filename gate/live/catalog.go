package live

import (
	"context"
	"fmt"
	"sort"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/jackc/pgx/v5"
)

// schemaFilter keeps PostgreSQL's and the runner's schemas out of a
// catalog, and keeps only the schemas asked for ($1, none: all).
const schemaFilter = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'bgmigrate')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
	AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))`

// notExtension excludes the objects an extension owns.
func notExtension(catalog, oid string) string {
	return fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '%s'::regclass AND d.objid = %s AND d.deptype = 'e')`, catalog, oid)
}

// ReadCatalog reads the catalog of the given schemas (all but PostgreSQL's
// and bgmigrate's when schemas is empty).
func ReadCatalog(ctx context.Context, conn *pgx.Conn, schemas []string) (*gate.Catalog, error) {
	if schemas == nil {
		schemas = []string{}
	}
	cat := &gate.Catalog{}
	tables := map[string]*gate.Table{}
	var order []string

	rows, err := conn.Query(ctx, `SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
			a.attnotnull, coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), a.attidentity <> '' OR a.attgenerated <> ''
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
		WHERE c.relkind IN ('r', 'p', 'f') AND `+schemaFilter+` AND `+notExtension("pg_class", "c.oid")+`
		ORDER BY 1, a.attnum`, schemas)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	for rows.Next() {
		var table string
		var c gate.Column
		if err := rows.Scan(&table, &c.Name, &c.Type, &c.NotNull, &c.Default, &c.Generated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns: %w", err)
		}
		if c.Generated {
			// A GENERATED … STORED column keeps its expression where a
			// default would be; no insert gives it a value.
			c.Default = ""
		}
		t := tables[table]
		if t == nil {
			t = &gate.Table{Name: table}
			tables[table] = t
			order = append(order, table)
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	// Tables without columns.
	if err := collect(ctx, conn, &order, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'f') AND `+schemaFilter+` AND `+notExtension("pg_class", "c.oid")+`
		  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)`, schemas); err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}
	for _, name := range order {
		if tables[name] == nil {
			tables[name] = &gate.Table{Name: name}
		}
	}

	rows, err = conn.Query(ctx, `SELECT n.nspname || '.' || c.relname, k.conname, pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype IN ('c', 'f', 'p', 'u', 'x') AND `+schemaFilter+`
		ORDER BY 1, 2`, schemas)
	if err != nil {
		return nil, fmt.Errorf("read constraints: %w", err)
	}
	for rows.Next() {
		var table string
		var k gate.Constraint
		if err := rows.Scan(&table, &k.Name, &k.Def); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read constraints: %w", err)
		}
		if t := tables[table]; t != nil {
			t.Constraints = append(t.Constraints, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read constraints: %w", err)
	}
	sort.Strings(order)
	for _, name := range order {
		cat.Tables = append(cat.Tables, *tables[name])
	}

	if err := collect(ctx, conn, &cat.Views, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('v', 'm') AND `+schemaFilter+` AND `+notExtension("pg_class", "c.oid")+` ORDER BY 1`, schemas); err != nil {
		return nil, fmt.Errorf("read views: %w", err)
	}
	if err := collect(ctx, conn, &cat.Sequences, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'S' AND `+schemaFilter+` AND `+notExtension("pg_class", "c.oid")+` ORDER BY 1`, schemas); err != nil {
		return nil, fmt.Errorf("read sequences: %w", err)
	}
	if err := collect(ctx, conn, &cat.Functions, `SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE `+schemaFilter+` AND `+notExtension("pg_proc", "p.oid")+` ORDER BY 1`, schemas); err != nil {
		return nil, fmt.Errorf("read functions: %w", err)
	}

	rows, err = conn.Query(ctx, `SELECT n.nspname || '.' || t.typname, e.enumlabel
		FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE `+schemaFilter+` AND `+notExtension("pg_type", "t.oid")+`
		ORDER BY 1, e.enumsortorder`, schemas)
	if err != nil {
		return nil, fmt.Errorf("read enums: %w", err)
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read enums: %w", err)
		}
		if n := len(cat.Enums); n == 0 || cat.Enums[n-1].Name != name {
			cat.Enums = append(cat.Enums, gate.Enum{Name: name})
		}
		e := &cat.Enums[len(cat.Enums)-1]
		e.Values = append(e.Values, value)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read enums: %w", err)
	}

	rows, err = conn.Query(ctx, `SELECT n.nspname || '.' || ic.relname, n.nspname || '.' || tc.relname, x.indisvalid
		FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = ic.relnamespace
		WHERE `+schemaFilter+` AND `+notExtension("pg_class", "tc.oid")+` ORDER BY 1`, schemas)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	for rows.Next() {
		var ix gate.Index
		if err := rows.Scan(&ix.Name, &ix.Table, &ix.Valid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read indexes: %w", err)
		}
		cat.Indexes = append(cat.Indexes, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	return cat, nil
}

// collect appends the query's single text column to out.
func collect(ctx context.Context, conn *pgx.Conn, out *[]string, q string, args ...any) error {
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	*out = append(*out, names...)
	return nil
}
