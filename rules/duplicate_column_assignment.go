package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
)

var DuplicateColumnAssignment = &Rule{
	ID:       "duplicate-column-assignment",
	Summary:  "a column assigned or named twice in one UPDATE, INSERT or view, which PostgreSQL rejects",
	Help:     "assign each column once (combine the two expressions), or give the view's columns distinct names",
	Severity: Error,
	Since:    "0.2.0",
	Doc: `**Why.** PostgreSQL refuses ` + "`UPDATE t SET a = 1, a = 2`" + ` and ` + "`INSERT INTO t (a, a)`" + `
("multiple assignments to same column") and a view whose query gives two columns the same
name ("column specified more than once", the unnamed ones included: two ` + "`?column?`" + `). The
migration fails when it runs, in production, after the earlier statements of a file that is
not one transaction have already run. A subscripted or field assignment (` + "`SET a[1] = …, a[2] = …`" + `)
is allowed and not flagged.

**Lock.** None: the statement fails. **Rewrite.** No.

**Safe recipe.** Assign each column once; name the view's columns.

` + "```sql" + `
-- before
UPDATE orders SET status = 'new', status = lower(status);
CREATE VIEW order_totals AS SELECT id, total, total FROM orders;
-- after
UPDATE orders SET status = lower(coalesce(status, 'new'));
CREATE VIEW order_totals AS SELECT id, total, total AS total_with_tax FROM orders;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		var cols []string
		var what string
		switch n := s.Node.(type) {
		case *parser.Update:
			cols, what = n.Columns, fmt.Sprintf("UPDATE of %q assigns column %%q twice: PostgreSQL rejects the statement", n.Table.String())
		case *parser.Insert:
			cols, what = n.Columns, fmt.Sprintf("INSERT into %q names column %%q twice: PostgreSQL rejects the statement", n.Table.String())
		case *parser.CreateView:
			cols, what = n.Columns, fmt.Sprintf("view %q has two columns named %%q: PostgreSQL rejects it", n.View.String())
		default:
			return
		}
		seen := map[string]bool{}
		for _, c := range cols {
			if c == "" || c[len(c)-1] == ']' {
				continue // a subscript or field: several may share the column
			}
			if seen[c] {
				p.Reportf(siteOf(s), what, c)
				return
			}
			seen[c] = true
		}
	},
}
