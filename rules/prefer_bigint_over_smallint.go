package rules

import "fmt"

var PreferBigintOverSmallint = &Rule{
	ID:       "prefer-bigint-over-smallint",
	Summary:  "a smallint (int2) or smallserial column, which overflows at 32767",
	Help:     "use bigint; the saved bytes are rarely worth the later rewrite",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** A ` + "`smallint`" + ` column holds values up to 32,767. Once a counter or code runs past it,
inserts fail, and widening the column is a full table rewrite under an ACCESS EXCLUSIVE lock
that blocks both colors. Alignment padding often eats the two bytes saved anyway.

Flags ` + "`smallint`" + `, ` + "`int2`" + `, ` + "`smallserial`" + ` and ` + "`serial2`" + ` columns in CREATE TABLE, ADD COLUMN and
ALTER COLUMN … TYPE.

**Prefer.**

` + "```sql" + `
-- before
ALTER TABLE app.products ADD COLUMN stock smallint NOT NULL DEFAULT 0;
-- after
ALTER TABLE app.products ADD COLUMN stock bigint NOT NULL DEFAULT 0;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			switch u.Type.Name {
			case "int2", "smallserial", "serial2":
				return fmt.Sprintf("column %q of %q is %s, which overflows at 32767; use bigint", u.Column, u.Table.String(), u.Type.Text)
			}
			return ""
		})
	},
}
