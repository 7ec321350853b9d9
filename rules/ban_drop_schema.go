package rules

var BanDropSchema = &Rule{
	ID:       "ban-drop-schema",
	Summary:  "DROP SCHEMA of a schema the running color may still use",
	Help:     "stop using the schema's objects in a release first; drop it in a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** A schema holds tables, views, functions and types the old color may query by
qualified name or through its search_path. Dropping it (with CASCADE, everything inside it)
breaks the old color at once and leaves no rollback target.

**Lock.** ACCESS EXCLUSIVE on every object dropped with it. **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.**
1. Release N: the application stops using every object of the schema (and drops it from
   search_path).
2. Release N+1, contract phase: drop the schema.

` + "```sql" + `
-- before (in the release that stops using it)
DROP SCHEMA reporting_v1 CASCADE;
-- after: a separate contract migration
-- bgmigrate:phase contract -- release 42 moved reports to reporting_v2
DROP SCHEMA reporting_v1 CASCADE;
` + "```" + `

Schemas created in the same unreleased set and files declared contract are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		checkDrop(p, s, "removes everything in it that the running color may use", "schema")
	},
}
