package rules

import "fmt"

var PreferTextField = &Rule{
	ID:       "prefer-text-field",
	Summary:  "a varchar(n) column, whose length can only change under an ACCESS EXCLUSIVE lock",
	Help:     "use text with a CHECK (char_length(col) <= n) constraint",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** ` + "`varchar(n)`" + ` and ` + "`text`" + ` are stored the same way; the length is only a check. But
changing it is ALTER COLUMN … TYPE: raising it takes an ACCESS EXCLUSIVE lock (no rewrite),
lowering it rewrites the table under that lock, and either blocks both colors while it waits
behind long transactions. A CHECK constraint on a text column can be swapped without blocking:
add the new one NOT VALID, validate it, drop the old one.

**Prefer.**

` + "```sql" + `
-- before
CREATE TABLE app.users (email varchar(255) NOT NULL);
-- after
CREATE TABLE app.users (
    email text NOT NULL,
    CONSTRAINT users_email_length CHECK (char_length(email) <= 255)
);
` + "```" + `

` + "`varchar`" + ` without a length is not flagged: it is text under another name.`,
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			if u.Type.Name == "varchar" && len(u.Type.Mods) > 0 {
				return fmt.Sprintf("column %q of %q is %s; changing its length later locks the table, use text with a CHECK constraint", u.Column, u.Table.String(), u.Type.Text)
			}
			return ""
		})
	},
}
