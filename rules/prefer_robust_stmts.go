package rules

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

var PreferRobustStmts = &Rule{
	ID:       "prefer-robust-stmts",
	Summary:  "a statement that fails when a migration that stopped part way is run again",
	Help:     "add IF NOT EXISTS / IF EXISTS so the file can be retried, or run it in a transaction",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** A file that runs outside a transaction (goose ` + "`NO TRANSACTION`" + `, dbmate
` + "`transaction:false`" + `, a plain file run statement by statement, anything holding CREATE INDEX
CONCURRENTLY) applies its statements one by one. When one of them fails, a lock timeout for
instance, the ones before it stay applied, and the retry fails at the first of them: the table
already exists, the column is already gone. Making each statement idempotent lets the deploy
simply run the file again.

Flagged, in files of more than one statement that run outside a transaction block: CREATE TABLE
and CREATE INDEX without IF NOT EXISTS, DROP … without IF EXISTS, ALTER TABLE … ADD COLUMN
without IF NOT EXISTS, DROP COLUMN and DROP CONSTRAINT without IF EXISTS, and ADD CONSTRAINT
unless the file drops the constraint first. CREATE INDEX CONCURRENTLY without IF NOT EXISTS is
flagged wherever it is (it never runs in a transaction). Statements between BEGIN and COMMIT are
not flagged: they are undone together.

**Safe recipe.**

` + "```sql" + `
-- before
CREATE TABLE app.audit (id bigint PRIMARY KEY);
ALTER TABLE app.orders ADD COLUMN audit_id bigint;
ALTER TABLE app.orders ADD CONSTRAINT orders_audit_fk FOREIGN KEY (audit_id) REFERENCES app.audit NOT VALID;
-- after
CREATE TABLE IF NOT EXISTS app.audit (id bigint PRIMARY KEY);
ALTER TABLE app.orders ADD COLUMN IF NOT EXISTS audit_id bigint;
ALTER TABLE app.orders DROP CONSTRAINT IF EXISTS orders_audit_fk;
ALTER TABLE app.orders ADD CONSTRAINT orders_audit_fk FOREIGN KEY (audit_id) REFERENCES app.audit NOT VALID;
` + "```" + `

A concurrent index build that failed leaves an INVALID index behind, which IF NOT EXISTS then
keeps: precede the build with ` + "`DROP INDEX CONCURRENTLY IF EXISTS`" + ` when that matters.`,
	Stmt: checkPreferRobustStmts,
}

func checkPreferRobustStmts(p *Pass, s *Stmt) {
	// The constraints s drops count for the statements after it.
	defer noteDroppedConstraints(p, s)
	if !p.many {
		return // one statement runs alone: it either applies or does not
	}
	inTx := s.InTransaction()
	switch n := s.Node.(type) {
	case *parser.CreateTable:
		if !n.IfNotExists && !inTx && !n.Temporary {
			p.Reportf(siteOf(s), "CREATE TABLE %q without IF NOT EXISTS fails when the migration is run again after failing part way", n.Table.String())
		}
	case *parser.CreateIndex:
		if !n.IfNotExists && (n.Concurrently || !inTx) {
			what := "CREATE INDEX"
			if n.Concurrently {
				what = "CREATE INDEX CONCURRENTLY"
			}
			name := n.Name
			if name == "" {
				name = "on " + n.Table.String()
			}
			p.Reportf(siteOf(s), "%s %q without IF NOT EXISTS fails when the migration is run again after failing part way", what, name)
		}
	case *parser.Drop:
		if !n.IfExists && !inTx {
			p.Reportf(siteOf(s), "DROP %s %q without IF EXISTS fails when the migration is run again after failing part way", strings.ToUpper(n.Object), qnameList(n.Names))
		}
	case *parser.AlterTable:
		if inTx {
			return
		}
		for _, c := range n.Cmds {
			switch {
			case c.Op == parser.AddColumn && !c.IfExists:
				p.Reportf(siteWithin(s, c.Span), "ADD COLUMN %q without IF NOT EXISTS fails when the migration is run again after failing part way", c.Column)
			case c.Op == parser.DropColumn && !c.IfExists:
				p.Reportf(siteWithin(s, c.Span), "DROP COLUMN %q without IF EXISTS fails when the migration is run again after failing part way", c.Column)
			case c.Op == parser.DropConstraint && !c.IfExists:
				p.Reportf(siteWithin(s, c.Span), "DROP CONSTRAINT %q without IF EXISTS fails when the migration is run again after failing part way", c.Name)
			case c.Op == parser.AddConstraint && !droppedBefore(p, n.Table, c.Name):
				name := c.Name
				if name == "" {
					name = string(c.Constraint.Kind)
				}
				p.Reportf(siteWithin(s, c.Span), "ADD CONSTRAINT %q fails (or adds a duplicate) when the migration is run again after failing part way; drop it IF EXISTS first", name)
			}
		}
	}
}

// droppedBefore reports whether an earlier statement of the file drops the
// named constraint of table t, which makes adding it again safe to retry.
func droppedBefore(p *Pass, t parser.QName, name string) bool {
	return name != "" && (*stateOf[map[droppedConstraint]bool](p))[droppedConstraint{t.Key(), name}]
}

// droppedConstraint is a constraint name of a table, by its Key.
type droppedConstraint struct{ table, name string }

// noteDroppedConstraints records the constraints s drops, for droppedBefore.
func noteDroppedConstraints(p *Pass, s *Stmt) {
	at, ok := s.Node.(*parser.AlterTable)
	if !ok {
		return
	}
	dropped := stateOf[map[droppedConstraint]bool](p)
	for _, c := range at.Cmds {
		if c.Op == parser.DropConstraint && c.Name != "" {
			if *dropped == nil {
				*dropped = map[droppedConstraint]bool{}
			}
			(*dropped)[droppedConstraint{strings.Clone(at.Table.Key()), strings.Clone(c.Name)}] = true
		}
	}
}

func qnameList(qs []parser.QName) string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.String()
	}
	return strings.Join(out, ", ")
}
