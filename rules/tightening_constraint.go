package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
)

var TighteningConstraint = &Rule{
	ID:       "tightening-constraint",
	Summary:  "a new CHECK, UNIQUE, FOREIGN KEY or EXCLUDE constraint, or SET NOT NULL, on columns the running color writes",
	Help:     "make the application satisfy the constraint in a release first; add it in a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** The old color writes rows by its own rules: it may leave a column NULL, write a
duplicate, a value the new CHECK rejects, or delete a row a new foreign key now protects.
Once the constraint exists those writes fail, in the old color that still serves traffic
or is the rollback target. NOT VALID does not help here: it skips the existing rows, but
every new write is checked.

**Lock.** ADD CONSTRAINT takes ACCESS EXCLUSIVE (SHARE ROW EXCLUSIVE for a foreign key) and
scans the table unless NOT VALID; CREATE UNIQUE INDEX takes SHARE (SHARE UPDATE EXCLUSIVE
with CONCURRENTLY); SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated
CHECK (col IS NOT NULL) exists. The lock rules report those costs. **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired. Constraints on
columns added in the same release bind only the new color and are expand.

**Safe recipe.**
1. Release N: the application writes only rows that satisfy the constraint; clean up the
   existing rows.
2. Release N+1, contract phase: add the constraint NOT VALID, then validate it.

` + "```sql" + `
-- before (in the release that starts writing valid rows)
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);
-- after: a separate contract migration
-- bgmigrate:phase contract -- release 42 rejects negative totals itself
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;
` + "```" + `

Tables and columns created in the same unreleased set and files declared contract are not
flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		if p.DeclaredContract() {
			return
		}
		switch n := s.Node.(type) {
		case *parser.CreateIndex:
			if n.Unique && !p.Fresh(n.Table) && !allFresh(p, n.Table, n.Columns) {
				p.Reportf(siteOf(s), "unique index %q on existing columns of %q may reject the running color's writes; create it in a contract migration", n.Name, n.Table.String())
			}
		case *parser.AlterTable:
			if !isTable(n) || p.Fresh(n.Table) {
				return
			}
			for _, c := range n.Cmds {
				switch {
				case c.Op == parser.SetNotNull && !freshColumn(p, n.Table, c.Column):
					p.Reportf(siteOf(s), "SET NOT NULL on column %q of %q rejects the running color's writes of NULL; move it to a contract migration", c.Column, n.Table.String())
				case c.Op == parser.AddConstraint && c.Constraint != nil && !allFresh(p, n.Table, c.Constraint.Columns):
					k := c.Constraint
					what := string(k.Kind) + " constraint"
					if k.Name != "" {
						what = fmt.Sprintf("%s %q", what, k.Name)
					}
					p.Reportf(siteOf(s), "new %s on existing columns of %q may reject the running color's writes; move it to a contract migration", what, n.Table.String())
				}
			}
		}
	},
}

// allFresh reports whether every column is new in this release; false
// for an empty list (an expression index, a constraint on no known column).
func allFresh(p *Pass, t parser.QName, cols []string) bool {
	for _, c := range cols {
		if !freshColumn(p, t, c) {
			return false
		}
	}
	return len(cols) > 0
}
