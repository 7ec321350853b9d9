package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var RenamingColumn = &Rule{
	ID:       "renaming-column",
	Summary:  "RENAME COLUMN of a column the running color uses",
	Help:     "add the new column, dual-write and backfill it (expand), switch reads, drop the old column after the old color is retired (contract)",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** Renaming is instant, and so is the damage: the old color's queries name the old
column and fail with "column does not exist" the moment the rename commits. Deploying the
new code first does not help either: it would look for a column that does not exist yet.
There is no order of migration and deploy that keeps both colors working.

**Lock.** ACCESS EXCLUSIVE, briefly (a catalog change). **Rewrite.** No.

**Class.** breaking: split it into expand and contract steps.

**Safe recipe.**
1. Expand: add the new column, with a trigger that keeps the two columns equal whichever color
   writes (an insert that sets one sets the other; an update that changes only one changes the
   other); fill the existing rows in batches; build the old column's indexes on the new one.
2. Release: the new color reads and writes the new column.
3. Contract, after the old color is retired: give the new column the old one's default, NOT
   NULL, checks and foreign keys, drop the trigger and the old column, and give the indexes and
   constraints their names back.

` + splitRecipes["renaming-column"] + `

Columns and tables created in the same unreleased set are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.Rename)
		if !ok || n.Object != "column" || phases.FreshColumn(p.Catalog, n.Table, n.Old) {
			return
		}
		p.Reportf(siteOf(s), "renaming column %q of %q breaks the running color; add the new column and backfill it (expand), drop the old one after retirement (contract)", n.Old, n.Table.String())
	},
}
