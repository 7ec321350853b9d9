package rules

import "github.com/bgmigrate/bgmigrate/parser"

var BanDropColumn = &Rule{
	ID:       "ban-drop-column",
	Summary:  "DROP COLUMN of a column the running color may still read",
	Help:     "stop reading the column in a release first; drop it in a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** During a blue-green deploy the old color keeps serving until the switch and
stays a rollback target afterwards. Its queries name the column (or use SELECT * into a
struct that expects it): the moment the column is gone, they fail.

**Lock.** ACCESS EXCLUSIVE, briefly (the column is only marked dropped). **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.**
1. Release N: the application stops reading and writing the column (and the ORM ignores it).
2. Release N+1, contract phase: drop it.

` + "```sql" + `
-- before (in the same release that stops using it)
ALTER TABLE users DROP COLUMN legacy_flag;
-- after: a separate contract migration, applied with "bgmigrate migrate contract"
-- bgmigrate:phase contract -- release 42 stopped reading legacy_flag
ALTER TABLE users DROP COLUMN legacy_flag;
` + "```" + `

A file marked ` + "`-- bgmigrate:phase contract`" + ` is not flagged: the author has scheduled it after
retirement. Columns added in the same unreleased set are not flagged either.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.AlterTable)
		if !ok || p.DeclaredContract() {
			return
		}
		for _, c := range n.Cmds {
			if c.Op != parser.DropColumn || p.Fresh(n.Table) || freshColumn(p, n.Table, c.Column) {
				continue
			}
			p.Reportf(s.Span, "dropping column %q of %q breaks the running color, which may still read it; move it to a contract migration", c.Column, n.Table.String())
		}
	},
}
