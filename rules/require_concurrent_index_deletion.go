package rules

import (
	"strconv"

	"github.com/bgmigrate/bgmigrate/parser"
)

var RequireConcurrentIndexDeletion = &Rule{
	ID:       "require-concurrent-index-deletion",
	Summary:  "DROP INDEX without CONCURRENTLY of an index on an existing table",
	Help:     "use DROP INDEX CONCURRENTLY, one index per statement, outside a transaction",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself
is quick, but the lock has to wait for every running query on the table to finish, and
every query that arrives after it (reads included) queues behind it. Both colors share the
table, so a single slow report query turns the drop into an outage for both.

**Lock.** ACCESS EXCLUSIVE on the table (blocks reads and writes), briefly, after waiting
for running queries. **Rewrite.** No.

**Safe recipe.** Drop it concurrently: PostgreSQL takes SHARE UPDATE EXCLUSIVE, waits for
the transactions using the index to end without blocking new ones, then removes it.
DROP INDEX CONCURRENTLY drops one index per statement, takes no CASCADE and cannot run
inside a transaction block: give it a migration the tool runs without a transaction
(goose ` + "`-- +goose NO TRANSACTION`" + `, dbmate ` + "`transaction:false`" + `).

` + "```sql" + `
-- before
DROP INDEX orders_customer_id_idx;
-- after
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
` + "```" + `

Indexes created in the same release (in this file or an earlier pending one) are not
flagged: the running color does not depend on them and nobody waits for them. Whether the
running color still needs the index for its queries is a separate question of phase: drop
an index the old color relies on only in a contract migration.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.Drop)
		if !ok || n.Object != "index" || n.Concurrently {
			return
		}
		for _, q := range n.Names {
			ix := p.Catalog.Index(q)
			if ix != nil && (p.Catalog.Fresh(ix.Origin) || p.Fresh(parser.QName{Name: ix.Table})) {
				continue
			}
			table := "its table"
			if ix != nil {
				table = strconv.Quote(ix.Table)
			}
			p.Reportf(siteOf(s), "dropping index %q without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on %s: queries of both colors queue behind it", q.String(), table)
			return
		}
	},
}
