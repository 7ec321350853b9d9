package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var RenamingTable = &Rule{
	ID:       "renaming-table",
	Summary:  "RENAME of a table or view the running color uses",
	Help:     "keep the old name working (a view over the renamed table, or a new table kept in sync) until the old color is retired, then drop it in a contract migration",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** The old color's queries name the table: once it is renamed they fail with
"relation does not exist", and the new color cannot be deployed first because the new name
does not exist yet.

**Lock.** ACCESS EXCLUSIVE, briefly (a catalog change). **Rewrite.** No.

**Class.** breaking: split it into expand and contract steps.

**Safe recipe.** In PostgreSQL a simple view over one table is updatable, so the old name can
live on as a view while both colors run:
1. Expand, in one transaction: rename the table and create a view with the old name.
   (If the old color must keep using the table itself, create the new table instead, keep
   both in sync with a trigger and backfill it.)
2. Release: the new color uses the new name.
3. Contract, after the old color is retired: drop the view.

` + splitRecipes["renaming-table"] + `

A rename followed, in the same transaction, by a view with the old name is that expand step
and is not flagged (its class is expand); without the transaction there is a moment when the
old name is missing. Tables and views created in the same unreleased set are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.Rename)
		if !ok {
			return
		}
		switch n.Object {
		case "table", "foreign table", "view", "materialized view":
		default:
			return
		}
		if phases.FreshObject(p.Catalog, n.Object, n.Name) || s.Info.Class != phases.Breaking {
			return
		}
		p.Reportf(siteOf(s), "renaming %s %q to %q breaks the running color; create the new name (a view or a synced table) as an expand step, drop the old one after retirement (contract)", n.Object, n.Name.String(), n.NewName)
	},
}
