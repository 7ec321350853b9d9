package rules

import "github.com/bgmigrate/bgmigrate/parser"

var RequireConcurrentIndexCreation = &Rule{
	ID:       "require-concurrent-index-creation",
	Summary:  "CREATE INDEX without CONCURRENTLY on an existing table",
	Help:     "use CREATE INDEX CONCURRENTLY, outside a transaction",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** CREATE INDEX takes a SHARE lock on the table for the whole build: reads go on,
but every INSERT, UPDATE and DELETE waits until the index is built, minutes on a large table.
Both colors write to the same table, so both stall.

**Lock.** SHARE (blocks writes) for the duration of the build. **Rewrite.** No; the table is
scanned.

**Safe recipe.** Build it concurrently (SHARE UPDATE EXCLUSIVE: reads and writes continue). It
cannot run inside a transaction block, so put it in its own migration that the tool runs
without a transaction (goose ` + "`-- +goose NO TRANSACTION`" + `, dbmate ` + "`transaction:false`" + `).

` + "```sql" + `
-- before
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
-- after
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
` + "```" + `

A failed concurrent build leaves an INVALID index behind; drop it and build again.
Indexes on tables created in the same migration (or earlier in the same unreleased set) are
not flagged: nobody uses those tables yet.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.CreateIndex)
		if !ok || n.Concurrently || p.Fresh(n.Table) {
			return
		}
		p.Reportf(s.Span, "creating index on %q without CONCURRENTLY blocks writes to it until the build ends", n.Table.String())
	},
}
