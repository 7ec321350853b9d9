package rules

import "fmt"

var PreferTimestampTZ = &Rule{
	ID:       "prefer-timestamp-tz",
	Summary:  "a timestamp column without time zone",
	Help:     "use timestamptz (timestamp with time zone)",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** ` + "`timestamp`" + ` (without time zone) stores a wall-clock reading with no zone: the same
value means different instants to servers, sessions or colors configured with different time
zones, and comparisons with ` + "`now()`" + ` silently convert through the session's zone. ` + "`timestamptz`" + `
stores an instant (in UTC) and takes the same 8 bytes. Converting a column later is a table
rewrite under an ACCESS EXCLUSIVE lock (except from PostgreSQL 12 when the session zone is UTC).

**Prefer.**

` + "```sql" + `
-- before
ALTER TABLE app.orders ADD COLUMN shipped_at timestamp;
-- after
ALTER TABLE app.orders ADD COLUMN shipped_at timestamptz;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			if u.Type.Name == "timestamp" {
				return fmt.Sprintf("column %q of %q is timestamp without time zone; use timestamptz", u.Column, u.Table.String())
			}
			return ""
		})
	},
}
