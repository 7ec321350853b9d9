package rules

import "github.com/bgmigrate/bgmigrate/parser"

var BanCreateDomainWithConstraint = &Rule{
	ID:       "ban-create-domain-with-constraint",
	Summary:  "CREATE DOMAIN with a CHECK or NOT NULL constraint",
	Help:     "create the domain without constraints and put the CHECK on the columns (ADD CONSTRAINT … NOT VALID, then VALIDATE)",
	Severity: Warning,
	Since:    "0.2.0",
	Doc: `**Why.** A constraint on a domain is checked wherever the type is used, and PostgreSQL
cannot reason about it the way it does about a column's own constraints. Adding a column of
such a domain to an existing table rewrites the whole table under an ACCESS EXCLUSIVE lock,
even with no default: the CHECK must be evaluated for every row's NULL. Changing the
constraint later (ALTER DOMAIN … ADD CONSTRAINT) checks every column of the type, in every
table, under a lock that blocks their writes (before PostgreSQL 19, its VALIDATE too). A CHECK
on the column itself can be added NOT VALID and validated under a weak lock, one table at a
time.

**Lock.** None here; the cost comes when columns of the domain are added or its constraint
changes. **Rewrite.** Adding a column of the domain to an existing table rewrites it.

**Safe recipe.** A plain domain (or the base type), with the check on each column.

` + "```sql" + `
-- before
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
-- after
CREATE DOMAIN email AS text;
ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email LIKE '%@%') NOT VALID;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.CreateDomain)
		if !ok || !n.Check && !n.NotNull {
			return
		}
		what := "a CHECK constraint"
		if !n.Check {
			what = "NOT NULL"
		}
		p.Reportf(siteOf(s), "domain %q has %s: adding a column of it to an existing table rewrites the table, and changing the constraint checks every column of the type under a lock", n.Name.String(), what)
	},
}

var BanAlterDomainWithAddConstraint = &Rule{
	ID:       "ban-alter-domain-with-add-constraint",
	Summary:  "ALTER DOMAIN … ADD CONSTRAINT, which checks every column of the domain under a lock",
	Help:     "put the check on the columns instead (ADD CONSTRAINT … NOT VALID, then VALIDATE), or add it NOT VALID and validate it when writes may wait",
	Severity: Warning,
	Since:    "0.2.0",
	Doc: `**Why.** A constraint added to a domain is checked against every column of that type in
every table, under a SHARE lock on each: their writes, from both colors, wait for the whole
scan. NOT VALID skips the scan, but the VALIDATE that must follow takes the same lock before
PostgreSQL 19. A CHECK added to the columns themselves is validated under SHARE UPDATE
EXCLUSIVE, which lets writes go on.

**Lock.** SHARE on every table with a column of the domain, for the scan. **Rewrite.** No.

**Class.** contract: the running color's writes that break the new constraint fail.

**Safe recipe.** The check on the column, the usual two steps.

` + "```sql" + `
-- before
ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%');
-- after
ALTER TABLE users ADD CONSTRAINT users_email_at CHECK (email LIKE '%@%') NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_at;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.AlterDomain)
		if !ok || n.Op != "add constraint" {
			return
		}
		if d := p.Catalog.Domain(n.Name); d != nil && p.Catalog.Fresh(d.Origin) {
			return // no column of it exists yet
		}
		if n.Constraint != nil && n.Constraint.NotValid {
			p.Reportf(siteOf(s), "the constraint on domain %q must still be validated, which before PostgreSQL 19 checks every column of the type under a SHARE lock that blocks their writes", n.Name.String())
			return
		}
		p.Reportf(siteOf(s), "adding a constraint to domain %q checks every column of the type, in every table, under a SHARE lock that blocks their writes", n.Name.String())
	},
}
