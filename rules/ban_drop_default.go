package rules

import "github.com/bgmigrate/bgmigrate/parser"

var BanDropDefault = &Rule{
	ID:       "ban-drop-default",
	Summary:  "ALTER COLUMN DROP DEFAULT on a column the running color inserts into",
	Help:     "make the application set the column explicitly in a release first; drop the default in a contract migration",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** The old color's INSERTs omit columns it leaves to their defaults. Without the
default they store NULL instead, or fail when the column is NOT NULL: the old color breaks
for as long as it serves or stays a rollback target.

**Lock.** ACCESS EXCLUSIVE, briefly (a catalog change). **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.**
1. Release N: the application sets the column on every insert.
2. Release N+1, contract phase: drop the default.

` + "```sql" + `
-- before (in the release that starts setting the column)
ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT;
-- after: a separate contract migration
-- bgmigrate:phase contract -- release 42 sets orders.currency on insert
ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT;
` + "```" + `

Columns added in the same unreleased set and files declared contract are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.AlterTable)
		if !ok || !isTable(n) || p.DeclaredContract() || p.Fresh(n.Table) {
			return
		}
		for _, c := range n.Cmds {
			if c.Op == parser.DropDefault && !freshColumn(p, n.Table, c.Column) {
				p.Reportf(siteOf(s), "dropping the default of column %q of %q makes the running color's inserts store NULL or fail; move it to a contract migration", c.Column, n.Table.String())
			}
		}
	},
}

// isTable reports whether an ALTER acts on a table (the statement model
// shares AlterTable with ALTER INDEX, VIEW, SEQUENCE…).
func isTable(n *parser.AlterTable) bool { return n.Object == "table" || n.Object == "foreign table" }
