package rules

import "fmt"

var PreferJSONB = &Rule{
	ID:       "prefer-jsonb",
	Summary:  "a json column where jsonb is almost always meant",
	Help:     "use jsonb",
	Severity: Warning,
	Style:    true,
	Since:    "0.2.0",
	Doc: `**Why.** ` + "`json`" + ` stores the text as it came, duplicate keys and white space included, and
parses it again on every access. It has no equality operator, so a query that uses DISTINCT,
GROUP BY, UNION or a unique index over it fails, and it cannot be indexed with GIN. ` + "`jsonb`" + `
is what applications mean nearly every time; changing the column later is an ALTER COLUMN TYPE
that rewrites the table under an ACCESS EXCLUSIVE lock. Keep ` + "`json`" + ` only where the exact
text must be kept (a signed payload).

**Prefer.**

` + "```sql" + `
-- before
ALTER TABLE events ADD COLUMN payload json;
-- after
ALTER TABLE events ADD COLUMN payload jsonb;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			if u.Type.Name == "json" {
				return fmt.Sprintf("column %q of %q is json: it has no equality operator and no GIN index, and is parsed again on every read; use jsonb", u.Column, u.Table.String())
			}
			return ""
		})
	},
}
