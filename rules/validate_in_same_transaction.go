package rules

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var ValidateInSameTransaction = &Rule{
	ID:       "validate-in-same-transaction",
	Summary:  "VALIDATE CONSTRAINT in the transaction that added the constraint or locked the table",
	Help:     "commit after ADD CONSTRAINT … NOT VALID and validate in a separate transaction",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** NOT VALID exists so the scan that proves a constraint runs under a weak lock:
VALIDATE CONSTRAINT takes only SHARE UPDATE EXCLUSIVE. But locks are kept until the
transaction ends. When the VALIDATE runs in the transaction that added the constraint (ACCESS
EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key), or that took
ACCESS EXCLUSIVE on the table in any other way, the strong lock is still held during the
whole scan, exactly as if NOT VALID had not been written. Both colors stall on the table.
Migration tools that wrap each file in a transaction (goose, dbmate, Flyway, diesel) make
this easy to get wrong: two statements in one file share the transaction.

**Lock.** The earlier statement's lock (ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE) for the whole
scan. **Rewrite.** No; the table is scanned.

**Safe recipe.** Put the VALIDATE in its own transaction: a separate migration file, or after a
COMMIT in a file that runs without the tool's transaction.

` + "```sql" + `
-- before: one goose file, one transaction
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
-- after: 0042_add_check.sql
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;
-- after: 0043_validate_check.sql
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
` + "```" + `

Statements in autocommit mode each run in a transaction of their own and are not flagged;
neither are tables created in the same release.`,
	Stmt: func(p *Pass, s *Stmt) {
		if !s.InTransaction() || runsBody(p, s) {
			return
		}
		tx := txStateOf(p, s, func() *lockedTx { return &lockedTx{exclusive: map[string]lockingAt{}, added: map[string]lockingAt{}} })
		defer tx.record(s)
		n, ok := s.Node.(*parser.AlterTable)
		if !ok || n.Object != "table" || p.Fresh(n.Table) {
			return
		}
		for _, c := range n.Cmds {
			if c.Op != parser.ValidateConstraint {
				continue
			}
			if prev, ok := tx.lockBefore(n.Table, c.Name); ok {
				lock, _ := lockBefore(prev, n.Table, c.Name)
				p.Reportf(siteOf(s), "validating constraint %q of %q in the transaction that took the %s lock at line %d keeps that lock for the whole scan",
					c.Name, n.Table.String(), lock, prev.line)
				return
			}
		}
	},
}

// lockedTx is what validate-in-same-transaction knows of a transaction
// from its statements so far (those that run no body), by their order in
// it: the first to take ACCESS EXCLUSIVE on each table, and the first to
// add each constraint.
type lockedTx struct {
	n         int                  // the statements recorded
	exclusive map[string]lockingAt // by table key
	added     map[string]lockingAt // by table key and constraint name
}

// lockingAt is the n-th statement of a transaction, which took a lock.
type lockingAt struct {
	n  int
	st *locking
}

// locking is what lockBefore needs of a statement, and the line it is
// reported at (siteOf).
type locking struct {
	line  int
	lock  phases.Lock
	table string // Info.Table
	// altered is the table an ALTER TABLE adds constraints to, by key.
	altered string
	adds    []addedConstraint
}

type addedConstraint struct {
	name string
	fk   bool
}

func (t *lockedTx) record(s *Stmt) {
	i := t.n
	t.n++
	var rec *locking
	get := func() *locking {
		if rec == nil {
			rec = &locking{line: siteOf(s).Start.Line, lock: s.Info.Lock, table: strings.Clone(s.Info.Table)}
			if at, ok := s.Node.(*parser.AlterTable); ok {
				rec.altered = strings.Clone(at.Table.Key())
				for _, c := range at.Cmds {
					if c.Op == parser.AddConstraint && c.Constraint != nil {
						rec.adds = append(rec.adds, addedConstraint{strings.Clone(c.Constraint.Name), c.Constraint.Kind == parser.ConstraintForeignKey})
					}
				}
			}
		}
		return rec
	}
	if s.Info.Lock == phases.AccessExclusive {
		key := strings.TrimPrefix(s.Info.Table, "public.")
		if _, ok := t.exclusive[key]; !ok {
			t.exclusive[strings.Clone(key)] = lockingAt{i, get()}
		}
	}
	if at, ok := s.Node.(*parser.AlterTable); ok {
		for _, c := range at.Cmds {
			if c.Op == parser.AddConstraint && c.Constraint != nil {
				key := at.Table.Key() + "\x00" + c.Constraint.Name
				if _, ok := t.added[key]; !ok {
					t.added[key] = lockingAt{i, get()}
				}
			}
		}
	}
}

// lockBefore returns the first statement of the transaction for which
// lockBefore(prev, table, name) holds.
func (t *lockedTx) lockBefore(table parser.QName, name string) (*locking, bool) {
	first := lockingAt{n: -1}
	if l, ok := t.exclusive[table.Key()]; ok {
		first = l
	}
	if l, ok := t.added[table.Key()+"\x00"+name]; ok && (first.n < 0 || l.n < first.n) {
		first = l
	}
	if first.n < 0 {
		return nil, false
	}
	return first.st, true
}

// lockBefore reports whether prev added constraint name to table (NOT VALID)
// or took ACCESS EXCLUSIVE on it, and the lock it took.
func lockBefore(prev *locking, table parser.QName, name string) (phases.Lock, bool) {
	if prev.lock == phases.AccessExclusive && sameTableName(prev.table, table) {
		return prev.lock, true
	}
	if prev.altered == "" || prev.altered != table.Key() {
		return phases.NoLock, false
	}
	for _, c := range prev.adds {
		if c.name == name {
			lock := phases.AccessExclusive
			if c.fk {
				lock = phases.ShareRowExclusive
			}
			return lock, true
		}
	}
	return phases.NoLock, false
}

// runsBody reports whether s is a DO block or a call whose statements the
// driver visits as nested statements (s.Info merges theirs).
func runsBody(p *Pass, s *Stmt) bool {
	switch n := s.Node.(type) {
	case *parser.Do:
		return len(n.Body) > 0
	case *parser.Select, *parser.Call:
		for _, name := range s.Calls {
			if p.Catalog.Function(name) != nil {
				return true
			}
		}
	}
	return false
}

// sameTableName compares a table name as phases.Info prints it with q.
func sameTableName(info string, q parser.QName) bool {
	return strings.TrimPrefix(info, "public.") == q.Key()
}

// sameTableNames compares two table names as phases.Info prints them.
func sameTableNames(a, b string) bool {
	return strings.TrimPrefix(a, "public.") == strings.TrimPrefix(b, "public.")
}
