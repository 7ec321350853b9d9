package rules

import "fmt"

var PreferBigintOverInt = &Rule{
	ID:       "prefer-bigint-over-int",
	Summary:  "an integer (int4) or serial column, which overflows at 2^31-1",
	Help:     "use bigint (or bigint GENERATED ALWAYS AS IDENTITY for a key)",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** An ` + "`integer`" + ` column holds values up to 2,147,483,647. Ids and counters reach that sooner
than anyone plans for, and then every insert fails. Widening the column later is a full table
rewrite under an ACCESS EXCLUSIVE lock (and of every index and referencing foreign key), which
blocks both colors for as long as it takes. The four extra bytes per row cost far less.

Flags ` + "`int`" + `, ` + "`integer`" + `, ` + "`int4`" + `, ` + "`serial`" + ` and ` + "`serial4`" + ` columns in CREATE TABLE, ADD COLUMN and
ALTER COLUMN … TYPE.

**Prefer.**

` + "```sql" + `
-- before
CREATE TABLE app.orders (id serial PRIMARY KEY, quantity integer NOT NULL);
-- after
CREATE TABLE app.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, quantity bigint NOT NULL);
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			switch u.Type.Name {
			case "int4", "serial", "serial4":
				return fmt.Sprintf("column %q of %q is %s, which overflows at 2147483647; use bigint", u.Column, u.Table.String(), u.Type.Text)
			}
			return ""
		})
	},
}
