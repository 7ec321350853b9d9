package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var DDLAfterAccessExclusive = &Rule{
	ID:       "ddl-after-access-exclusive",
	Summary:  "a slow statement after an ACCESS EXCLUSIVE lock in the same transaction",
	Help:     "commit right after the statement that takes ACCESS EXCLUSIVE, or move the slow statement to its own transaction",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** A lock is kept until its transaction ends. Once a statement has taken ACCESS
EXCLUSIVE on a table (even an instant one, such as ADD COLUMN without a default), every
read and write of that table by either color waits, and the queue grows, until COMMIT. When a
later statement of the same transaction is slow (it scans or rewrites a table, updates or
deletes rows, copies rows with INSERT … SELECT, reads a whole table with a SELECT without
WHERE) or has to wait for a lock on another table (anything stronger than the ROW EXCLUSIVE of a plain
INSERT: ALTER TABLE, CREATE INDEX, CREATE TRIGGER, …), the
first table stays unavailable for all that time. A migration that would block for a
millisecond blocks for minutes. Tools that wrap each file in a transaction (goose, dbmate,
Flyway, diesel) make any two statements of a file share one.

**Lock.** ACCESS EXCLUSIVE on the first table, held for the later statement's whole duration.
**Rewrite.** Depends on the later statement.

**Safe recipe.** Keep ACCESS EXCLUSIVE transactions short: the statement that takes it, then
COMMIT. Put the slow statement in a transaction (or migration) of its own.

` + "```sql" + `
-- before: one goose file, one transaction
ALTER TABLE orders ADD COLUMN status text;
UPDATE orders SET status = 'done' WHERE shipped;
-- after: 0042_add_status.sql
ALTER TABLE orders ADD COLUMN status text;
-- after: 0043_backfill_status.sql
-- bgmigrate:backfill table=orders batch=5000
UPDATE orders SET status = 'done' WHERE shipped;
` + "```" + `

Reported once per transaction, at the first slow statement. Statements on tables created in
the same release take no lock anyone waits for and are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		if !s.InTransaction() || runsBody(p, s) {
			return
		}
		tx := txStateOf(p, s, func() *exclusiveTx { return &exclusiveTx{} })
		switch {
		case tx.reported:
		case tx.holder == nil:
			if s.Info.Lock == phases.AccessExclusive {
				tx.holder = s
			}
		default:
			if why := slowWhileHolding(p, s, tx.holder); why != "" {
				p.Reportf(siteOf(s), "%s while the transaction holds the ACCESS EXCLUSIVE lock on %q taken at line %d: reads and writes of it wait until COMMIT",
					why, tx.holder.Info.Table, siteOf(tx.holder).Start.Line)
				tx.reported = true
			}
		}
	},
}

// exclusiveTx is what ddl-after-access-exclusive knows of a transaction
// from its statements so far: the first that took ACCESS EXCLUSIVE, and
// whether a slow one after it was reported (once per transaction).
type exclusiveTx struct {
	holder   *Stmt
	reported bool
}

// slowWhileHolding says what makes s keep the lock holder took for long,
// "" when s is quick or adds nothing to it.
func slowWhileHolding(p *Pass, s, holder *Stmt) string {
	in := s.Info
	other := in.Lock != phases.NoLock && !sameTableNames(in.Table, holder.Info.Table)
	// A statement that takes ACCESS EXCLUSIVE on the same table would block
	// it for its whole duration anyway; other rules report its scan.
	if !other && in.Lock == phases.AccessExclusive {
		return ""
	}
	switch n := s.Node.(type) {
	case *parser.AlterTable:
		for _, c := range n.Cmds {
			if c.Op == parser.ValidateConstraint && !other {
				return "" // validate-in-same-transaction
			}
		}
	case *parser.Update:
		if !p.Fresh(n.Table) {
			return fmt.Sprintf("updating rows of %q", n.Table.String())
		}
	case *parser.Delete:
		if !p.Fresh(n.Table) {
			return fmt.Sprintf("deleting rows of %q", n.Table.String())
		}
	case *parser.Select:
		// A query without WHERE reads whole tables: every row of them
		// while the lock is held.
		for _, t := range n.Tables {
			if !n.HasWhere && !p.Fresh(t) {
				return fmt.Sprintf("reading all of %q with SELECT", t.String())
			}
		}
	case *parser.Insert:
		if n.FromSelect {
			return fmt.Sprintf("copying rows into %q with INSERT … SELECT", n.Table.String())
		}
	}
	switch {
	case in.Rewrite && in.Lock != phases.NoLock:
		return fmt.Sprintf("rewriting %q", in.Table)
	case in.Scan && in.Lock != phases.NoLock:
		return fmt.Sprintf("scanning %q", in.Table)
	case other && in.Lock > phases.RowExclusive:
		// ROW EXCLUSIVE (a plain INSERT) waits only behind rare SHARE locks.
		return fmt.Sprintf("waiting for a %s lock on %q", in.Lock, in.Table)
	}
	return ""
}
