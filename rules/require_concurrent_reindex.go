package rules

import (
	"strconv"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var RequireConcurrentReindex = &Rule{
	ID:       "require-concurrent-reindex",
	Summary:  "REINDEX without CONCURRENTLY of an existing index, table, schema or database",
	Help:     "use REINDEX … CONCURRENTLY, outside a transaction",
	Severity: Warning,
	Since:    "0.1.0",
	MinPG:    12,
	Doc: `**Why.** A plain REINDEX locks out writes to the table while every index is rebuilt, and
takes an ACCESS EXCLUSIVE lock on the index being rebuilt. The planner opens every index of a
table when it plans a query, so in practice nearly every query on the table, reads included,
waits for the rebuild: minutes on a large table, for both colors, which share it.

**Lock.** SHARE on the table (blocks writes) and ACCESS EXCLUSIVE on the index (blocks the
queries planned against it) for the whole rebuild. **Rewrite.** The indexes are rebuilt; the
table is scanned, not rewritten.

**Safe recipe.** From PostgreSQL 12, rebuild concurrently: a new index is built next to the
old one under SHARE UPDATE EXCLUSIVE (reads and writes continue), then swapped in. It cannot
run inside a transaction block, so give it a migration the tool runs without a transaction.

` + "```sql" + `
-- before
REINDEX INDEX orders_customer_id_idx;
-- after
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
` + "```" + `

A failed concurrent rebuild leaves an INVALID index named ` + "`…_ccnew`" + ` behind; drop it and
run the REINDEX again. REINDEX SYSTEM has no concurrent form and is not flagged; neither
are indexes and tables created in the same release. The rule applies from PostgreSQL 12,
the first version with REINDEX CONCURRENTLY.`,
	SizeAware: true,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.Reindex)
		if !ok || n.Concurrently {
			return
		}
		switch n.Target {
		case "index":
			ix := p.Catalog.Index(n.Name)
			if ix != nil && (p.Catalog.Fresh(ix.Origin) || p.Fresh(parser.QName{Name: ix.Table})) {
				return
			}
			table := "its table"
			if ix != nil {
				table = strconv.Quote(ix.Table)
			}
			p.Reportf(siteOf(s), "reindexing index %q without CONCURRENTLY blocks writes to %s and nearly every query planned on it until the rebuild ends", n.Name.String(), table)
		case "table":
			if p.Fresh(n.Name) {
				return
			}
			p.Reportf(siteOf(s), "reindexing table %q without CONCURRENTLY blocks its writes and nearly every query on it until all its indexes are rebuilt", n.Name.String())
		case "schema":
			if phases.FreshObject(p.Catalog, "schema", n.Name) {
				return
			}
			p.Reportf(siteOf(s), "reindexing schema %q without CONCURRENTLY blocks the queries on each of its tables in turn while its indexes are rebuilt", n.Name.String())
		case "database":
			p.Reportf(siteOf(s), "reindexing the database without CONCURRENTLY blocks the queries on each table in turn while its indexes are rebuilt")
		}
	},
}
