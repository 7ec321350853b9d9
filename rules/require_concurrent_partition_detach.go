package rules

import "github.com/bgmigrate/bgmigrate/parser"

var RequireConcurrentPartitionDetach = &Rule{
	ID:       "require-concurrent-partition-detach",
	Summary:  "DETACH PARTITION without CONCURRENTLY on an existing partitioned table",
	Help:     "use ALTER TABLE … DETACH PARTITION … CONCURRENTLY, outside a transaction",
	Severity: Warning,
	Since:    "0.1.0",
	MinPG:    14,
	Doc: `**Why.** A plain DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the partitioned table
(and on the partition). It has to wait for every running query on any partition to finish,
and every query that arrives after it, on the whole partitioned table, queues behind it: both
colors, which share the table, stop reading and writing it.

**Lock.** ACCESS EXCLUSIVE on the partitioned table and the partition. **Rewrite.** No.

**Safe recipe.** From PostgreSQL 14, detach concurrently: the partitioned table is locked only
in SHARE UPDATE EXCLUSIVE mode (reads and writes continue) and PostgreSQL waits, in a second
transaction, for the queries that still see the partition. It cannot run inside a transaction
block and is not allowed while the partitioned table has a DEFAULT partition.

` + "```sql" + `
-- before
ALTER TABLE events DETACH PARTITION events_2023;
-- after
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;
-- if it was interrupted:
ALTER TABLE events DETACH PARTITION events_2023 FINALIZE;
` + "```" + `

Partitioned tables created in the same release are not flagged. The rule applies from
PostgreSQL 14, the first version with DETACH PARTITION CONCURRENTLY. Whether the running color
still reads the detached rows is a question of phase (detaching is a contract operation).`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := alterOfExisting(p, s)
		if !ok {
			return
		}
		for _, c := range n.Cmds {
			if c.Op != parser.DetachPartition || c.Concurrently || c.Partition == nil {
				continue
			}
			p.Reportf(siteOf(s), "detaching partition %q from %q without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on %q: queries of both colors queue behind it", c.Partition.String(), n.Table.String(), n.Table.String())
			return
		}
	},
}
