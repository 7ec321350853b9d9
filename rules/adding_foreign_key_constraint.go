package rules

import (
	"strconv"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var AddingForeignKeyConstraint = &Rule{
	ID:       "adding-foreign-key-constraint",
	Summary:  "ADD FOREIGN KEY without NOT VALID on an existing table",
	Help:     "add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
	Severity: Warning,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** Adding a foreign key checks that every existing row has its referenced row. The
check runs while the ALTER TABLE holds SHARE ROW EXCLUSIVE on both the referencing and the
referenced table: neither color can insert, update or delete rows of either table until every
row has been looked up, and the queries queued behind the migration pile up.

**Lock.** SHARE ROW EXCLUSIVE on both tables (blocks writes) for the whole check.
**Rewrite.** No; the referencing table is scanned and the referenced one probed.

**Safe recipe.** Add the foreign key NOT VALID: it is recorded with a brief lock and enforced
for new rows at once. Validate it in a separate transaction: VALIDATE CONSTRAINT takes SHARE
UPDATE EXCLUSIVE on the referencing table and ROW SHARE on the referenced one, so writes go on.

` + splitRecipes["adding-foreign-key-constraint"] + `

CHECK constraints are reported by constraint-missing-not-valid, and a VALIDATE in the same
transaction as the ADD by validate-in-same-transaction. Foreign keys on tables created in the
same release are not flagged: their rows are the migration's own.

A REFERENCES written in ADD COLUMN is checked against the existing rows only when the column
has a default: without one every row holds NULL, which a foreign key does not check, and
PostgreSQL records the constraint as valid without a scan (the referenced table is still locked
briefly). With a default, the check is the same as the separate constraint's and is reported.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		for _, c := range n.Cmds {
			if k := inlineConstraint(c, parser.ConstraintForeignKey); k != nil && phases.InlineForeignKeyChecked(c.ColumnDef) {
				ref := "its referenced table"
				if k.References != nil {
					ref = strconv.Quote(k.References.Table.String())
				}
				p.Reportf(siteOf(s), "adding column %q to %q with a default and REFERENCES checks every row while writes to %q and %s are blocked; add the column without the default, or the foreign key NOT VALID", c.ColumnDef.Name, n.Table.String(), n.Table.String(), ref)
				return
			}
			k := c.Constraint
			if c.Op != parser.AddConstraint || k == nil || k.Kind != parser.ConstraintForeignKey || k.NotValid {
				continue
			}
			ref := "its referenced table"
			if k.References != nil {
				ref = strconv.Quote(k.References.Table.String())
			}
			p.Reportf(siteOf(s), "adding foreign key%s to %q without NOT VALID blocks writes to %q and %s while every row is checked", constraintLabel(k), n.Table.String(), n.Table.String(), ref)
			return
		}
	},
}
