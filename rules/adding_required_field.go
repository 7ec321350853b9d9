package rules

import "github.com/bgmigrate/bgmigrate/parser"

var AddingRequiredField = &Rule{
	ID:       "adding-required-field",
	Summary:  "a column the running color does not set becomes NOT NULL without a default",
	Help:     "add the column nullable or with a default and backfill it (expand); set NOT NULL after the old color is retired (contract)",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** The old color does not know the new column, so its INSERTs leave it out. With
NOT NULL and no default every one of those inserts fails: the old color breaks the moment the
migration runs. On a table with rows the ALTER itself fails too ("column contains null
values"). The same holds when a column added in this release is made NOT NULL later (SET NOT
NULL, CHECK (col IS NOT NULL)) or loses its default.

**Lock.** ACCESS EXCLUSIVE; SET NOT NULL also scans the table. **Rewrite.** No (a constant
default is stored in the catalog since PostgreSQL 11).

**Class.** breaking: split it into expand and contract steps.

**Safe recipe.**
1. Expand: add the column with a constant default the old color's inserts get (a default is
   stored once, PostgreSQL 11+: no rewrite), or nullable when there is no sensible value.
2. Release: the new color writes the column.
3. Contract, after the old color is retired: drop the default (or, for a nullable column, fill
   the rows and add CHECK (col IS NOT NULL) NOT VALID, validate it, SET NOT NULL, drop the check).

` + splitRecipes["adding-required-field"] + `

Identity, serial and generated columns fill themselves and are not flagged; neither are
columns of tables created in the same unreleased set, nor statements of a file declared contract
(` + "`-- bgmigrate:phase contract -- reason`" + `), which bgmigrate migrate runs only once the old
color is retired.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok || p.DeclaredContract() {
			// A file declared contract runs once the old color is retired.
			return
		}
		for _, c := range n.Cmds {
			switch c.Op {
			case parser.AddColumn:
				cd := c.ColumnDef
				if cd == nil || !cd.NotNull || hasDefault(cd.Default) || cd.Identity || cd.Serial() || cd.Generated {
					continue
				}
				p.Reportf(siteOf(s), "adding column %q to %q as NOT NULL without a default breaks the running color's inserts; add it nullable or with a default and backfill it (expand), set NOT NULL after retirement (contract)", cd.Name, n.Table.String())
			case parser.SetNotNull:
				if unsetRequired(p, n.Table, c.Column, false) {
					p.Reportf(siteOf(s), "column %q of %q, added in this release without a default, becomes NOT NULL and breaks the running color's inserts; give it a default (expand), set NOT NULL after retirement (contract)", c.Column, n.Table.String())
				}
			case parser.AddConstraint:
				if k := c.Constraint; k != nil && k.NotNullColumn != "" && allFresh(p, n.Table, k.Columns) && unsetRequired(p, n.Table, k.NotNullColumn, false) {
					p.Reportf(siteOf(s), "a NOT NULL check on column %q of %q, added in this release without a default, breaks the running color's inserts; give it a default (expand), add the check after retirement (contract)", k.NotNullColumn, n.Table.String())
				}
			case parser.DropDefault:
				if unsetRequired(p, n.Table, c.Column, true) {
					p.Reportf(siteOf(s), "dropping the default of NOT NULL column %q of %q, added in this release, breaks the running color's inserts; keep the default until the old color is retired (contract)", c.Column, n.Table.String())
				}
			}
		}
	},
}

func hasDefault(e *parser.Expr) bool { return e != nil && !e.Null }

// unsetRequired reports whether a column the running color does not know
// (added in this release to an existing table) is, or is becoming, required
// with nothing to fill it: NOT NULL already when dropping its default, or
// nullable and without a default when being made NOT NULL.
func unsetRequired(p *Pass, t parser.QName, col string, droppingDefault bool) bool {
	if !freshColumn(p, t, col) {
		return false
	}
	c := p.Catalog.Table(t).Column(col)
	if droppingDefault {
		return c.NotNull
	}
	return !c.NotNull && !hasDefault(c.Default)
}
