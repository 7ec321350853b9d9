package rules

import "github.com/bgmigrate/bgmigrate/parser"

var BanExclusionConstraint = &Rule{
	ID:       "ban-exclusion-constraint",
	Summary:  "ADD CONSTRAINT … EXCLUDE on an existing table",
	Help:     "give the constraint to a new table (or new partitions) and move the rows, or schedule the lock in a maintenance window",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** Adding an exclusion constraint builds its index (usually GiST) and checks every
existing row against the others while the ALTER TABLE holds an ACCESS EXCLUSIVE lock. GiST
builds are slow; on a large table neither color can read or write it for minutes, and every
query that arrives queues behind the migration. Unlike CHECK and foreign keys, an exclusion
constraint cannot be added NOT VALID, and unlike UNIQUE it cannot be attached with USING
INDEX: there is no online way to add it to a populated table.

**Lock.** ACCESS EXCLUSIVE for the whole index build and check. **Rewrite.** No; the table is
scanned and the index built.

**Safe recipe.** Put the constraint on a table that starts empty: a new table the application
moves to (write both, backfill in batches, switch reads, drop the old one), or new partitions
only. When the table is small, run it as is with lock_timeout set and suppress the finding
with a reason.

` + "```sql" + `
-- before
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
-- after: a new table carries the constraint from the start
CREATE TABLE bookings_v2 (LIKE bookings INCLUDING ALL,
    CONSTRAINT bookings_v2_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&));
-- the release writes to both tables; copy the old rows in batches; switch reads; retire bookings
` + "```" + `

Exclusion constraints on tables created in the same release are not flagged.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		for _, c := range n.Cmds {
			if k := c.Constraint; c.Op == parser.AddConstraint && k != nil && k.Kind == parser.ConstraintExclusion {
				p.Reportf(siteOf(s), "adding exclusion constraint%s to %q builds its index and checks every row under an ACCESS EXCLUSIVE lock, and cannot be made NOT VALID", constraintLabel(k), n.Table.String())
				return
			}
		}
	},
}
