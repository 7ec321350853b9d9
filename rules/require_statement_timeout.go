package rules

var RequireStatementTimeout = &Rule{
	ID:       "require-statement-timeout",
	Summary:  "a statement that scans or rewrites an existing table under a write-blocking lock, without statement_timeout set first",
	Help:     "set statement_timeout (e.g. SET statement_timeout = '5min') before the statement, sized to what the table can afford",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** lock_timeout bounds how long a migration waits for its lock, not how long it
holds it. A statement that scans the table (ADD CONSTRAINT without NOT VALID, SET NOT NULL,
CREATE INDEX without CONCURRENTLY) or rewrites it (ALTER COLUMN TYPE, a volatile default,
VACUUM FULL) keeps its lock for as long as the table is large: on a table that grew since the
migration was tested, that is an outage for both colors with no end in sight. statement_timeout
puts an upper bound on it: past it the statement is cancelled, the lock released and the
migration fails, to be rescheduled or rewritten with the safe recipe.

**Lock.** The statement's own, SHARE or stronger (blocks writes), for the whole scan or rewrite.
**Rewrite.** Depends on the statement.

**Safe recipe.** Prefer the online form of the operation (see the rule that reports the
statement itself). Where the slow form is accepted, bound it:

` + "```sql" + `
-- before
ALTER TABLE orders ALTER COLUMN shipping_country_code SET NOT NULL;
-- after
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders ALTER COLUMN shipping_country_code SET NOT NULL;
` + "```" + `

Reported once per file, at the first such statement. Tables created in the same release are
not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		if !needsStatementTimeout(s) {
			return
		}
		// reported is set at the first such statement of the file.
		reported := stateOf[bool](p)
		if *reported {
			return
		}
		*reported = true
		what := "scanning"
		if s.Info.Rewrite {
			what = "rewriting"
		}
		p.Reportf(siteOf(s), "%s %q holds its %s lock for as long as that takes, and no statement_timeout bounds it", what, s.Info.Table, s.Info.Lock)
	},
}

func needsStatementTimeout(s *Stmt) bool {
	return !s.StatementTimeout && (s.Info.Scan || s.Info.Rewrite) && s.Info.Lock.BlocksWrites()
}
