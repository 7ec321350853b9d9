package rules

import "github.com/bgmigrate/bgmigrate/phases"

var MixedExpandContract = &Rule{
	ID:       "mixed-expand-contract",
	Summary:  "a migration holding both expand and contract statements",
	Help:     "split the file: expand statements run before the switch, contract statements after the old color is retired",
	Severity: Error,
	Since:    "0.1.0",
	Splits:   true,
	Doc: `**Why.** A blue-green release applies expand migrations before the switch (the old color
must keep working) and contract migrations only after the old color stops being a rollback
target. A file that does both cannot be scheduled: run early, its contract part breaks the
old color; run late, the new color starts without its expand part.

**Safe recipe.** Move the contract statements into their own migration.

` + "```sql" + `
-- before: one file
ALTER TABLE users ADD COLUMN email_verified boolean;
ALTER TABLE users DROP COLUMN legacy_flag;
-- after: 0042_add_email_verified.sql (expand)
ALTER TABLE users ADD COLUMN email_verified boolean;
-- after: 0043_drop_legacy_flag.sql (contract)
-- bgmigrate:phase contract -- release 41 stopped reading legacy_flag
ALTER TABLE users DROP COLUMN legacy_flag;
` + "```" + `

An explicit ` + "`-- bgmigrate:phase`" + ` directive at the top of the file wins over the inferred classes.`,
	File: func(p *Pass) {
		first := func(classes ...phases.Class) *Summary {
			for i := range p.top {
				for _, c := range classes {
					if p.top[i].Class() == c {
						return &p.top[i]
					}
				}
			}
			return nil
		}
		firstExpand, firstContract := first(phases.Expand, phases.Mixed), first(phases.Contract, phases.Mixed)
		if firstExpand == nil || firstContract == nil {
			return
		}
		p.Reportf(p.File.Span(int(firstContract.start), int(firstContract.end)), "this file expands (line %d) and contracts (%s) the schema; split it into two migrations",
			p.File.Pos(int(firstExpand.start)).Line, firstContract.Reason())
	},
}
