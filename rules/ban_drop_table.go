package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var BanDropTable = &Rule{
	ID:       "ban-drop-table",
	Summary:  "DROP TABLE of a table the running color may still use",
	Help:     "stop using the table in a release first; drop it in a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** The old color serves until the switch and stays a rollback target after it. Its
queries, ORM models and foreign keys name the table: once it is gone every one of them fails,
and a rollback lands on an application whose data has vanished.

**Lock.** ACCESS EXCLUSIVE on the table (and on tables whose foreign keys reference it, with
CASCADE), briefly. **Rewrite.** No; the files are unlinked at commit.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.**
1. Release N: the application stops reading and writing the table.
2. Release N+1, contract phase: drop it (keep a dump if the data may be needed again).

` + "```sql" + `
-- before (in the release that stops using it)
DROP TABLE legacy_sessions;
-- after: a separate contract migration
-- bgmigrate:phase contract -- release 42 stopped using legacy_sessions
DROP TABLE legacy_sessions;
` + "```" + `

Tables created in the same unreleased set and files declared contract are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		checkDrop(p, s, "breaks the running color, which may still use it", "table", "foreign table")
	},
}

// checkDrop reports each object of a DROP of one of the kinds that the
// running color may know, unless the statement is declared contract.
func checkDrop(p *Pass, s *Stmt, effect string, kinds ...string) {
	n, ok := s.Node.(*parser.Drop)
	if !ok || p.DeclaredContract() || s.Info.Class == phases.None {
		// None: the object is replaced in the same transaction (a view
		// created again with its columns, see phases.Shim).
		return
	}
	for _, k := range kinds {
		if n.Object != k {
			continue
		}
		for _, q := range n.Names {
			if !phases.FreshObject(p.Catalog, n.Object, q) {
				p.Reportf(siteOf(s), "dropping %s %q %s; move it to a contract migration", n.Object, q.String(), effect)
			}
		}
	}
}
