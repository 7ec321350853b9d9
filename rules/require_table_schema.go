package rules

import "github.com/bgmigrate/bgmigrate/parser"

var RequireTableSchema = &Rule{
	ID:       "require-table-schema",
	Summary:  "CREATE, ALTER or DROP TABLE with a name that is not schema-qualified",
	Help:     "qualify the table with its schema, e.g. public.orders",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** An unqualified table name is resolved through ` + "`search_path`" + `, which depends on the
role, the database, the connection string and whatever an earlier migration or pooler set. The
same file can then create a table in the wrong schema (the ` + "`\"$user\"`" + ` schema comes first by
default), or alter or drop a same-named table in another schema that sits earlier in the path.
Qualified names mean the same thing for the migration runner, both colors and a restore.

**Prefer.**

` + "```sql" + `
-- before
CREATE TABLE orders (id bigint PRIMARY KEY);
ALTER TABLE orders ADD COLUMN note text;
-- after
CREATE TABLE public.orders (id bigint PRIMARY KEY);
ALTER TABLE public.orders ADD COLUMN note text;
` + "```" + `

Temporary tables are not flagged: they live in the session's own schema.`,
	Stmt: func(p *Pass, s *Stmt) {
		var t parser.QName
		switch n := s.Node.(type) {
		case *parser.CreateTable:
			if n.Temporary {
				return
			}
			t = n.Table
		case *parser.AlterTable:
			if n.Object != "table" {
				return
			}
			t = n.Table
		case *parser.Rename:
			if s.Tag != "ALTER TABLE" {
				return
			}
			t = n.Table
		case *parser.SetSchema:
			if n.Object != "table" {
				return
			}
			t = n.Name
		case *parser.Drop:
			if n.Object != "table" {
				return
			}
			for _, q := range n.Names {
				if q.Schema == "" {
					p.Reportf(siteOf(s), "table %q is not schema-qualified; it is looked up through search_path", q.Name)
				}
			}
			return
		default:
			return
		}
		if t.Name != "" && t.Schema == "" {
			p.Reportf(siteOf(s), "table %q is not schema-qualified; it is looked up through search_path", t.Name)
		}
	},
}
