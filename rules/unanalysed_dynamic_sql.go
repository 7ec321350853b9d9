package rules

var UnanalysedDynamicSQL = &Rule{
	ID:       "unanalysed-dynamic-sql",
	Summary:  "EXECUTE of DDL built at run time, which bgmigrate cannot analyse",
	Help:     "write the statement out, or check it by hand and ignore this finding with a reason",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** bgmigrate analyses the statements of DO blocks and of the functions a migration
calls, including ` + "`EXECUTE 'constant string'`" + `. A string assembled at run time (` + "`format()`" + `,
concatenation, variables) is only known when it runs, so none of the lock, rewrite and blue-green
rules can look at it. When its literal parts look like DDL (ALTER, CREATE, DROP, …) the statement
it runs may well be one those rules would flag, and it is reported so that someone checks it.

**Prefer.** Write the statements out when the set of objects is known; otherwise review the
generated statements and record that you did.

` + "```sql" + `
-- before
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['orders', 'invoices'] LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN note text', t);
  END LOOP;
END $$;
-- after
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE invoices ADD COLUMN note text;
` + "```" + `

Dynamic statements whose literal parts hold no DDL keyword (a dynamic SELECT or UPDATE) are not
reported.`,
	Stmt: func(p *Pass, s *Stmt) {
		if !s.Dynamic || !s.DynamicDDL {
			return
		}
		p.Reportf(siteOf(s), "EXECUTE runs SQL built at run time that looks like DDL; bgmigrate cannot analyse it: %q", shorten(s.Text))
	},
}
