package rules

import (
	"strconv"

	"github.com/bgmigrate/bgmigrate/parser"
)

var ConstraintMissingNotValid = &Rule{
	ID:       "constraint-missing-not-valid",
	Summary:  "ADD CONSTRAINT CHECK without NOT VALID on an existing table",
	Help:     "add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** ALTER TABLE … ADD CONSTRAINT … CHECK reads every row to prove the condition holds,
and does so while holding the ACCESS EXCLUSIVE lock the ALTER TABLE took. On a large table
that is minutes during which neither color can read or write it, and every query that
arrives queues behind the migration.

**Lock.** ACCESS EXCLUSIVE for the whole scan. **Rewrite.** No; the table is scanned.

**Safe recipe.** Add the constraint NOT VALID: it is recorded instantly and enforced for new
and updated rows from then on. Then validate it in a separate transaction: VALIDATE CONSTRAINT
takes only SHARE UPDATE EXCLUSIVE, so reads and writes go on during its scan.

` + splitRecipes["constraint-missing-not-valid"] + `

Foreign keys are reported by adding-foreign-key-constraint, and a VALIDATE in the same
transaction as the ADD by validate-in-same-transaction (it holds the strong lock during the
scan all the same). Constraints on tables created in the same release are not flagged.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		for _, c := range n.Cmds {
			if k := inlineConstraint(c, parser.ConstraintCheck); k != nil {
				p.Reportf(siteOf(s), "adding column %q to %q with a CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock; add the column, then the constraint NOT VALID", c.ColumnDef.Name, n.Table.String())
				return
			}
			k := c.Constraint
			if c.Op != parser.AddConstraint || k == nil || k.Kind != parser.ConstraintCheck || k.NotValid {
				continue
			}
			p.Reportf(siteOf(s), "adding check constraint%s to %q without NOT VALID scans the whole table under an ACCESS EXCLUSIVE lock", constraintLabel(k), n.Table.String())
			return
		}
	},
}

// inlineConstraint returns the first constraint of kind written in the
// column definition of an ADD COLUMN, nil when there is none.
func inlineConstraint(c *parser.AlterCmd, kind parser.ConstraintKind) *parser.Constraint {
	if c.Op != parser.AddColumn || c.ColumnDef == nil {
		return nil
	}
	for _, k := range c.ColumnDef.Constraints {
		if k.Kind == kind {
			return k
		}
	}
	return nil
}

// constraintLabel names a constraint in a message: a space and its quoted
// name, or nothing when it has none.
func constraintLabel(k *parser.Constraint) string {
	if k.Name == "" {
		return ""
	}
	return " " + strconv.Quote(k.Name)
}
