package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
)

var TransactionNesting = &Rule{
	ID:       "transaction-nesting",
	Summary:  "BEGIN inside a transaction, or COMMIT/ROLLBACK that ends the migration tool's transaction or has none to end",
	Help:     "remove the BEGIN/COMMIT and let the tool's transaction do it, or turn the tool's transaction off for this file",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** PostgreSQL has no nested transactions. A BEGIN inside a transaction only prints a
warning and is ignored, so the first COMMIT ends the outer transaction, not the inner one.
Most tools wrap each migration in a transaction of their own (goose, dbmate, Flyway, diesel):
an explicit BEGIN … COMMIT in such a file commits half of the migration early; the statements
after it run in autocommit mode, and a failure there leaves the schema half-migrated, with the
tool's history saying otherwise, while both colors run against it. A COMMIT with no
transaction open only warns, but shows the author expected a transaction that is not there.

**Lock.** None of its own; locks taken before an early COMMIT are released early, those taken
after it no longer wait for the end of the migration. **Rewrite.** No.

**Safe recipe.** Let the tool own the transaction, or tell it to stay out of the way and own it
yourself.

` + "```sql" + `
-- before: goose wraps the file in a transaction already
-- +goose Up
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
-- after
-- +goose Up
ALTER TABLE orders ADD COLUMN note text;
` + "```" + `

golang-migrate sends a file as one multi-statement query, whose implicit transaction an
explicit BEGIN … COMMIT simply takes over: that is not flagged, but a COMMIT without BEGIN is.
A nested BEGIN is reported at the BEGIN only, not again at the COMMIT that closes it.`,
	Stmt: func(p *Pass, s *Stmt) {
		tr, ok := s.Node.(*parser.Transaction)
		if !ok || s.Parent != nil {
			return
		}
		// The state before s, from the statements before it.
		state := stateOf[explicitTx](p)
		st := *state
		state.step(p, s)
		switch tr.Op {
		case parser.TxBegin:
			switch {
			case st.open != nil:
				p.Reportf(s.Span, "BEGIN inside the transaction begun at line %d is ignored: the first COMMIT ends the outer transaction", st.open.Span.Start.Line)
			case s.ToolTx && p.File.Tx != parser.TxImplicit:
				p.Reportf(s.Span, "BEGIN inside the transaction %s wraps the file in is ignored: the COMMIT that follows ends %s's transaction early", toolName(p.File), toolName(p.File))
			}
		case parser.TxCommit, parser.TxRollback:
			verb := "COMMIT"
			if tr.Op == parser.TxRollback {
				verb = "ROLLBACK"
			}
			switch {
			case st.open != nil:
				// Ends the explicit transaction; a nested BEGIN was reported.
			case s.ToolTx && p.File.Tx == parser.TxImplicit:
				p.Reportf(s.Span, "%s without BEGIN ends the implicit transaction of the multi-statement query early: the statements after it run in another one", verb)
			case s.ToolTx:
				p.Reportf(s.Span, "%s ends the transaction %s wraps the file in: the statements after it run in autocommit mode", verb, toolName(p.File))
			case !s.InTransaction():
				p.Reportf(s.Span, "%s without BEGIN: no transaction is in progress", verb)
			}
		}
	},
}

// explicitTx is the state of explicit transactions before a statement.
type explicitTx struct {
	open   *Stmt // the BEGIN of the explicit transaction in progress
	inTool bool  // open ran inside the tool's transaction
}

// step moves st past statement s.
func (st *explicitTx) step(p *Pass, s *Stmt) {
	tr, ok := s.Node.(*parser.Transaction)
	if !ok || s.Parent != nil {
		return
	}
	switch tr.Op {
	case parser.TxBegin:
		if st.open == nil {
			st.open, st.inTool = s, s.ToolTx && p.File.Tx != parser.TxImplicit
		}
	case parser.TxCommit, parser.TxRollback, parser.TxPrepare:
		*st = explicitTx{}
	}
}

// toolName names the migration tool that runs the file.
func toolName(f *parser.File) string {
	if f.Format == "" || f.Format == parser.FormatPlain || f.Format == parser.FormatAuto {
		return "the migration tool"
	}
	return fmt.Sprint(f.Format)
}
