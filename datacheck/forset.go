package datacheck

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// ForSet returns the checks of the pending migrations files[from:] of a
// set, in order: one for each statement that can fail on existing rows.
// files[:from] are replayed first into a schema catalog (as lint does),
// so a VALIDATE CONSTRAINT finds its constraint and a foreign key its
// referenced primary key. pgVersion is the major version of the server
// the counts run on (16 and later count casts with pg_input_is_valid).
//
// Counting the live rows is only right for a statement that sees them as
// they are: a statement on a table or column that an earlier statement of
// files[from:] creates or renames, or whose rows an earlier statement
// writes (INSERT, UPDATE, DELETE, COPY, MERGE, TRUNCATE, a backfill, an
// ADD COLUMN with a default, a type change, a DO block or a call that
// does), gets a Check marked Skipped with the reason instead of a count.
// NOT VALID constraints check no existing row and get no check; their
// VALIDATE does.
func ForSet(files []*parser.File, from int, pgVersion int) []Check {
	from = max(0, min(from, len(files)))
	cat := schema.New()
	for i, f := range files[:from] {
		cat.BeginFile(i+1, false)
		if f != nil {
			replay(cat, f.Statements, 0)
		}
	}
	w := &walker{cat: cat, pg: pgVersion, tables: map[string]event{}, columns: map[string]map[string]event{},
		types: map[string]event{}, funcs: map[string]event{}}
	for i := from; i < len(files); i++ {
		if files[i] == nil {
			continue
		}
		w.file = files[i]
		cat.BeginFile(i+1, true)
		for _, st := range w.file.Statements {
			w.statement(st)
			replay(cat, []*parser.Statement{st}, 0)
		}
	}
	return w.checks
}

// replay records statements in the catalog as the migrations run them:
// the bodies of DO blocks and of the functions they call first (as
// split.Replay does).
func replay(cat *schema.Catalog, stmts []*parser.Statement, depth int) {
	for _, st := range stmts {
		if depth < 3 {
			replay(cat, cat.Runs(st), depth+1)
		}
		if _, isDo := st.Node.(*parser.Do); !isDo {
			cat.Apply(st)
		}
	}
}

// event is what an earlier statement of the pending files did to a table,
// a column, a type or a function, and where.
type event struct {
	path string
	line int
	// what: "created", "renamed" (the live database has the old name),
	// "written" (its rows changed), or for w.any the reason.
	what string
	seq  int // the order of the events
}

// walker walks the pending statements in order, remembering what each did.
type walker struct {
	cat    *schema.Catalog
	pg     int
	file   *parser.File
	checks []Check

	tables  map[string]event            // table key → created, renamed or rows written
	columns map[string]map[string]event // table key → column → created, renamed or rewritten
	types   map[string]event            // type name → created
	funcs   map[string]event            // function name → created or replaced
	any     *event                      // a statement that may have written any table
	seq     int
}

// at is where an event happened, relative to the file being walked.
func (w *walker) at(e event) string {
	if e.path == w.file.Path {
		return fmt.Sprintf("line %d", e.line)
	}
	return fmt.Sprintf("%s:%d", e.path, e.line)
}

func (w *walker) here(st *parser.Statement, what string) event {
	w.seq++
	return event{path: w.file.Path, line: st.Span.Start.Line, what: what, seq: w.seq}
}

// depends says why the live rows of the columns cols of table are not the
// ones the statement will see, "" when they are. cols nil stands for any
// column; an empty, non-nil cols for the table's rows alone.
func (w *walker) depends(table parser.QName, cols []string) string {
	if e, ok := w.tables[table.Key()]; ok {
		switch e.what {
		case "created":
			return fmt.Sprintf("%s is new: created by %s", table, w.at(e))
		case "renamed":
			return fmt.Sprintf("%s is new: renamed to that by %s", table, w.at(e))
		}
		return "depends on rows written by " + w.at(e)
	}
	if w.any != nil {
		return fmt.Sprintf("depends on rows %s may write (%s)", w.at(*w.any), w.any.what)
	}
	colEvents := w.columns[table.Key()]
	reason := func(col string, e event) string {
		switch e.what {
		case "created":
			return fmt.Sprintf("column %s of %s is new: created by %s", col, table, w.at(e))
		case "renamed":
			return fmt.Sprintf("column %s of %s is new: renamed to that by %s", col, table, w.at(e))
		}
		return "depends on rows written by " + w.at(e)
	}
	if cols == nil {
		// Any column: report the earliest event.
		name, first := "", event{}
		for col, e := range colEvents {
			if name == "" || e.seq < first.seq || (e.seq == first.seq && col < name) {
				name, first = col, e
			}
		}
		if name != "" {
			return reason(name, first)
		}
		return ""
	}
	for _, col := range cols {
		if e, ok := colEvents[col]; ok {
			return reason(col, e)
		}
	}
	return ""
}

func (w *walker) setTable(q parser.QName, e event) {
	if _, ok := w.tables[q.Key()]; !ok || e.what != "written" {
		w.tables[q.Key()] = e
	}
}

func (w *walker) setColumn(q parser.QName, col string, e event) {
	m := w.columns[q.Key()]
	if m == nil {
		m = map[string]event{}
		w.columns[q.Key()] = m
	}
	if _, ok := m[col]; !ok {
		m[col] = e
	}
}

// statement adds the checks of st, then records what it does.
func (w *walker) statement(st *parser.Statement) {
	switch n := st.Node.(type) {
	case *parser.AlterTable:
		if n.Object != "table" {
			break
		}
		for _, cmd := range n.Cmds {
			w.alterCmd(st, n.Table, cmd)
			w.alterEffect(n.Table, cmd, w.here(st, ""))
		}
		return
	case *parser.CreateIndex:
		if n.Unique {
			w.uniqueIndex(st, n)
		}
	}
	w.effects(st, w.here(st, ""), 0)
}

// effects records what st writes and creates; statements it runs (a DO
// block's, a called function's) count as st's.
func (w *walker) effects(st *parser.Statement, at event, depth int) {
	with := func(what string) event { e := at; e.what = what; return e }
	switch n := st.Node.(type) {
	case *parser.CreateTable:
		w.setTable(n.Table, with("created"))
	case *parser.Insert:
		w.setTable(n.Table, with("written"))
	case *parser.Update:
		w.setTable(n.Table, with("written"))
	case *parser.Delete:
		w.setTable(n.Table, with("written"))
	case *parser.Truncate:
		for _, t := range n.Tables {
			w.setTable(t, with("written"))
		}
	case *parser.AlterTable:
		for _, cmd := range n.Cmds {
			w.alterEffect(n.Table, cmd, at)
		}
	case *parser.Rename:
		switch n.Object {
		case "table":
			w.setTable(parser.QName{Schema: n.Table.Schema, Name: n.NewName}, with("renamed"))
		case "column":
			w.setColumn(n.Table, n.NewName, with("renamed"))
		}
	case *parser.SetSchema:
		if n.Object == "table" {
			w.setTable(parser.QName{Schema: n.NewSchema, Name: n.Name.Name}, with("renamed"))
		}
	case *parser.CreateEnum:
		w.types[strings.ToLower(n.Type.Name)] = with("created")
	case *parser.CreateDomain:
		w.types[strings.ToLower(n.Name.Name)] = with("created")
	case *parser.CreateFunction:
		w.funcs[strings.ToLower(n.Name.Name)] = with("created")
	case *parser.Call:
		if w.cat.Function(n.Name.Name) == nil && w.any == nil {
			e := with(fmt.Sprintf("it calls %s, which the migrations do not define", n.Name))
			w.any = &e
		}
	case *parser.Other:
		switch {
		case st.Is("COPY"):
			if q, ok := copyTable(st.Text); ok {
				w.setTable(q, with("written"))
			}
		case st.Is("MERGE"):
			if q, ok := mergeTable(st.Text); ok {
				w.setTable(q, with("written"))
			} else if w.any == nil {
				e := with("a MERGE into a table bgmigrate cannot name")
				w.any = &e
			}
		}
	}
	if st.Dynamic && w.any == nil {
		e := with("dynamic SQL")
		w.any = &e
	}
	if depth < 3 {
		for _, b := range w.cat.Runs(st) {
			w.effects(b, at, depth+1)
		}
	}
}

// alterEffect records what one ALTER TABLE sub-command writes or creates.
func (w *walker) alterEffect(table parser.QName, cmd *parser.AlterCmd, at event) {
	switch cmd.Op {
	case parser.AddColumn:
		if cmd.ColumnDef != nil {
			at.what = "created"
			w.setColumn(table, cmd.ColumnDef.Name, at)
		}
	case parser.AlterColumnType:
		at.what = "written"
		w.setColumn(table, cmd.Column, at)
	}
}

// add appends a check of st on table, Skipped when its rows depend on an
// earlier statement (or skip says why else).
func (w *walker) add(st *parser.Statement, table parser.QName, cols []string, c Check) {
	c.Path, c.Line, c.Statement = w.file.Path, st.Span.Start.Line, firstLine(st.Text)
	c.Table, c.Relation = table.String(), parser.QuoteName(table)
	if c.Skipped == "" {
		c.Skipped = w.depends(table, cols)
	}
	if c.Fallback != nil {
		fb := *c.Fallback
		fb.Path, fb.Line, fb.Statement, fb.Table, fb.Relation, fb.Skipped = c.Path, c.Line, c.Statement, c.Table, c.Relation, c.Skipped
		c.Fallback = &fb
	}
	w.checks = append(w.checks, c)
}

func (w *walker) alterCmd(st *parser.Statement, table parser.QName, cmd *parser.AlterCmd) {
	t := w.cat.Table(table)
	switch cmd.Op {
	case parser.SetNotNull:
		if col := t.Column(cmd.Column); col != nil && col.NotNull {
			return // already NOT NULL: nothing to check
		}
		w.add(st, table, []string{cmd.Column}, notNullCheck(table, cmd.Column))
	case parser.AddColumn:
		if cd := cmd.ColumnDef; cd != nil && (cd.NotNull || cd.PrimaryKey) && (cd.Default == nil || cd.Default.Null) &&
			!cd.Identity && !cd.Generated && !cd.Serial() && !(cmd.IfExists && t.Column(cd.Name) != nil) {
			w.add(st, table, []string{}, rowsCheck(table, cd.Name))
		}
	case parser.AddConstraint:
		if cmd.Constraint != nil {
			w.constraint(st, table, cmd.Constraint)
		}
	case parser.ValidateConstraint:
		k := t.Constraint(cmd.Name)
		switch {
		case k == nil:
			w.add(st, table, nil, Check{Kind: KindCheck, What: fmt.Sprintf("rows of %s fail constraint %s", table, cmd.Name),
				Skipped: fmt.Sprintf("constraint %s of %s is not known from the migrations", cmd.Name, table)})
		case k.Validated:
			// VALIDATE of a validated constraint checks nothing.
		case k.Kind == parser.ConstraintCheck && k.Check != nil:
			w.add(st, table, k.Columns, checkCheck(table, k.Check.Text()))
		case k.Kind == parser.ConstraintForeignKey && k.References != nil:
			w.foreignKey(st, table, k.Columns, k.References)
		}
	case parser.AlterColumnType:
		if cmd.Type != nil {
			w.cast(st, table, t, cmd)
		}
	}
}

// constraint adds the checks of ADD CONSTRAINT.
func (w *walker) constraint(st *parser.Statement, table parser.QName, k *parser.Constraint) {
	if k.NotValid {
		return
	}
	t := w.cat.Table(table)
	switch k.Kind {
	case parser.ConstraintCheck:
		if k.Check != nil {
			w.add(st, table, k.Columns, checkCheck(table, k.Check.Text()))
		}
	case parser.ConstraintForeignKey:
		if k.References != nil {
			w.foreignKey(st, table, k.Columns, k.References)
		}
	case parser.ConstraintUnique, parser.ConstraintPrimaryKey:
		cols := k.Columns
		if k.UsingIndex != "" {
			if ix := w.cat.Index(parser.QName{Schema: table.Schema, Name: k.UsingIndex}); ix != nil {
				cols = ix.Columns
			}
		}
		if k.Kind == parser.ConstraintPrimaryKey {
			for _, c := range cols {
				if col := t.Column(c); col == nil || !col.NotNull {
					w.add(st, table, []string{c}, notNullCheck(table, c))
				}
			}
		}
		if k.UsingIndex == "" && len(cols) > 0 {
			// A primary key's columns are NOT NULL: only their duplicates
			// count, as for UNIQUE.
			nnd := k.Kind == parser.ConstraintUnique && nullsNotDistinct(st.Text)
			w.add(st, table, cols, uniqueCheck(table, cols, nnd, "", false))
		}
	}
}

func (w *walker) uniqueIndex(st *parser.Statement, n *parser.CreateIndex) {
	expr := len(n.Columns) == 0
	for _, c := range n.Columns {
		expr = expr || c == ""
	}
	if expr {
		w.add(st, n.Table, nil, Check{Kind: KindUnique, What: fmt.Sprintf("rows of %s share their key with another row", n.Table),
			Skipped: "the index is on an expression, which bgmigrate does not count"})
		return
	}
	where, unknown := "", false
	cols := n.Columns
	if n.Partial {
		var ok bool
		where, ok = indexWhere(st.Text)
		unknown = !ok
		cols = nil // the WHERE may read any column
	}
	w.add(st, n.Table, cols, uniqueCheck(n.Table, n.Columns, nullsNotDistinct(st.Text), where, unknown))
}

// foreignKey adds the orphan count of a foreign key.
func (w *walker) foreignKey(st *parser.Statement, table parser.QName, cols []string, ref *parser.ForeignKey) {
	refCols := ref.RefColumns
	if len(refCols) == 0 {
		if rt := w.cat.Table(ref.Table); rt != nil {
			for _, k := range rt.Constraints {
				if k.Kind == parser.ConstraintPrimaryKey {
					refCols = k.Columns
				}
			}
		}
	}
	c := Check{Kind: KindForeignKey, What: fmt.Sprintf("rows of %s have %s with no row in %s", table, columnWords(cols), ref.Table)}
	switch {
	case len(refCols) == 0:
		c.Skipped = fmt.Sprintf("the primary key of %s is not known from the migrations", ref.Table)
	case len(refCols) != len(cols):
		c.Skipped = fmt.Sprintf("the foreign key has %d columns and references %d", len(cols), len(refCols))
	default:
		fkCheck(&c, table, cols, ref.Table, refCols)
		c.Skipped = w.depends(ref.Table, refCols)
	}
	w.add(st, table, cols, c)
}

// cast adds the check of ALTER COLUMN … TYPE.
func (w *walker) cast(st *parser.Statement, table parser.QName, t *schema.Table, cmd *parser.AlterCmd) {
	col := t.Column(cmd.Column)
	to := *cmd.Type
	if cmd.Using == nil && col != nil && sameType(*col.Type, to) {
		return // nothing converts
	}
	if cmd.Using == nil && plainText(to) {
		return // every value has a text form
	}
	var skip string
	if e, ok := w.types[strings.ToLower(to.Name)]; ok {
		skip = fmt.Sprintf("type %s is new: created by %s", to.Name, w.at(e))
	}
	cols := []string{cmd.Column}
	if cmd.Using != nil {
		if cmd.Using.Column == "" {
			cols = nil // USING may read any column
		}
		for _, f := range cmd.Using.Funcs {
			if e, ok := w.funcs[f]; ok && skip == "" {
				skip = fmt.Sprintf("function %s is new: created by %s", f, w.at(e))
			}
		}
	}
	c := castCheck(table, cmd.Column, col, to, cmd.Using, w.pg)
	c.Skipped = skip
	w.add(st, table, cols, c)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " …"
	}
	return s
}
