package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var AddingFieldWithDefault = &Rule{
	ID:       "adding-field-with-default",
	Summary:  "ADD COLUMN on an existing table with a default that rewrites the table",
	Help:     "add the column without the default, then set the default and backfill the existing rows in batches",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** Since PostgreSQL 11, ADD COLUMN with a constant or stable default (` + "`0`" + `,
` + "`'pending'`" + `, ` + "`now()`" + `) only records the value in the catalog: it is instant. A volatile default
(` + "`random()`" + `, ` + "`gen_random_uuid()`" + `, ` + "`clock_timestamp()`" + `, any user function, which is VOLATILE
unless declared otherwise) must be computed for every row, so PostgreSQL rewrites the whole table.
So do a stored generated column, a serial or identity column, and, before PostgreSQL 11, any
non-NULL default. During the rewrite the table is locked for reads and writes: both colors,
which share the database, stall, and so does every query queued behind them.

**Lock.** ACCESS EXCLUSIVE for the whole rewrite. **Rewrite.** Yes: the table and all its indexes.

**Safe recipe.** Add the column without the volatile default, make new rows get it, then fill the
existing rows in batches (` + "`-- bgmigrate:backfill`" + ` runs an UPDATE in batches for you).

` + "```sql" + `
-- before
ALTER TABLE orders ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();
-- after
ALTER TABLE orders ADD COLUMN token uuid;
ALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();
-- bgmigrate:backfill table=orders batch=5000
UPDATE orders SET token = gen_random_uuid() WHERE token IS NULL;
-- later, once every row is filled: the NOT NULL recipe of adding-not-nullable-field
` + "```" + `

A serial or identity column that becomes the primary key is reported by
adding-serial-primary-key-field instead. Columns added to tables created in the same release
are not flagged: nobody uses those tables yet.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		for _, c := range n.Cmds {
			cd := c.ColumnDef
			if c.Op != parser.AddColumn || cd == nil {
				continue
			}
			if (cd.Serial() || cd.Identity) && addsPrimaryKey(n, cd.Name) {
				continue // adding-serial-primary-key-field
			}
			if why := rewritingDefault(cd, p.PGVersion); why != "" {
				p.Reportf(siteOf(s), "adding column %q to %q %s: the table is rewritten under an ACCESS EXCLUSIVE lock", cd.Name, n.Table.String(), why)
				return
			}
		}
	},
}

// rewritingDefault says why adding the column rewrites the table, "" when
// it does not (or when another rule owns the case).
func rewritingDefault(cd *parser.ColumnDef, pgVersion int) string {
	switch {
	case cd.Generated:
		return "as a stored generated column"
	case cd.Serial() || cd.Identity:
		if cd.Identity {
			return "as an identity column"
		}
		return "as " + cd.Type.Name
	case cd.Default == nil || cd.Default.Null:
		return ""
	case pgVersion < 11:
		return "with a default before PostgreSQL 11"
	case phases.Volatile(cd.Default):
		return fmt.Sprintf("with the volatile default %q", shorten(cd.Default.Text()))
	}
	return ""
}

// shorten keeps an expression quoted in a message short.
func shorten(text string) string {
	const max = 40
	if r := []rune(text); len(r) > max {
		return string(r[:max]) + "…"
	}
	return text
}

// addsPrimaryKey reports whether the statement makes col the primary key,
// in the column definition or in an ADD PRIMARY KEY of the same statement.
func addsPrimaryKey(n *parser.AlterTable, col string) bool {
	for _, c := range n.Cmds {
		if c.ColumnDef != nil && c.ColumnDef.Name == col && c.ColumnDef.PrimaryKey {
			return true
		}
		if k := c.Constraint; k != nil && k.Kind == parser.ConstraintPrimaryKey && len(k.Columns) == 1 && k.Columns[0] == col {
			return true
		}
	}
	return false
}
