package rules

import "github.com/bgmigrate/bgmigrate/parser"

var BanDropNotNull = &Rule{
	ID:       "ban-drop-not-null",
	Summary:  "ALTER COLUMN DROP NOT NULL on a column the running color reads",
	Help:     "make sure the running color handles NULL in this column before the new color writes any",
	Severity: Info,
	Since:    "0.1.0",
	Doc: `**Why.** Dropping NOT NULL is an expand step: the old color's writes all still succeed. But
the two colors share the data. Once the new color writes NULL into the column, the old color
reads it, and code that scans it into a non-nullable field ("converting NULL to string is
unsupported"), or that assumes a value, fails, during the rollout and after a rollback.

**Lock.** ACCESS EXCLUSIVE, briefly (a catalog change). **Rewrite.** No.

**Class.** expand.

**Safe recipe.** Ship the change in two releases:
1. Release N: the application reads the column as nullable (and still always writes a value).
2. Release N+1: drop NOT NULL and start writing NULL.

` + "```sql" + `
-- before: the same release starts writing NULL
ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
-- after: release 42 reads phone as nullable; release 43 runs
-- bgmigrate:ignore ban-drop-not-null -- release 42 reads users.phone as nullable
ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
` + "```" + `

Columns and tables created in the same unreleased set are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		for _, c := range n.Cmds {
			if c.Op == parser.DropNotNull && !freshColumn(p, n.Table, c.Column) {
				p.Reportf(siteOf(s), "dropping NOT NULL on column %q of %q lets the new color write NULLs that the running color may not expect to read", c.Column, n.Table.String())
			}
		}
	},
}
