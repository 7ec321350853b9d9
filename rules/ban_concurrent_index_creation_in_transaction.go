package rules

import (
	"fmt"
	"strconv"

	"github.com/bgmigrate/bgmigrate/parser"
)

var BanConcurrentIndexCreationInTransaction = &Rule{
	ID:       "ban-concurrent-index-creation-in-transaction",
	Summary:  "a CONCURRENTLY operation that runs inside a transaction block, where PostgreSQL rejects it",
	Help:     "run the statement on its own, outside any transaction: turn the tool's transaction off for this migration or move the statement out of BEGIN … COMMIT",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX … CONCURRENTLY and
ALTER TABLE … DETACH PARTITION … CONCURRENTLY commit several transactions of their own, so
PostgreSQL refuses to run them inside a transaction block ("cannot run inside a transaction
block") or from a DO block or function ("cannot be executed from a function"). The migration
fails at deploy time, usually after the earlier statements of the file were rolled back, and
the release is stuck before the switch.

A statement runs inside a transaction block when:
- the file opens one with BEGIN (or START TRANSACTION) before it;
- the tool wraps the file in one: goose (unless ` + "`-- +goose NO TRANSACTION`" + `), dbmate (unless
  ` + "`-- migrate:up transaction:false`" + `), diesel (unless ` + "`run_in_transaction = false`" + ` in the
  migration's metadata.toml), Flyway (unless ` + "`executeInTransaction=false`" + `);
- the tool sends the file as one multi-statement query, which PostgreSQL runs as one implicit
  transaction: golang-migrate and prisma, when the file holds more than one statement;
- it sits in a DO block or in a function the migration calls.

**Lock.** None is taken: the statement fails. **Rewrite.** No.

**Safe recipe.** Give the statement a migration of its own that runs without a transaction.

` + "```sql" + `
-- before: 0042_index.sql (goose)
-- +goose Up
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
-- after
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
` + "```" + `

Without the transaction, a failure part-way leaves the earlier statements applied: keep the
file to the one statement and make it re-runnable (IF NOT EXISTS, IF EXISTS). This rule also
flags statements on tables created in the same release: PostgreSQL rejects them all the same.`,
	Stmt: func(p *Pass, s *Stmt) {
		st := stateOf[concurrentState](p)
		if tr, ok := s.Node.(*parser.Transaction); ok && tr.Op == parser.TxBegin && s.Parent == nil {
			st.begin = s
		}
		what := concurrentOp(s.Statement)
		if what == "" {
			return
		}
		if s.Parent != nil {
			// The first concurrent statement of a body fails it: report that one.
			first := st.nested != s.Index+1
			st.nested = s.Index + 1
			if !first || !s.InTransaction() {
				return
			}
			p.Reportf(siteOf(s), "%s fails inside %s, where PostgreSQL rejects it; make it a top-level statement of a migration of its own", what, bodyKind(s))
			return
		}
		if !s.InTransaction() {
			return
		}
		if !s.ToolTx {
			// The last BEGIN opened s's transaction if it has its number.
			if begin := st.begin; begin != nil && begin.Tx == s.Tx {
				p.Reportf(s.Span, "%s fails inside a transaction block, and BEGIN at line %d opened one; move the statement out of BEGIN … COMMIT, into a migration of its own", what, begin.Span.Start.Line)
				return
			}
		}
		p.Reportf(s.Span, "%s fails inside a transaction block, and %s", what, toolTxAdvice(p.File))
	},
}

// concurrentOp describes the CONCURRENTLY operation st performs, "" if none.
func concurrentOp(st *parser.Statement) string {
	switch n := st.Node.(type) {
	case *parser.CreateIndex:
		if !n.Concurrently {
			return ""
		}
		if n.Name == "" {
			return fmt.Sprintf("creating an index on %q CONCURRENTLY", n.Table.String())
		}
		return fmt.Sprintf("creating index %q CONCURRENTLY", n.Name)
	case *parser.Drop:
		if n.Concurrently && len(n.Names) > 0 {
			return fmt.Sprintf("dropping %s %q CONCURRENTLY", n.Object, n.Names[0].String())
		}
	case *parser.Reindex:
		if n.Concurrently {
			return fmt.Sprintf("reindexing %s %q CONCURRENTLY", n.Target, n.Name.String())
		}
	case *parser.AlterTable:
		for _, c := range n.Cmds {
			if c.Op == parser.DetachPartition && c.Concurrently && c.Partition != nil {
				return fmt.Sprintf("detaching partition %q CONCURRENTLY", c.Partition.String())
			}
		}
	}
	return ""
}

// bodyKind says what runs the nested statement s: a DO block or a function.
func bodyKind(s *Stmt) string {
	if _, ok := s.Parent.Node.(*parser.Do); ok {
		return "a DO block"
	}
	if len(s.Parent.Calls) > 0 {
		return "function " + strconv.Quote(s.Parent.Calls[0])
	}
	return "a function"
}

// concurrentState is what ban-concurrent-index-creation-in-transaction
// keeps from statement to statement.
type concurrentState struct {
	begin *Stmt // the last top-level BEGIN
	// nested is the Index+1 of the top-level statement whose body last ran
	// a concurrent statement.
	nested int
}

// toolTxAdvice says which tool runs the file in a transaction and how to
// turn that off.
func toolTxAdvice(f *parser.File) string {
	switch f.Format {
	case parser.FormatGoose:
		return `goose runs this file in one; add "-- +goose NO TRANSACTION" to the file and keep the statement alone in it`
	case parser.FormatDbmate:
		return `dbmate runs this file in one; write "-- migrate:up transaction:false" and keep the statement alone in the file`
	case parser.FormatDiesel:
		return `diesel runs this migration in one; set run_in_transaction = false in the migration's metadata.toml`
	case parser.FormatFlyway:
		return "Flyway runs this script in one; set executeInTransaction=false in the script's .sql.conf file"
	case parser.FormatGolangMigrate, parser.FormatPrisma:
		return fmt.Sprintf("%s sends this file as one multi-statement query, which PostgreSQL runs as one transaction; put the statement alone in a migration file of its own", f.Format)
	}
	return "the file is assumed to run in one (--assume-in-transaction); run it in a migration of its own without a transaction"
}
