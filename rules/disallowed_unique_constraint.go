package rules

import "github.com/bgmigrate/bgmigrate/parser"

var DisallowedUniqueConstraint = &Rule{
	ID:       "disallowed-unique-constraint",
	Summary:  "a UNIQUE constraint added to an existing table without USING INDEX",
	Help:     "build the index with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** ALTER TABLE … ADD CONSTRAINT … UNIQUE (and ADD COLUMN … UNIQUE) builds the
constraint's unique index while holding the ACCESS EXCLUSIVE lock of the ALTER TABLE. The build
reads the whole table and sorts it: on a large table, minutes during which neither color can
read or write the table, and every query that arrives queues behind the migration.

**Lock.** ACCESS EXCLUSIVE for the whole index build. **Rewrite.** No; the table is scanned
and the index built.

**Safe recipe.** Build the unique index concurrently (SHARE UPDATE EXCLUSIVE: reads and
writes continue), in a migration without a transaction, then turn it into the constraint:
USING INDEX only renames the index and records the constraint, a brief lock.

` + splitRecipes["disallowed-unique-constraint"] + `

If the application only needs uniqueness enforced, the unique index alone is enough; the
constraint matters for foreign keys and ON CONFLICT ON CONSTRAINT. A concurrent build that
finds duplicates fails and leaves an INVALID index: drop it, fix the rows, build again.

Primary keys are adding-serial-primary-key-field's: a statement that adds a primary key (with
or without UNIQUE constraints beside it) is reported by that rule only. Tables created in the
same release are not flagged. Whether the running color's writes may violate the new
constraint is a question of phase: a unique constraint on existing columns is a contract change.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok || primaryKeyHazard(p, n) != "" {
			return
		}
		for _, c := range n.Cmds {
			if cd := c.ColumnDef; c.Op == parser.AddColumn && cd != nil && cd.Unique {
				p.Reportf(siteOf(s), "adding column %q to %q as UNIQUE builds its index under an ACCESS EXCLUSIVE lock", cd.Name, n.Table.String())
				return
			}
			k := c.Constraint
			if c.Op == parser.AddConstraint && k != nil && k.Kind == parser.ConstraintUnique && k.UsingIndex == "" {
				p.Reportf(siteOf(s), "adding unique constraint%s to %q builds its index under an ACCESS EXCLUSIVE lock", constraintLabel(k), n.Table.String())
				return
			}
		}
	},
}
