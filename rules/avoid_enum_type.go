package rules

import "github.com/bgmigrate/bgmigrate/parser"

var AvoidEnumType = &Rule{
	ID:       "avoid-enum-type",
	Summary:  "CREATE TYPE … AS ENUM, whose values can be added but not removed or renamed safely",
	Help:     "use text with a CHECK constraint (or a lookup table) when the set of values will change",
	Severity: Warning,
	Style:    true,
	Since:    "0.2.0",
	Doc: `**Why.** An enum is compact (4 bytes) and sorts in declaration order, and adding a value is
cheap. Every other change is not: a value cannot be removed at all without recreating the
type and rewriting every column of it, renaming one breaks the color that still writes the
old name (renaming-enum-value), and before PostgreSQL 12 ADD VALUE cannot run inside a
transaction. In a blue-green deploy, where both colors write the column, a ` + "`text`" + ` column
with a CHECK constraint can move both ways: add the new check NOT VALID, validate it, drop the
old one, each step without blocking writes. A lookup table with a foreign key works too and
lets you add a value with an INSERT.

**The trade-off.** Keep the enum for a small set that only grows (a status machine you own
and will not shrink). Prefer text with a check, or a lookup table, when values may be retired
or renamed, or when other teams add them.

**Prefer.**

` + "```sql" + `
-- before
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
-- after
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped'))
);
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.CreateEnum)
		if !ok {
			return
		}
		p.Reportf(siteOf(s), "enum %q can gain values, but removing or renaming one later breaks a color or rewrites every column of it; consider text with a CHECK constraint", n.Type.String())
	},
}
