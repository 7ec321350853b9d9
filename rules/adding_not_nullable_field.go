package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var AddingNotNullableField = &Rule{
	ID:       "adding-not-nullable-field",
	Summary:  "SET NOT NULL on an existing table without a validated CHECK (col IS NOT NULL)",
	Help:     "add CHECK (col IS NOT NULL) NOT VALID, validate it in another transaction, then SET NOT NULL and drop the check",
	Severity: Warning,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** ALTER COLUMN … SET NOT NULL reads every row to make sure none is NULL, while holding
the ACCESS EXCLUSIVE lock of the ALTER TABLE: on a large table neither color can read or write
it for the whole scan, and the queries queued behind the migration pile up. From PostgreSQL
12 on, the scan is skipped when a validated CHECK (col IS NOT NULL) constraint already proves
it, and such a check can be validated under a weak lock.

**Lock.** ACCESS EXCLUSIVE for the whole scan. **Rewrite.** No; the table is scanned.

**Safe recipe.** On PostgreSQL 12+, four steps; the VALIDATE must run in a transaction of its
own (see validate-in-same-transaction): a CHECK (col IS NOT NULL) NOT VALID (instant), then
VALIDATE (it scans, but writes go on), SET NOT NULL (instant: the check proves it) and the check
dropped.

` + splitRecipes["adding-not-nullable-field"] + `

Before PostgreSQL 12 there is no lock-free way: keep the CHECK constraint instead of NOT
NULL, or schedule the statement in a maintenance window. Whether the running color may still
write NULL is a different question, answered by tightening-constraint. Tables created in the
same release are not flagged.

ADD PRIMARY KEY … USING INDEX makes the index's columns NOT NULL in the same way: it is
reported when one of them is not NOT NULL yet (nor proven so by a validated check), with the
same recipe run on those columns first. A column already NOT NULL is not scanned again.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		tab := p.Catalog.Table(n.Table)
		for _, c := range n.Cmds {
			if k := c.Constraint; c.Op == parser.AddConstraint && k != nil && k.Kind == parser.ConstraintPrimaryKey && k.UsingIndex != "" {
				nullable, known := phases.NullableKeyColumns(p.Catalog, n.Table, k, p.PGVersion)
				switch {
				case !known:
					p.Reportf(siteOf(s), "adding the primary key of %q using index %q makes its columns NOT NULL, scanning the whole table under an ACCESS EXCLUSIVE lock unless they are NOT NULL already: the index's columns are unknown", n.Table.String(), k.UsingIndex)
					return
				case len(nullable) > 0:
					p.Reportf(siteOf(s), "adding the primary key of %q using index %q sets %s NOT NULL, scanning the whole table under an ACCESS EXCLUSIVE lock; make them NOT NULL first with a validated CHECK", n.Table.String(), k.UsingIndex, quoteList(nullable))
					return
				}
				continue
			}
			if c.Op != parser.SetNotNull {
				continue
			}
			if col := tab.Column(c.Column); col != nil && col.NotNull {
				continue
			}
			if p.PGVersion >= 12 && tab.HasValidatedNotNullCheck(c.Column) {
				continue
			}
			if p.PGVersion < 12 {
				p.Reportf(siteOf(s), "setting %q.%q NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock", n.Table.String(), c.Column)
			} else {
				p.Reportf(siteOf(s), "setting %q.%q NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock: no validated CHECK (%s IS NOT NULL) proves it first", n.Table.String(), c.Column, c.Column)
			}
			return
		}
	},
}
