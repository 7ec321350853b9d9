package rules

import (
	"regexp"

	"github.com/bgmigrate/bgmigrate/parser"
)

var UnbatchedBackfill = &Rule{
	ID:       "unbatched-backfill",
	Summary:  "UPDATE or DELETE of an existing table in one statement, without a backfill directive",
	Help:     "batch it by primary key, or mark it with -- bgmigrate:backfill table=… batch=… so bgmigrate runs it in batches",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** One UPDATE or DELETE over a large table is one huge transaction: it locks every row
it touches until it commits, so the running color's writes to those rows wait (and time
out); it writes a new version of every row, bloating the table and its indexes, and a burst
of WAL that replicas fall behind on; and if it fails near the end, all of it is rolled back.
In a migration it often also runs inside the tool's transaction, after DDL that took
ACCESS EXCLUSIVE (see ddl-after-access-exclusive).

**Lock.** ROW EXCLUSIVE on the table (does not block other statements), plus a row lock on
every matched row until COMMIT. **Rewrite.** No, but every touched row is written again.

**Safe recipe.** Update in batches of a few thousand rows by primary key, each batch its own
transaction, or let bgmigrate do it: a ` + "`-- bgmigrate:backfill`" + ` directive before the statement
makes ` + "`bgmigrate migrate`" + ` run it in batches, committing and pausing between them.

` + "```sql" + `
-- before
UPDATE orders SET status = 'done' WHERE shipped;
-- after
-- bgmigrate:backfill table=orders batch=5000 sleep=100ms
UPDATE orders SET status = 'done' WHERE shipped AND status IS DISTINCT FROM 'done';
` + "```" + `

Tables created in the same release are not flagged, nor are statements in a DO block that
commits between batches (PostgreSQL 11+, outside a transaction block).`,
	Stmt: func(p *Pass, s *Stmt) {
		var table parser.QName
		verb := "updating"
		switch n := s.Node.(type) {
		case *parser.Update:
			table = n.Table
		case *parser.Delete:
			table, verb = n.Table, "deleting from"
		default:
			return
		}
		if p.Fresh(table) || backfillDirective(p, s) || commitsBetweenBatches(s) {
			return
		}
		p.Reportf(siteOf(s), "%s %q in one statement locks every matched row until COMMIT and writes them all in one transaction", verb, table.String())
	},
}

// backfillDirective reports whether a backfill directive precedes the
// top-level statement s belongs to.
func backfillDirective(p *Pass, s *Stmt) bool {
	for _, d := range p.File.Directives {
		if d.Kind == "backfill" && d.Source == "bgmigrate" && d.Problem == "" && d.Stmt == s.Index {
			return true
		}
	}
	return false
}

// commitsBetweenBatches reports whether s runs in a DO block that commits,
// the shape of a hand-written batch loop. (PL/pgSQL COMMIT is not one of
// the nested statements the parser models, so the block's text is read.)
func commitsBetweenBatches(s *Stmt) bool {
	for cur := s.Parent; cur != nil; cur = cur.Parent {
		if _, ok := cur.Node.(*parser.Do); ok && plCommit.MatchString(cur.Text) {
			return true
		}
	}
	return false
}

var plCommit = regexp.MustCompile(`(?i)\bcommit\s*;`)
