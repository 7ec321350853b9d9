package rules

import "github.com/bgmigrate/bgmigrate/parser"

var BanDropDatabase = &Rule{
	ID:       "ban-drop-database",
	Summary:  "DROP DATABASE in a migration",
	Help:     "remove the statement; drop databases by hand, outside the migrations",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** A migration runs against every environment, production included, and both colors
share the one database. DROP DATABASE in a migration destroys all of it, for the old color
and the new, and the migration history with it: there is nothing to roll back to. Scratch
databases for tests belong in test setup, not in the migration set.

**Lock.** It needs every connection to the database closed (PostgreSQL 13+ can terminate them
with WITH (FORCE)). It cannot run inside a transaction block. **Rewrite.** No: the
files are deleted.

**Class.** breaking.

**Safe recipe.** Remove it from the migration. Create and drop scratch databases in test
fixtures or by hand.

` + "```sql" + `
-- before
DROP DATABASE IF EXISTS app_staging;
-- after: nothing in the migration; by hand, on the one server where it is meant
-- psql -c 'DROP DATABASE app_staging'
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		if n, ok := s.Node.(*parser.DropDatabase); ok {
			p.Reportf(siteOf(s), "dropping database %q in a migration destroys the data of both colors; drop it by hand, outside migrations", n.Name)
		}
	},
}
