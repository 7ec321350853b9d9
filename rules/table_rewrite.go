package rules

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

var TableRewrite = &Rule{
	ID:       "table-rewrite",
	Summary:  "SET LOGGED/UNLOGGED, SET TABLESPACE, SET ACCESS METHOD, VACUUM FULL or CLUSTER on an existing table",
	Help:     "rebuild the table online with pg_repack or pg_squeeze, or schedule it in a maintenance window",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** These statements copy every row of the table into new files and rebuild its
indexes, holding ACCESS EXCLUSIVE from start to end: for a large table, minutes to hours during
which neither color can even read it, while every query that arrives queues behind them. SET
LOGGED also writes the whole table to the WAL, which replicas must replay. None of them changes
what the application sees, so none belongs in a deploy's migration.

**Lock.** ACCESS EXCLUSIVE for the whole rewrite. **Rewrite.** Yes: the table and all its indexes.

**Safe recipe.** Do the maintenance outside the deploy with a tool that rebuilds the table
online (pg_repack, pg_squeeze), which takes ACCESS EXCLUSIVE only for a moment at the end, or
in an announced maintenance window. To reclaim space, plain VACUUM (no FULL) runs alongside
reads and writes.

` + "```sql" + `
-- before
VACUUM FULL orders;
ALTER TABLE orders SET TABLESPACE fast_ssd;
-- after: outside the migration
--   pg_repack --table=orders --tablespace=fast_ssd mydb
VACUUM (ANALYZE) orders;
` + "```" + `

Tables created in the same release are not flagged. A VACUUM FULL or CLUSTER naming no table
rewrites every table it applies to, and is flagged.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		switch n := s.Node.(type) {
		case *parser.AlterTable:
			if n.Object != "table" || p.Fresh(n.Table) {
				return
			}
			for _, c := range n.Cmds {
				switch c.Op {
				case parser.SetLogged, parser.SetUnlogged, parser.SetTablespace, parser.SetAccessMethod:
					p.Reportf(siteOf(s), "%s on %q rewrites the table under an ACCESS EXCLUSIVE lock", strings.ToUpper(string(c.Op)), n.Table.String())
					return
				}
			}
		case *parser.Vacuum:
			if !n.Full {
				return
			}
			if len(n.Tables) == 0 {
				p.Reportf(siteOf(s), "VACUUM FULL without a table rewrites every table of the database, each under an ACCESS EXCLUSIVE lock")
				return
			}
			for _, t := range n.Tables {
				if !p.Fresh(t) {
					p.Reportf(siteOf(s), "VACUUM FULL of %q rewrites the table under an ACCESS EXCLUSIVE lock", t.String())
					return
				}
			}
		case *parser.Cluster:
			if n.Table.Name == "" {
				p.Reportf(siteOf(s), "CLUSTER without a table rewrites every previously clustered table, each under an ACCESS EXCLUSIVE lock")
				return
			}
			if !p.Fresh(n.Table) {
				p.Reportf(siteOf(s), "CLUSTER of %q rewrites the table under an ACCESS EXCLUSIVE lock", n.Table.String())
			}
		}
	},
}
