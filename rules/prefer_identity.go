package rules

import "fmt"

var PreferIdentity = &Rule{
	ID:       "prefer-identity",
	Summary:  "a serial or bigserial column instead of an identity column",
	Help:     "use bigint GENERATED ALWAYS AS IDENTITY",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** ` + "`serial`" + ` is a macro: it creates a sequence, sets a ` + "`nextval`" + ` default and marks the
sequence as owned by the column. The pieces are separate objects with their own permissions
(GRANT on the table does not cover the sequence), they are easy to get out of step when
copying or renaming tables, and explicit inserts silently bypass the sequence. An identity
column is the SQL-standard form: one object, its sequence managed with it, and
` + "`GENERATED ALWAYS`" + ` rejects values written by hand.

**Prefer.**

` + "```sql" + `
-- before
CREATE TABLE app.events (id bigserial PRIMARY KEY, name text NOT NULL);
-- after
CREATE TABLE app.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			switch u.Type.Name {
			case "serial", "serial4", "bigserial", "serial8", "smallserial", "serial2":
				return fmt.Sprintf("column %q of %q is %s; use an identity column (GENERATED ALWAYS AS IDENTITY)", u.Column, u.Table.String(), u.Type.Name)
			}
			return ""
		})
	},
}
