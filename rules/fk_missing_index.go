package rules

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

var FKMissingIndex = &Rule{
	ID:       "fk-missing-index",
	Summary:  "a foreign key whose columns do not lead any index of the referencing table by the end of the file",
	Help:     "create an index on the referencing columns first (CONCURRENTLY if the table exists), then add the foreign key",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** PostgreSQL requires an index on the referenced columns (the primary key or a
unique constraint) but creates none on the referencing ones. Every DELETE of a referenced row,
and every UPDATE of its key, must find the rows that point to it: without an index that starts
with the foreign key's columns, that is a scan of the whole referencing table, per row, while
the row locks are held. ON DELETE CASCADE and SET NULL make it worse. Deletes that took
milliseconds take seconds as the table grows, for both colors, which share the tables.

**Lock.** None beyond the foreign key's own at migration time; at run time each delete or key
update on the referenced table scans the referencing one. **Rewrite.** No.

**Safe recipe.** Index the referencing columns, then add the foreign key. On an existing table,
build the index CONCURRENTLY in an earlier migration that runs without a transaction; on a new
table, create the index in the same file.

` + "```sql" + `
-- before
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- after: 0042_index.sql (without a transaction)
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
-- 0043_fk.sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
` + "```" + `

The check runs at the end of the file: an index created after the foreign key in the same file
counts, as does any index (primary key and unique constraints included) whose leading columns
are the foreign key's, in any order. Referencing tables the replayed migrations do not know are
not checked: their indexes are unknown. Reported once per statement, at its first unindexed
foreign key; tables created in the same release are checked too, since the cost comes later.`,
	Stmt: func(p *Pass, s *Stmt) {
		// The foreign keys are checked at the end of the file, against
		// the indexes it created by then.
		if table, fks := foreignKeysOf(s); len(fks) > 0 {
			added := stateOf[[]addedForeignKeys](p)
			*added = append(*added, addedForeignKeys{table, fks, s.Span, siteOf(s)})
		}
	},
	File: func(p *Pass) {
		for _, s := range *stateOf[[]addedForeignKeys](p) {
			table, fks := s.table, s.fks
			tab := p.Catalog.Table(table)
			if tab == nil {
				continue
			}
			var missing []*parser.Constraint
			for _, k := range fks {
				if len(k.Columns) > 0 && stillReferences(tab, k) && !p.Catalog.Covered(table, k.Columns) {
					missing = append(missing, k)
				}
			}
			if len(missing) == 0 {
				continue
			}
			site := s.site
			if site == s.span && missing[0].Span.End.Offset > 0 {
				site = missing[0].Span
			}
			if len(missing) == 1 {
				k := missing[0]
				p.Reportf(site, "foreign key%s on %q (%s) has no index starting with its columns: each delete or key update in %q scans %q",
					constraintLabel(k), table.String(), strings.Join(k.Columns, ", "), k.References.Table.String(), table.String())
				continue
			}
			var cols []string
			for _, k := range missing {
				cols = append(cols, fmt.Sprintf("(%s)", strings.Join(k.Columns, ", ")))
			}
			p.Reportf(site, "foreign keys on %q %s have no index starting with their columns: each delete or key update in the referenced tables scans %q",
				table.String(), strings.Join(cols, ", "), table.String())
		}
	},
}

// addedForeignKeys are the foreign keys a statement adds to table, with
// the statement's span and where its findings go (siteOf).
type addedForeignKeys struct {
	table      parser.QName
	fks        []*parser.Constraint
	span, site parser.Span
}

// foreignKeysOf returns the table s adds foreign keys to, and those keys.
func foreignKeysOf(s *Stmt) (parser.QName, []*parser.Constraint) {
	var out []*parser.Constraint
	add := func(ks []*parser.Constraint) {
		for _, k := range ks {
			if k != nil && k.Kind == parser.ConstraintForeignKey && k.References != nil {
				out = append(out, k)
			}
		}
	}
	switch n := s.Node.(type) {
	case *parser.CreateTable:
		if n.Temporary {
			return parser.QName{}, nil
		}
		add(n.Constraints)
		return n.Table, out
	case *parser.AlterTable:
		if n.Object != "table" {
			return parser.QName{}, nil
		}
		for _, c := range n.Cmds {
			switch {
			case c.Op == parser.AddConstraint:
				add([]*parser.Constraint{c.Constraint})
			case c.Op == parser.AddColumn && c.ColumnDef != nil:
				add(c.ColumnDef.Constraints)
			}
		}
		return n.Table, out
	}
	return parser.QName{}, nil
}

// stillReferences reports whether the table, as the file left it, still
// has the foreign key k.
func stillReferences(tab *schema.Table, k *parser.Constraint) bool {
	for _, c := range tab.Constraints {
		if c.Kind == parser.ConstraintForeignKey && c.References != nil &&
			c.References.Table.Key() == k.References.Table.Key() && strings.Join(c.Columns, ",") == strings.Join(k.Columns, ",") {
			return true
		}
	}
	return false
}
