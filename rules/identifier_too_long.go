package rules

import "unicode/utf8"

var IdentifierTooLong = &Rule{
	ID:       "identifier-too-long",
	Summary:  "an identifier over 63 bytes, which PostgreSQL silently truncates",
	Help:     "shorten the name to at most 63 bytes",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** PostgreSQL keeps at most 63 bytes of an identifier (NAMEDATALEN - 1) and drops the
rest with only a NOTICE. The object gets a name other than the one in the migration: a later
` + "`DROP INDEX`" + ` or ` + "`ALTER TABLE … RENAME`" + ` written with the long name still works (it is truncated
the same way), but tools that compare names, ORMs and schema diffs do not find it, and two long
names that share their first 63 bytes collide ("relation already exists"). Multi-byte
characters count for more than one byte.

**Prefer.**

` + "```sql" + `
-- before
CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_shipping_country_code_idx ON orders (customer_id, created_at, status, shipping_country_code);
-- after
CREATE INDEX CONCURRENTLY orders_customer_created_status_country_idx ON orders (customer_id, created_at, status, shipping_country_code);
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		seen := map[string]bool{}
		for _, id := range s.LongIdents {
			if seen[id.Name] {
				continue
			}
			seen[id.Name] = true
			p.Reportf(siteWithin(s, id.Span), "identifier %q is %d bytes; PostgreSQL truncates it to %q", id.Name, len(id.Name), truncateIdent(id.Name))
		}
	},
}

// truncateIdent cuts a name to 63 bytes at a character boundary, as
// PostgreSQL's truncate_identifier does.
func truncateIdent(name string) string {
	const max = 63
	if len(name) <= max {
		return name
	}
	n := max
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	return name[:n]
}
