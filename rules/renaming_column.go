package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

var RenamingColumn = &Rule{
	ID:       "renaming-column",
	Summary:  "RENAME COLUMN of a column the running color uses",
	Help:     "add the new column, dual-write and backfill it (expand), switch reads, drop the old column after the old color is retired (contract)",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** Renaming is instant, and so is the damage: the old color's queries name the old
column and fail with "column does not exist" the moment the rename commits. Deploying the
new code first does not help either: it would look for a column that does not exist yet.
There is no order of migration and deploy that keeps both colors working.

**Lock.** ACCESS EXCLUSIVE, briefly (a catalog change). **Rewrite.** No.

**Class.** breaking: split it into expand and contract steps.

**Safe recipe.**
1. Expand: add the new column; a trigger copies every write of either column to the other;
   backfill the existing rows in batches.
2. Release: the new color reads and writes the new column.
3. Contract, after the old color is retired: drop the trigger and the old column.

` + "```sql" + `
-- before
ALTER TABLE users RENAME COLUMN email TO email_address;
-- after, expand
ALTER TABLE users ADD COLUMN email_address text;
CREATE FUNCTION users_sync_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.email_address := coalesce(NEW.email_address, NEW.email);
    NEW.email := coalesce(NEW.email, NEW.email_address);
    RETURN NEW;
END $$;
CREATE TRIGGER users_sync_email BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_email();
UPDATE users SET email_address = email WHERE id BETWEEN 1 AND 10000; -- and so on, in batches
-- after, contract (once the old color is retired)
-- bgmigrate:phase contract -- release 42 uses email_address only
DROP TRIGGER users_sync_email ON users;
DROP FUNCTION users_sync_email();
ALTER TABLE users DROP COLUMN email;
` + "```" + `

Columns and tables created in the same unreleased set are not flagged.`,
	Stmt: func(p *Pass, s *Stmt) {
		n, ok := s.Node.(*parser.Rename)
		if !ok || n.Object != "column" || phases.FreshColumn(p.Catalog, n.Table, n.Old) {
			return
		}
		p.Reportf(siteOf(s), "renaming column %q of %q breaks the running color; add the new column and backfill it (expand), drop the old one after retirement (contract)", n.Old, n.Table.String())
	},
}
