package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var BanSetSchema = &Rule{
	ID:       "ban-set-schema",
	Summary:  "ALTER … SET SCHEMA of an object the running color uses",
	Help:     "create the object (or a view or wrapper) in the new schema as an expand step; drop the old one after the old color is retired",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** Moving an object to another schema renames it: the old color, which names it by
the old schema or finds it through its search_path, fails at once with "does not exist".

**Lock.** ACCESS EXCLUSIVE on the object, briefly. **Rewrite.** No; the data stays where it
is.

**Class.** breaking: split it into expand and contract steps.

**Safe recipe.**
1. Expand, in one transaction: move the table and create a view with its old name, which
   PostgreSQL keeps updatable (a view over one table).
2. Release: the new color uses the new schema.
3. Contract, after the old color is retired: drop the view.

` + splitRecipes["ban-set-schema"] + `

A move that, in one transaction, replaces a view of the new name (the contract step above),
or is followed by a view keeping the old name, leaves no moment without the name and is not
flagged: the first is a contract step, the second an expand step. Objects created in the
same unreleased set are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.SetSchema)
		if !ok || phases.FreshObject(p.Catalog, n.Object, n.Name) || s.Info.Class != phases.Breaking {
			return
		}
		p.Reportf(siteOf(s), "moving %s %q to schema %q breaks the running color; make it reachable in the new schema (expand), drop the old one after retirement (contract)", n.Object, n.Name.String(), n.NewSchema)
	},
}
