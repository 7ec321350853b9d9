package rules

import "fmt"

var BanCharField = &Rule{
	ID:       "ban-char-field",
	Summary:  "a char(n) (bpchar) column, which pads values with spaces",
	Help:     "use text, with a CHECK constraint if the length matters",
	Severity: Warning,
	Style:    true,
	Since:    "0.1.0",
	Doc: `**Why.** ` + "`char(n)`" + ` (` + "`character(n)`" + `, ` + "`bpchar`" + `) pads every value with spaces to n characters,
ignores trailing spaces in comparisons but not in LIKE or regular expressions, and is no faster
than ` + "`text`" + `: PostgreSQL stores it the same way and spends extra work on the padding. Its
length can only change with ALTER COLUMN … TYPE, under an ACCESS EXCLUSIVE lock.

**Prefer.**

` + "```sql" + `
-- before
CREATE TABLE app.countries (code char(2) PRIMARY KEY);
-- after
CREATE TABLE app.countries (code text PRIMARY KEY CHECK (char_length(code) = 2));
` + "```" + `

The internal one-byte type ` + "`\"char\"`" + ` (quoted) is a different type and is not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		reportTypes(p, s, func(u typeUse) string {
			if u.Type.Name == "bpchar" {
				return fmt.Sprintf("column %q of %q is %s, which pads values with spaces; use text", u.Column, u.Table.String(), u.Type.Text)
			}
			return ""
		})
	},
}
