package rules

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var CombineAlterTable = &Rule{
	ID:       "combine-alter-table",
	Summary:  "several ALTER TABLE statements on one existing table, in separate transactions, where one statement would take the lock once",
	Help:     "put the actions in one ALTER TABLE, separated by commas",
	Severity: Warning,
	Style:    true,
	Since:    "0.2.0",
	Doc: `**Why.** Each ALTER TABLE that takes ACCESS EXCLUSIVE has to wait for every transaction
using the table to end, and while it waits every query of both colors queues behind it. Three
statements in three transactions (a file run statement by statement, or one that commits
between them) go through that queue three times; and when two of them rewrite the table,
it is rewritten twice. One ALTER TABLE with the actions separated by commas takes the lock
once and rewrites at most once. Statements that must stay apart are not counted: VALIDATE
CONSTRAINT (it needs a weaker lock and a transaction of its own) and DETACH PARTITION …
CONCURRENTLY.

**Prefer.**

` + "```sql" + `
-- before: each in its own transaction
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';
-- after
ALTER TABLE orders ADD COLUMN note text, ALTER COLUMN status SET DEFAULT 'new';
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := combinable(p, s)
		if !ok {
			return
		}
		seen := stateOf[map[string]*alteredTable](p)
		if *seen == nil {
			*seen = map[string]*alteredTable{}
		}
		key := n.Table.Key()
		t := (*seen)[key]
		if t == nil {
			(*seen)[strings.Clone(key)] = &alteredTable{first: alterSite{s.Tx, siteOf(s).Start.Line}}
			return
		}
		// The earliest ALTER TABLE of the table in another transaction.
		prev := t.first
		if prev.tx != 0 && prev.tx == s.Tx {
			prev = t.other
		}
		if t.other.line == 0 && s.Tx != t.first.tx {
			t.other = alterSite{s.Tx, siteOf(s).Start.Line}
		}
		if prev.line == 0 {
			return // one transaction holds the lock from the first anyway
		}
		p.Reportf(siteOf(s), "ALTER TABLE %q waits for the ACCESS EXCLUSIVE lock again, after line %d did in another transaction; one ALTER TABLE with both actions takes it once", n.Table.String(), prev.line)
	},
}

// alteredTable is where the combinable ALTER TABLEs of a table were seen:
// the first, and the first in another transaction than the first's.
type alteredTable struct{ first, other alterSite }

// alterSite is the transaction and line of an ALTER TABLE (line 0: none).
type alterSite struct{ tx, line int }

// combinable returns the top-level ALTER TABLE s when it takes ACCESS
// EXCLUSIVE on an existing table with actions that could join another
// ALTER TABLE.
func combinable(p *Pass, s *Stmt) (*parser.AlterTable, bool) {
	if s.Parent != nil || s.Info.Lock != phases.AccessExclusive {
		return nil, false
	}
	n, ok := s.Node.(*parser.AlterTable)
	if !ok || n.Object != "table" {
		return nil, false
	}
	for _, c := range n.Cmds {
		if c.Op == parser.ValidateConstraint || c.Op == parser.DetachPartition && c.Concurrently {
			return nil, false
		}
	}
	return n, fmt.Sprint(s.Info.Table) != ""
}
