package rules

var BanDropFunction = &Rule{
	ID:       "ban-drop-function",
	Summary:  "DROP FUNCTION or DROP PROCEDURE of a routine the running color may still call",
	Help:     "stop calling the routine in a release first; drop it in a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** The old color calls functions and procedures by name (and triggers, defaults and
views may call them too). Once the routine is gone those calls fail; with CASCADE the
triggers and defaults that use it vanish silently.

**Lock.** ACCESS EXCLUSIVE on the routine's catalog entry; with CASCADE also on the objects
depending on it. **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.** Changing a routine's arguments or result creates a new routine: give it a
new name or signature (expand), move the callers to it, drop the old one later.

` + "```sql" + `
-- before
DROP FUNCTION order_total(bigint);
CREATE FUNCTION order_total(bigint, currency text) RETURNS numeric
    LANGUAGE sql AS $$ SELECT total FROM orders WHERE id = $1 AND currency = $2 $$;
-- after, release N (expand)
CREATE FUNCTION order_total(bigint, currency text) RETURNS numeric
    LANGUAGE sql AS $$ SELECT total FROM orders WHERE id = $1 AND currency = $2 $$;
-- after, release N+1 (contract)
-- bgmigrate:phase contract -- release 42 calls order_total(bigint, text)
DROP FUNCTION order_total(bigint);
` + "```" + `

Routines created in the same unreleased set and files declared contract are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		checkDrop(p, s, "breaks the running color, which may still call it", "function", "procedure", "routine")
	},
}
