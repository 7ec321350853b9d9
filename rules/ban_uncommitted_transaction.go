package rules

var BanUncommittedTransaction = &Rule{
	ID:       "ban-uncommitted-transaction",
	Summary:  "BEGIN with no COMMIT or ROLLBACK before the end of the file",
	Help:     "end the transaction with COMMIT before the end of the file",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** A migration that opens a transaction and never ends it leaves the connection
"idle in transaction" when the file is done, holding every lock its statements took. For an
ALTER TABLE that is ACCESS EXCLUSIVE: both colors' queries on the table queue behind it until
the tool (or a timeout) closes the connection, and then the whole migration is rolled back,
often after the tool has recorded it as applied.

**Lock.** Every lock taken since BEGIN, kept until the session ends. **Rewrite.** No.

**Safe recipe.** End what you begin.

` + "```sql" + `
-- before
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
-- after
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
` + "```" + `

A BEGIN inside the transaction a tool wraps the file in (goose, dbmate, Flyway, diesel) is
ignored by PostgreSQL and the tool commits: that is transaction-nesting's case, not this one.`,
	Stmt: func(p *Pass, s *Stmt) { stateOf[explicitTx](p).step(p, s) },
	File: func(p *Pass) {
		st := stateOf[explicitTx](p)
		if st.open != nil && !st.inTool {
			p.Reportf(st.open.Span, "the transaction begun here is neither committed nor rolled back before the end of the file")
		}
	},
}
