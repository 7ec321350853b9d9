package rules

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var RLSOrPrivilegeChange = &Rule{
	ID:       "rls-or-privilege-change",
	Summary:  "REVOKE, row-level security or a policy on objects the running color uses",
	Help:     "check that the running color's role keeps its access, or move the change to a contract migration after the old color is retired",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** Privileges and row-level security decide what the old color may see and do. A
REVOKE makes its queries fail with "permission denied"; enabling row-level security without a
policy that admits its role hides every row (queries return nothing, updates touch nothing,
without any error); FORCE ROW LEVEL SECURITY applies the policies to the table owner, which
applications often connect as; a new or changed policy changes which rows it sees.

**Lock.** ALTER TABLE … ROW LEVEL SECURITY and CREATE / ALTER POLICY take ACCESS EXCLUSIVE,
briefly; REVOKE takes no table lock. **Rewrite.** No.

**Class.** contract: run it only after the old color has been retired.

**Safe recipe.**
1. Expand: create the policies first, written so that the old color's role still sees what it
   needs (or grant the new role what it needs).
2. Contract, after the old color is retired: enable or force row-level security, or revoke
   what the old role no longer needs.

` + "```sql" + `
-- before
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_tenant ON documents USING (tenant_id = current_setting('app.tenant')::bigint);
-- after, contract (the old color is retired)
-- bgmigrate:phase contract -- release 42 sets app.tenant on every connection
CREATE POLICY documents_tenant ON documents USING (tenant_id = current_setting('app.tenant')::bigint);
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
` + "```" + `

Objects created in the same unreleased set and files declared contract are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		if p.DeclaredContract() {
			return
		}
		switch n := s.Node.(type) {
		case *parser.Grant:
			if !n.Revoke {
				return
			}
			var names []string
			for _, q := range n.Objects {
				if !phases.FreshObject(p.Catalog, n.Object, q) {
					names = append(names, fmt.Sprintf("%q", q.String()))
				}
			}
			if len(names) > 0 {
				p.Reportf(siteOf(s), "revoking privileges on %s %s may deny the running color; move it to a contract migration", n.Object, strings.Join(names, ", "))
			}
		case *parser.AlterTable:
			if !isTable(n) || p.Fresh(n.Table) {
				return
			}
			for _, c := range n.Cmds {
				switch c.Op {
				case parser.EnableRLS:
					p.Reportf(siteOf(s), "enabling row-level security on %q hides the rows no policy grants the running color; move it to a contract migration", n.Table.String())
				case parser.ForceRLS:
					p.Reportf(siteOf(s), "forcing row-level security on %q applies its policies to the table owner, which the running color may connect as; move it to a contract migration", n.Table.String())
				}
			}
		case *parser.Policy:
			if p.Fresh(n.Table) {
				return
			}
			verb := "changing"
			if n.Create {
				verb = "creating"
			}
			p.Reportf(siteOf(s), "%s policy %q on %q changes which rows the running color sees; move it to a contract migration", verb, n.Name, n.Table.String())
		}
	},
}
