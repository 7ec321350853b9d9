// Package split turns a breaking or mixed migration into expand and
// contract migrations that both colors survive: the old color keeps
// working through the expand migrations, the new one through everything,
// and the contract migrations run once the old color is retired.
//
// Plan works from the migration's statements and the schema the earlier
// migrations of its set build (the same replay lint uses); Write gives the
// migrations the names and annotations of the set's tool.
package split

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/schema"
)

// Options tune the plan.
type Options struct {
	// PGVersion is the server's major version (default 15).
	PGVersion int
	// Fill gives, by "table.column", the SQL expression existing rows get
	// when a NOT NULL column without a default is split.
	Fill map[string]string
	// LockTimeout heads each migration that takes a lock (default "2s"),
	// unless the migration set its own.
	LockTimeout string
}

// A Migration is one file of the split, in the order it runs.
type Migration struct {
	Phase phases.Class // Expand or Contract
	// Name says what it does, for the file name: "add_full_name".
	Name string
	// SQL is its statements, each ending with ";\n".
	SQL string
	// NoTransaction: it must run outside a transaction block
	// (CONCURRENTLY).
	NoTransaction bool
	// Why is the reason of a contract migration, for its phase directive.
	Why string
	// Atomic: its statements must commit together (a table renamed and
	// the view of its old name); a tool that does not wrap files in a
	// transaction gets BEGIN and COMMIT.
	Atomic bool
}

// Problem is a statement that cannot be split, and why.
type Problem struct {
	Line      int
	Statement string
	Reason    string
}

// Plan is the outcome for one migration file.
type Plan struct {
	Path       string
	Migrations []Migration
	// Notes say what the application must do between the migrations.
	Notes    []string
	Problems []Problem
	// Changed is false when the file needs no split: it is left alone.
	Changed bool
}

// A unit is one step of the plan before packing into migrations.
type unit struct {
	phase  phases.Class
	sql    string
	name   string
	why    string
	noTx   bool // alone, outside a transaction
	atomic bool // its statements must commit together
	ownTx  bool // starts a migration of its own (it must not share a transaction with the step before)
	// seq is the statement the unit comes from; verbatim marks a statement
	// kept as it was. Steps of one statement stay together, and so do
	// statements kept as they were; a generated sequence starts a
	// migration.
	seq      int
	verbatim bool
}

type planner struct {
	cat      *schema.Catalog
	opts     Options
	file     *parser.File
	units    []unit
	notes    []string
	problems []Problem
	changed  bool
	names    map[string]bool // constraint, index and function names used so far
	settings []string        // the file's own SET statements, heading every migration
	seq      int             // the statement being planned
	// moved are the columns a type change moved to a new column, by
	// "table.column": later statements cannot name them.
	moved map[string]string
}

// Split plans the split of f, whose set's earlier migrations cat holds
// (replayed up to, not including, f). cat is advanced over f's statements.
func Split(f *parser.File, cat *schema.Catalog, opts Options) *Plan {
	if opts.PGVersion == 0 {
		opts.PGVersion = 15
	}
	if opts.LockTimeout == "" {
		opts.LockTimeout = "2s"
	}
	p := &planner{cat: cat, opts: opts, file: f, names: map[string]bool{}, moved: map[string]string{}}
	classes := map[phases.Class]bool{}
	for i, st := range f.Statements {
		p.statement(i, st, classes)
	}
	if len(f.Errors) > 0 {
		e := f.Errors[0]
		p.problems = append(p.problems, Problem{Line: e.Span.Start.Line, Reason: "syntax error: " + e.Message})
	}
	if classes[phases.Expand] && classes[phases.Contract] {
		p.changed = true // a mixed file is split by phase
	}
	plan := &Plan{Path: f.Path, Notes: p.notes, Problems: p.problems, Changed: p.changed}
	plan.Migrations = p.pack()
	return plan
}

// statement plans one top-level statement and replays it.
func (p *planner) statement(i int, st *parser.Statement, classes map[phases.Class]bool) {
	defer p.cat.Apply(st)
	p.seq++
	if why := p.namesMoved(st); why != "" {
		p.problem(st, why)
		return
	}
	info := phases.Classify(st, p.cat, p.opts.PGVersion)
	if d := p.phaseDirective(i); d != "" {
		info.Class, _ = phases.ParseClass(d)
	}
	switch n := st.Node.(type) {
	case *parser.Transaction:
		if n.Op == parser.TxBegin || n.Op == parser.TxCommit {
			return // each migration is a transaction of its own
		}
	case *parser.SetParam:
		p.settings = append(p.settings, st.Text+";\n")
		return
	case *parser.Rename:
		if info.Class == phases.Breaking && p.rename(st, n) {
			return
		}
	case *parser.SetSchema:
		if info.Class == phases.Breaking && p.setSchema(st, n) {
			return
		}
	case *parser.AlterTable:
		if p.alter(st, n, info) {
			return
		}
	case *parser.CreateIndex:
		if p.createIndex(st, n, info) {
			return
		}
	}
	if info.Class == phases.Mixed {
		info.Class = phases.Expand // a DO block doing both: left as it is, and named
		p.problem(st, "it both expands and contracts (a DO block or a called function): split its statements by hand")
		return
	}
	if info.Class == phases.Breaking {
		p.problem(st, info.Reason)
		return
	}
	classes[info.Class] = true
	u := unit{phase: info.Class, sql: p.withDirectives(i, st), name: nameOf(st), seq: p.seq, verbatim: true}
	if u.phase == phases.None {
		u.phase = phases.Expand
	}
	if u.phase == phases.Contract {
		u.why = info.Reason
	}
	u.noTx = parser.NonTransactional(st)
	p.units = append(p.units, u)
}

func (p *planner) problem(st *parser.Statement, reason string) {
	p.problems = append(p.problems, Problem{Line: st.Span.Start.Line, Statement: firstLine(st.Text), Reason: reason})
}

// phaseDirective is the phase a directive declares for statement i.
func (p *planner) phaseDirective(i int) string {
	for _, d := range p.file.Directives {
		if d.Kind == "phase" && d.Problem == "" && (d.Stmt == i || d.FileWide()) {
			return d.Phase
		}
	}
	return ""
}

// withDirectives is the statement's text with the directives that apply
// to it (ignore, backfill), as the file wrote them.
func (p *planner) withDirectives(i int, st *parser.Statement) string {
	var b strings.Builder
	for _, d := range p.file.Directives {
		if d.Stmt == i && !d.FileWide() && d.Kind != "phase" {
			b.WriteString(p.file.Src[d.Span.Start.Offset:d.Span.End.Offset])
			b.WriteString("\n")
		}
	}
	b.WriteString(st.Text)
	b.WriteString(";\n")
	return b.String()
}

// add appends a generated unit.
func (p *planner) add(u unit) {
	p.changed = true
	u.seq = p.seq
	p.units = append(p.units, u)
}

// namesMoved says why st cannot be planned after a type change of the
// same file moved a column it names, "" when it names none.
func (p *planner) namesMoved(st *parser.Statement) string {
	var table parser.QName
	var cols []string
	switch n := st.Node.(type) {
	case *parser.AlterTable:
		table = n.Table
		for _, c := range n.Cmds {
			cols = append(cols, c.Column)
			if c.Constraint != nil {
				cols = append(cols, c.Constraint.Columns...)
			}
		}
	case *parser.CreateIndex:
		table, cols = n.Table, n.Columns
	default:
		return ""
	}
	for _, c := range cols {
		if b, ok := p.moved[table.Key()+"."+c]; ok {
			return fmt.Sprintf("it names %s.%s, which the type change before it moves to %s: put the type change in a migration of its own, split it, and write this statement for %s", table.String(), c, b, b)
		}
	}
	return ""
}

// pack groups the units into migrations: expand ones first, then contract
// ones, each phase in order; a unit outside a transaction is a migration
// of its own, and so is one that must not share a transaction.
func (p *planner) pack() []Migration {
	var out []Migration
	for _, phase := range []phases.Class{phases.Expand, phases.Contract} {
		var cur *Migration
		var prev unit
		for _, u := range p.units {
			if u.phase != phase {
				continue
			}
			if cur == nil || cur.NoTransaction || u.noTx || u.ownTx || u.seq != prev.seq && !(u.verbatim && prev.verbatim) {
				out = append(out, Migration{Phase: phase, Name: u.name, NoTransaction: u.noTx, Why: u.why})
				cur = &out[len(out)-1]
			}
			cur.SQL += u.sql
			cur.Atomic = cur.Atomic || u.atomic
			prev = u
			if cur.Why == "" {
				cur.Why = u.why
			}
		}
	}
	for i := range out {
		out[i].SQL = p.preamble(out[i]) + out[i].SQL
	}
	return out
}

// preamble heads a migration: the file's own settings, else a lock
// timeout for one that takes a lock.
func (p *planner) preamble(m Migration) string {
	if len(p.settings) > 0 {
		return strings.Join(p.settings, "")
	}
	if m.NoTransaction {
		return "" // some tools send a file as one query: a second statement would open a transaction
	}
	return fmt.Sprintf("SET lock_timeout = '%s';\n", p.opts.LockTimeout)
}

// name returns an identifier based on base, at most 63 bytes, not used by
// the catalog or the plan so far.
func (p *planner) name(base string) string {
	for i := 0; ; i++ {
		// As PostgreSQL names constraints: base, base1, base2, …
		n := base
		if i > 0 {
			n = fmt.Sprintf("%s%d", base, i)
		}
		if len(n) > 63 {
			n = n[:63-len(fmt.Sprint(i))] + fmt.Sprint(i)
		}
		if !p.names[n] && p.cat.Index(parser.QName{Name: n}) == nil && p.cat.Function(n) == nil && !p.constraintExists(n) {
			p.names[n] = true
			return n
		}
	}
}

func (p *planner) constraintExists(name string) bool {
	for _, t := range p.cat.Tables() {
		for _, k := range t.Constraints {
			if k.Name == name {
				return true
			}
		}
	}
	return false
}

// nameOf names a statement kept as it was, for its file name: what it
// does and to what ("drop_column_note", "create_index_orders_note_idx").
func nameOf(st *parser.Statement) string {
	words := strings.Fields(strings.ToLower(st.Tag))
	switch n := st.Node.(type) {
	case *parser.AlterTable:
		if len(n.Cmds) == 1 {
			words = strings.Fields(string(n.Cmds[0].Op))
			if n.Cmds[0].Column != "" {
				words = append(words, n.Cmds[0].Column)
			} else if n.Cmds[0].Name != "" {
				words = append(words, n.Cmds[0].Name)
			}
		} else {
			words = append(words, n.Table.Name)
		}
	case *parser.CreateIndex:
		words = append(words, n.Name)
	case *parser.Drop:
		if len(n.Names) > 0 {
			words = append(words, n.Names[0].Name)
		}
	case *parser.CreateTable:
		words = append(words, n.Table.Name)
	}
	var b strings.Builder
	for _, r := range strings.Join(words, "_") {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteRune('_')
		}
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
