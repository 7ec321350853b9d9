package rules

import "github.com/bgmigrate/bgmigrate/parser"

var RequireEnumValueOrdering = &Rule{
	ID:       "require-enum-value-ordering",
	Summary:  "ALTER TYPE … ADD VALUE without BEFORE or AFTER",
	Help:     "say where the value goes: ADD VALUE 'x' BEFORE 'y' or AFTER 'y'",
	Severity: Warning,
	Style:    true,
	Since:    "0.2.0",
	Doc: `**Why.** Enum values compare in the order they were declared, and ADD VALUE without BEFORE
or AFTER puts the new one last. When the order means something (a status that moves forward,
a priority), ` + "`ORDER BY`" + `, ` + "`<`" + ` and ` + "`max()`" + ` over the column change meaning for both
colors the moment the value exists, and the order cannot be changed afterwards without
recreating the type. Saying where the value goes makes the choice visible in review.

**Prefer.**

` + "```sql" + `
-- before
ALTER TYPE order_status ADD VALUE 'cancelled';
-- after
ALTER TYPE order_status ADD VALUE 'cancelled' AFTER 'shipped';
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.AlterEnum)
		if !ok || n.AddValue == "" || n.Neighbor != "" {
			return
		}
		p.Reportf(siteOf(s), "value %q goes last in enum %q, which changes how its values sort if the order means something; say BEFORE or AFTER which value it goes", n.AddValue, n.Type.String())
	},
}
