package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var RenamingEnumValue = &Rule{
	ID:       "renaming-enum-value",
	Summary:  "ALTER TYPE … RENAME VALUE of an enum the running color uses",
	Help:     "add the new value and move rows to it (expand); stop using the old value, which PostgreSQL cannot drop, after the old color is retired",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** The old color writes and compares the old label ('shipped'): after the rename its
inserts fail with "invalid input value for enum" and its filters match nothing.

**Lock.** ACCESS EXCLUSIVE on the type's catalog entry, briefly. **Rewrite.** No.

**Class.** breaking: split it into expand and contract steps.

**Safe recipe.**
1. Expand: ADD VALUE the new label (the new value cannot be used until that transaction
   commits); the new color accepts both labels when reading.
2. Release: the new color writes only the new label; backfill the existing rows in batches.
3. Contract, after the old color is retired: make sure nothing writes the old label (a CHECK
   constraint); PostgreSQL cannot drop an enum value, so to get rid of it, move the column to a
   new type.

` + "```sql" + `
-- before
ALTER TYPE order_status RENAME VALUE 'shipped' TO 'sent';
-- after, expand
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'sent';
-- after, backfill in batches once the new color writes 'sent'
UPDATE orders SET status = 'sent' WHERE status = 'shipped' AND id BETWEEN 1 AND 10000;
-- after, contract
-- bgmigrate:phase contract -- release 42 writes 'sent' only
ALTER TABLE orders ADD CONSTRAINT orders_status_not_shipped CHECK (status <> 'shipped') NOT VALID;
` + "```" + `

Enums created in the same unreleased set are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.AlterEnum)
		if !ok || n.RenameFrom == "" || phases.FreshObject(p.Catalog, "type", n.Type) {
			return
		}
		p.Reportf(siteOf(s), "renaming value %q of enum %q breaks the running color; add the new value and move rows to it (expand), stop using the old one after retirement (contract)", n.RenameFrom, n.Type.String())
	},
}
