package rules

import (
	"github.com/bgmigrate/bgmigrate/parser"
)

// target is a table, or a column of it, that a statement removes or
// tightens.
type target struct {
	table  parser.QName
	column string // "" for the whole table
	op     string // what the statement does to it
}

// contractTargets lists what a statement removes or tightens: dropped or
// renamed tables and columns, columns made NOT NULL, changed type, or
// stripped of their default.
func contractTargets(s *Stmt) []target {
	var out []target
	switch n := s.Node.(type) {
	case *parser.AlterTable:
		if n.Object != "table" {
			return nil
		}
		for _, c := range n.Cmds {
			switch c.Op {
			case parser.DropColumn:
				out = append(out, target{n.Table, c.Column, "drops"})
			case parser.SetNotNull:
				out = append(out, target{n.Table, c.Column, "sets NOT NULL on"})
			case parser.DropDefault:
				out = append(out, target{n.Table, c.Column, "drops the default of"})
			case parser.AlterColumnType:
				out = append(out, target{n.Table, c.Column, "changes the type of"})
			case parser.AddConstraint:
				if c.Constraint != nil && c.Constraint.NotNullColumn != "" {
					out = append(out, target{n.Table, c.Constraint.NotNullColumn, "requires a value in"})
				}
			}
		}
	case *parser.Drop:
		if n.Object == "table" {
			for _, q := range n.Names {
				out = append(out, target{q, "", "drops"})
			}
		}
	case *parser.Rename:
		switch n.Object {
		case "column":
			out = append(out, target{n.Table, n.Old, "renames"})
		case "table":
			out = append(out, target{n.Table, "", "renames"})
		}
	}
	return out
}

func (t target) name() string {
	if t.column == "" {
		return t.table.String()
	}
	return t.table.String() + "." + t.column
}

// origin returns the ordinal of the file that created the target, 0 if unknown.
func (t target) origin(p *Pass) int {
	tab := p.Catalog.Table(t.table)
	if tab == nil {
		return 0
	}
	if t.column == "" {
		return tab.Origin
	}
	if c := tab.Column(t.column); c != nil {
		return c.Origin
	}
	return 0
}

var ModifiedReleasedMigration = &Rule{
	ID:       "modified-released-migration",
	Summary:  "a migration that was already released has been edited",
	Help:     "revert the edit and add a new migration that makes the change",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** A migration that exists at the base revision has been applied to every database
that deployed that revision. Editing it changes nothing there (the tools skip applied versions,
or fail on a checksum mismatch), while fresh databases get the new text: environments drift
apart silently. bgmigrate's own runner refuses a changed checksum.

**When.** Reported only with ` + "`lint --changed-since REF`" + `: a file that existed at the merge base of
REF and HEAD and differs from it now.

**Safe recipe.** Leave released migrations as they were and add a new one.

` + "```sql" + `
-- before: 0007_add_email.up.sql edited after release
ALTER TABLE users ADD COLUMN email text NOT NULL DEFAULT '';
-- after: 0007 restored, and a new 0012_email_default.up.sql
ALTER TABLE users ALTER COLUMN email SET DEFAULT '';
` + "```",
	File: func(p *Pass) {
		if !p.Release || !p.Info.Modified {
			return
		}
		end := p.File.Pos(len(p.File.LineText(1)))
		p.Report(parser.Span{Start: p.File.Pos(0), End: end}, "this migration exists at the base revision and was changed; released migrations must not be edited")
	},
}

var ContractTooEarly = &Rule{
	ID:       "contract-too-early",
	Summary:  "a column that an earlier migration of the same release added is made required while the old color leaves it unset",
	Help:     "give the column a default first, or make it required in a later release, once the old color is retired and the rows are backfilled",
	Severity: Error,
	Since:    "0.1.0",
	Doc: `**Why.** Expand-contract needs a release boundary between adding a column and requiring a
value in it. When one release adds a column without a default (expand) and also makes it NOT
NULL, adds CHECK (col IS NOT NULL), or drops the default a NOT NULL column relied on, the old
color, which never writes the new column, fails every insert the moment the step runs, and a
rollback lands on a schema it cannot use. The backfill between the steps has not had a release
to run either.

Steps that the old color cannot notice are not reported: dropping, renaming or retyping a
column the old color never knew, and making a column required that has a default the old
color's inserts get (for example SET DEFAULT nextval(…), a backfill, then SET NOT NULL).

**When.** Reported only with ` + "`lint --changed-since REF`" + `, where the migrations added or changed
since REF form the release being deployed, for a column added by an earlier file of that
release (a column added and made required in one file is adding-required-field's). A file
declared contract (` + "`-- bgmigrate:phase contract -- reason`" + `, as bgmigrate split writes them) is
not reported: bgmigrate migrate runs it only once the old color is retired, when the only color
left is the one that writes the column.

**How teams mark releases.** A release is what a deploy applies: the migrations changed since the
last deployed revision. In CI, lint a pull request with ` + "`--changed-since origin/main`" + `; in a
deploy pipeline, with the tag of the live release (` + "`--changed-since v41`" + `). The config's
` + "`releases:`" + ` list records what each release stopped using, for contract-without-expand.

**Safe recipe.** Require the value in the release after the one that started writing it.

` + "```sql" + `
-- before: one release
ALTER TABLE users ADD COLUMN locale text;
ALTER TABLE users ALTER COLUMN locale SET NOT NULL;
-- after: release 42 (expand): the new color writes locale
ALTER TABLE users ADD COLUMN locale text;
-- after: release 43 (contract, once release 41's color is retired and the rows are backfilled)
-- bgmigrate:phase contract -- release 42 writes users.locale on every insert
ALTER TABLE users ADD CONSTRAINT users_locale_nn CHECK (locale IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_locale_nn;
ALTER TABLE users ALTER COLUMN locale SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_locale_nn;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		if !p.Release || !p.Info.InRelease {
			return
		}
		if p.DeclaredContract() {
			return // run after the old color's retirement: only the new color writes
		}
		for _, t := range contractTargets(s) {
			o := t.origin(p)
			if o == 0 || o == p.Catalog.File() || !p.Catalog.Pending(o) || !leavesUnset(p, t) {
				continue
			}
			p.Reportf(s.Span, "this %s %q, which %s added in the same release without a default: the old color, still a rollback target, does not set it and its inserts fail", t.op, t.name(), p.OriginPath(o))
			return
		}
	},
}

// leavesUnset reports whether the contract step t makes the running color's
// inserts fail because they leave the column unset: it requires a value in
// a nullable column without a default, or drops the default of a NOT NULL
// column.
func leavesUnset(p *Pass, t target) bool {
	c := p.Catalog.Table(t.table).Column(t.column)
	if c == nil {
		return false
	}
	noDefault := c.Default == nil || c.Default.Null
	switch t.op {
	case "sets NOT NULL on", "requires a value in":
		return !c.NotNull && noDefault
	case "drops the default of":
		return c.NotNull && !noDefault
	}
	return false
}

var ContractWithoutExpand = &Rule{
	ID:       "contract-without-expand",
	Summary:  "a contract step with no earlier release that prepared it",
	Help:     "release the expand step first (stop using the column, or add a NOT VALID check), then contract",
	Severity: Warning,
	Since:    "0.1.0",
	Doc: `**Why.** A contract step is safe only when an earlier release prepared it: the application
stopped reading a column before it is dropped, or a NOT VALID ` + "`CHECK (col IS NOT NULL)`" + `
was added (and the data backfilled) before ` + "`SET NOT NULL`" + `. Without that release, the old
color, still a rollback target, breaks when the contract runs.

**When.** Reported with ` + "`lint --changed-since REF`" + ` for the migrations of the release:
- ` + "`SET NOT NULL`" + ` on an existing column with no CHECK (col IS NOT NULL) constraint added
  by an earlier migration;
- when the config lists ` + "`releases:`" + ` with what each release stopped using, a DROP or RENAME
  of a table or column that no earlier release lists:

` + "```yaml" + `
releases:
  - name: "2026.11"
    stopped_using: ["users.legacy_flag", "audit_old"]
` + "```" + `

**Safe recipe.**

` + "```sql" + `
-- before: the release that stops reading users.legacy_flag also drops it
ALTER TABLE users DROP COLUMN legacy_flag;
-- after: release 42 stops reading it, and the config says so
--   releases: [{name: "42", stopped_using: ["users.legacy_flag"]}]
-- after: release 43 (contract)
-- bgmigrate:phase contract -- release 42 stopped reading users.legacy_flag
ALTER TABLE users DROP COLUMN legacy_flag;
` + "```",
	Stmt: func(p *Pass, s *Stmt) {
		if !p.Release || !p.Info.InRelease {
			return
		}
		for _, t := range contractTargets(s) {
			o := t.origin(p)
			if o != 0 && p.Catalog.Fresh(o) {
				continue // new in this release: contract-too-early's business
			}
			switch {
			case t.op == "sets NOT NULL on":
				if !hasNotNullCheck(p, t) {
					p.Reportf(s.Span, "SET NOT NULL on %q with no CHECK (%s IS NOT NULL) NOT VALID from an earlier release: the old color may still write NULL", t.name(), t.column)
					return
				}
			case (t.op == "drops" || t.op == "renames") && len(p.Releases) > 0:
				if !stoppedUsing(p, t) {
					p.Reportf(s.Span, "this %s %q, but no earlier release in the config stopped using it (releases[].stopped_using)", t.op, t.name())
					return
				}
			}
		}
	},
}

func hasNotNullCheck(p *Pass, t target) bool {
	tab := p.Catalog.Table(t.table)
	if tab == nil {
		return false
	}
	for _, k := range tab.Constraints {
		if k.Kind == parser.ConstraintCheck && k.NotNullColumn == t.column && !p.Catalog.Fresh(k.Origin) {
			return true
		}
	}
	return false
}

func stoppedUsing(p *Pass, t target) bool {
	for _, r := range p.Releases {
		for _, name := range r.StoppedUsing {
			if name == t.name() || name == t.table.Name || (t.column != "" && name == t.table.Name+"."+t.column) {
				return true
			}
		}
	}
	return false
}
