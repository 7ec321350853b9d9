package rules

var BanDropView = &Rule{
	ID:       "ban-drop-view",
	Summary:  "DROP VIEW or DROP MATERIALIZED VIEW of a view the running color may still query",
	Help:     "stop querying the view in a release first; drop it in a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** Views are part of the contract between the database and the application: the old
color keeps querying them until it is retired, and a rollback needs them back. Once the view
is gone its queries fail with "relation does not exist".

**Lock.** ACCESS EXCLUSIVE on the view, briefly. **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.** To change a view's columns, create a view under a new name (expand), move
the application to it, and drop the old one once the old color is retired. Adding columns
at the end works in place with CREATE OR REPLACE VIEW.

` + "```sql" + `
-- before
DROP VIEW active_users;
CREATE VIEW active_users AS SELECT id, email, last_seen FROM users WHERE active;
-- after, release N (expand)
CREATE VIEW active_users_v2 AS SELECT id, email, last_seen FROM users WHERE active;
-- after, release N+1 (contract)
-- bgmigrate:phase contract -- release 42 reads active_users_v2
DROP VIEW active_users;
` + "```" + `

Views created in the same unreleased set and files declared contract are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		checkDrop(p, s, "breaks the running color, which may still query it", "view", "materialized view")
	},
}
