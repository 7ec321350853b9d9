package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var AddingSerialPrimaryKeyField = &Rule{
	ID:       "adding-serial-primary-key-field",
	Summary:  "a primary key added to an existing table by ADD COLUMN … PRIMARY KEY or ADD PRIMARY KEY without USING INDEX",
	Help:     "build a unique index CONCURRENTLY, then ADD CONSTRAINT … PRIMARY KEY USING INDEX on NOT NULL columns",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** ALTER TABLE … ADD PRIMARY KEY builds the primary key's unique index while holding
the ACCESS EXCLUSIVE lock of the ALTER TABLE, and first proves its columns NOT NULL with a scan
of the table. ADD COLUMN id bigserial PRIMARY KEY (or an identity column) does worse: it
rewrites the whole table to fill the new column, then builds the index, all under the same
lock. Neither color can read or write the table meanwhile, and every query queues behind it.

**Lock.** ACCESS EXCLUSIVE for the whole rewrite, scan and index build. **Rewrite.** Yes for a
serial or identity column (and any column with a volatile default); otherwise a scan and an
index build.

**Safe recipe.** Fill and constrain the column step by step, build the index concurrently,
then attach it: ADD PRIMARY KEY USING INDEX only renames the index, and on columns already NOT
NULL needs no scan.

` + "```sql" + `
-- before
ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;
-- after
ALTER TABLE events ADD COLUMN id bigint;
CREATE SEQUENCE events_id_seq OWNED BY events.id;
ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq');
-- backfill the existing rows in batches (-- bgmigrate:backfill), then:
ALTER TABLE events ADD CONSTRAINT events_id_not_null CHECK (id IS NOT NULL) NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_id_not_null;
ALTER TABLE events ALTER COLUMN id SET NOT NULL; -- no scan on PostgreSQL 12+: the check proves it
-- in a migration without a transaction:
CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);
-- and finally:
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;
` + "```" + `

This rule owns every primary key added to an existing table, also when the statement adds
UNIQUE constraints as well; disallowed-unique-constraint owns UNIQUE constraints and
then stays quiet on that statement, so it is reported once. It also flags ADD PRIMARY KEY
USING INDEX when the catalog knows a column of the index is still nullable: PostgreSQL then
sets NOT NULL itself, scanning the table under the lock. Tables created in the same release
are not flagged.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		if msg := primaryKeyHazard(p, n); msg != "" {
			p.Report(siteOf(s), msg)
		}
	},
}

// primaryKeyHazard describes how the ALTER TABLE n adds a primary key to an
// existing table under its ACCESS EXCLUSIVE lock, "" when it does not.
func primaryKeyHazard(p *Pass, n *parser.AlterTable) string {
	t := n.Table.String()
	for _, c := range n.Cmds {
		if cd := c.ColumnDef; c.Op == parser.AddColumn && cd != nil && cd.PrimaryKey {
			kind := ""
			switch {
			case cd.Serial():
				kind = cd.Type.Name + " "
			case cd.Identity:
				kind = "identity "
			}
			if phases.RewritesOnAdd(cd, p.PGVersion) {
				return fmt.Sprintf("adding %sprimary key column %q to %q rewrites the table and builds the key's index under an ACCESS EXCLUSIVE lock", kind, cd.Name, t)
			}
			return fmt.Sprintf("adding %sprimary key column %q to %q builds the key's index under an ACCESS EXCLUSIVE lock", kind, cd.Name, t)
		}
		k := c.Constraint
		if c.Op != parser.AddConstraint || k == nil || k.Kind != parser.ConstraintPrimaryKey {
			continue
		}
		if k.UsingIndex == "" {
			for _, add := range n.Cmds {
				if cd := add.ColumnDef; add.Op == parser.AddColumn && cd != nil && len(k.Columns) == 1 && cd.Name == k.Columns[0] && phases.RewritesOnAdd(cd, p.PGVersion) {
					return fmt.Sprintf("adding primary key%s to %q on new column %q rewrites the table and builds the key's index under an ACCESS EXCLUSIVE lock", constraintLabel(k), t, cd.Name)
				}
			}
			return fmt.Sprintf("adding primary key%s to %q builds its index under an ACCESS EXCLUSIVE lock", constraintLabel(k), t)
		}
		if col := nullableKeyColumn(p, n, k.UsingIndex); col != "" {
			return fmt.Sprintf("adding primary key to %q using index %q first sets NOT NULL on %q, which scans the table under an ACCESS EXCLUSIVE lock", t, k.UsingIndex, col)
		}
	}
	return ""
}

// nullableKeyColumn returns a column of index ixName that the catalog knows
// to be nullable, with nothing proving it NOT NULL, so that ADD PRIMARY KEY
// USING INDEX scans the table; "" otherwise.
func nullableKeyColumn(p *Pass, n *parser.AlterTable, ixName string) string {
	ix := p.Catalog.Index(parser.QName{Schema: n.Table.Schema, Name: ixName})
	tab := p.Catalog.Table(n.Table)
	if ix == nil || tab == nil {
		return ""
	}
	for _, name := range ix.Columns {
		col := tab.Column(name)
		if col == nil || col.NotNull || (p.PGVersion >= 12 && tab.HasValidatedNotNullCheck(name)) {
			continue
		}
		setInStatement := false
		for _, c := range n.Cmds {
			if c.Op == parser.SetNotNull && c.Column == name {
				setInStatement = true
			}
		}
		if !setInStatement {
			return name
		}
	}
	return ""
}
