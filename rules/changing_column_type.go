package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var ChangingColumnType = &Rule{
	ID:       "changing-column-type",
	Summary:  "ALTER COLUMN TYPE on an existing table that rewrites it",
	Help:     "add a column of the new type, backfill it in batches, switch the application over, then drop the old column",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** Changing a column's type rewrites the whole table and rebuilds every index on it,
under an ACCESS EXCLUSIVE lock: neither color can read or write the table until it is done.
The running color also keeps reading and writing the old type. Only binary-compatible changes
are free (PostgreSQL checks the catalog and skips the rewrite): varchar(n) made longer or
unlimited, varchar to text, numeric(p,s) with a larger p and the same s, a larger precision for
timestamp, timestamptz, time or interval, and cidr to inet, all without USING.

**Lock.** ACCESS EXCLUSIVE for the whole rewrite. **Rewrite.** Yes: the table and its indexes
(for the binary-compatible changes, only some indexes may be rebuilt).

**Safe recipe.** Expand and contract: a column of the new type beside the old one, a trigger
that converts between the two whichever color writes, the rows filled in batches; the contract
drops the old column once the old color is retired.

` + splitRecipes["changing-column-type"] + `

The new column keeps its name: renaming it back to the old one is a rename that the color
using it would see (renaming-column), so pick the final name for the new column.

The old type comes from the migrations replayed before the statement; when the column is not
found there the change cannot be recognised as binary-compatible and is reported, saying so.
Tables created in the same release are not flagged.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		tab := p.Catalog.Table(n.Table)
		for _, c := range n.Cmds {
			if c.Op != parser.AlterColumnType || c.Type == nil {
				continue
			}
			col := tab.Column(c.Column)
			if col == nil {
				p.Reportf(siteOf(s), "changing the type of %q.%q to %s: its current type is unknown, so the change is taken to rewrite the table under an ACCESS EXCLUSIVE lock",
					n.Table.String(), c.Column, typeLabel(*c.Type))
				return
			}
			compatible := phases.BinaryCompatible(*col.Type, *c.Type)
			if compatible && phases.PlainUsing(c) {
				continue
			}
			msg := fmt.Sprintf("changing the type of %q.%q from %s to %s rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
				n.Table.String(), c.Column, typeLabel(*col.Type), typeLabel(*c.Type))
			if compatible {
				msg += " (because of USING)"
			}
			p.Report(siteOf(s), msg)
			return
		}
	},
}

// typeLabel prints a type for a message, quoted, as the migration wrote it.
func typeLabel(t parser.TypeName) string {
	text := t.Text
	if text == "" {
		text = t.Name
	}
	return fmt.Sprintf("%q", text)
}
