package rules

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

var BanTruncateCascade = &Rule{
	ID:       "ban-truncate-cascade",
	Summary:  "TRUNCATE … CASCADE",
	Help:     "truncate the tables you mean by name, without CASCADE",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** CASCADE also truncates every table that has a foreign key to one of the named
tables, then every table referencing those, and so on: a TRUNCATE of a small lookup table can
empty orders, invoices and everything that hangs off them. Which tables go depends on the
foreign keys of the database it runs on, not on what the migration says; both colors lose
the data at once and no rollback brings it back.

**Lock.** ACCESS EXCLUSIVE on every truncated table, for the rest of the transaction.
**Rewrite.** Each table gets new, empty files.

**Class.** contract: it removes rows the running color uses.

**Safe recipe.** Name every table to empty; without CASCADE PostgreSQL refuses when another
table still references one of them, which is the check you want. To remove some rows, DELETE
them in batches.

` + "```sql" + `
-- before
TRUNCATE countries CASCADE;
-- after: exactly these tables, and an error if something else references them
TRUNCATE staging_addresses, staging_countries;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.Truncate)
		if !ok || !n.Cascade {
			return
		}
		names := make([]string, len(n.Tables))
		for i, q := range n.Tables {
			names[i] = fmt.Sprintf("%q", q.String())
		}
		them := "it"
		if len(names) > 1 {
			them = "them"
		}
		p.Reportf(siteOf(s), "TRUNCATE %s CASCADE also empties every table that references %s, transitively; name the tables to truncate", strings.Join(names, ", "), them)
	},
}
