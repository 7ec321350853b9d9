package rules

import (
	"fmt"
	"sort"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/schema"
)

// Config selects the rules and the context they run in.
type Config struct {
	PGVersion int // default 15
	// Only, when not empty, runs only these rules (style rules included).
	Only []string
	// Enable turns rules on beside the default ones (style rules too).
	Enable []string
	// Exclude turns rules off.
	Exclude []string
	// Style turns the opt-in style rules on.
	Style bool
	// Severity overrides rules' default severities.
	Severity map[string]Severity
	// AssumeInTransaction treats plain files as wrapped in a transaction.
	AssumeInTransaction bool
	// Releases list what each earlier release stopped using, for the
	// release-aware rules.
	Releases []Release
	// Tables are the sizes of the live database's tables, keyed as
	// parser.QName.Key ("table" in public, "schema.table" elsewhere). A
	// finding of a SizeAware rule on a table listed here carries its size
	// and an estimated lock duration (LockEstimate); tables not listed, and
	// every finding when Tables is nil, are left as they are.
	Tables map[string]TableStats
	// SmallTableRows, when positive, sets the severity of those findings
	// by the table's rows: info below it; error, at or above it, for a
	// statement that rewrites the table. A table whose rows are unknown
	// keeps the rule's severity.
	SmallTableRows int
}

// Release is an earlier release and what the application stopped using in
// it: "table" or "table.column" names.
type Release struct {
	Name         string
	StoppedUsing []string
}

// FileInfo is what the driver knows of a file besides its content.
type FileInfo struct {
	// InRelease marks a file of the release being deployed: added since
	// the base revision. The objects it creates are new to the running color.
	InRelease bool
	// Modified marks a file that existed at the base revision with other
	// content: a migration that is already released was edited. Its
	// objects are deployed already.
	Modified bool
	// Report is false for files that are replayed only to build the schema.
	Report bool
}

// FileResult is the outcome for one file.
type FileResult struct {
	File  *parser.File
	Class phases.Class
	// Stmts are every statement, nested ones included, in order; nil for
	// a streamed file (parser.Options.Stream), whose trees are let go as
	// soon as the rules ran.
	Stmts []*Stmt
	// Top sums up each top-level statement, for every file.
	Top      []Summary
	Findings []Finding
	// Phase is the phase a file-wide directive declared ("" when inferred).
	Phase string
}

// Runner runs a set of rules; build it once with NewRunner and use it for
// any number of sets.
type Runner struct {
	cfg   Config
	rules []*Rule
	known map[string]bool // every rule id, enabled or not
}

// NewRunner selects the rules of cfg. Unknown rule ids are an error.
func NewRunner(cfg Config) (*Runner, error) {
	if cfg.PGVersion == 0 {
		cfg.PGVersion = 15
	}
	r := &Runner{cfg: cfg, known: map[string]bool{}}
	for _, rule := range All() {
		r.known[rule.ID] = true
	}
	for _, list := range [][]string{cfg.Only, cfg.Enable, cfg.Exclude} {
		for _, id := range list {
			if !r.known[id] {
				return nil, fmt.Errorf("unknown rule %q (see bgmigrate rules)", id)
			}
		}
	}
	for id := range cfg.Severity {
		if !r.known[id] {
			return nil, fmt.Errorf("unknown rule %q (see bgmigrate rules)", id)
		}
	}
	only := set(cfg.Only)
	enable := set(cfg.Enable)
	exclude := set(cfg.Exclude)
	for _, rule := range All() {
		switch {
		case exclude[rule.ID]:
			continue
		case len(only) > 0 && !only[rule.ID] && !alwaysOn[rule.ID]:
			continue
		case len(only) == 0 && rule.Style && !cfg.Style && !enable[rule.ID]:
			continue
		case !rule.AppliesTo(cfg.PGVersion):
			continue
		}
		if sev, ok := cfg.Severity[rule.ID]; ok {
			cp := *rule
			cp.Severity = sev
			rule = &cp
		}
		r.rules = append(r.rules, rule)
	}
	return r, nil
}

// alwaysOn rules report on the input itself and run even with Only set.
var alwaysOn = map[string]bool{"syntax-error": true, "invalid-directive": true}

func set(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

// Enabled reports whether the rule id runs.
func (r *Runner) Enabled(id string) bool {
	for _, rule := range r.rules {
		if rule.ID == id {
			return true
		}
	}
	return false
}

// RunSet lints the files of one migration set in order, replaying each into
// the catalog the next ones see.
func (r *Runner) RunSet(files []*parser.File) []*FileResult {
	return r.RunRelease(files, nil)
}

// RunRelease lints a migration set in which some files form the release
// being deployed. infos[i] describes files[i]; a nil infos reports every
// file with no release. Only files marked Report are returned.
func (r *Runner) RunRelease(files []*parser.File, infos []FileInfo) []*FileResult {
	cat := schema.New()
	out := make([]*FileResult, 0, len(files))
	for i, f := range files {
		info := FileInfo{Report: true}
		if infos != nil {
			info = infos[i]
		}
		cat.BeginFile(i+1, info.InRelease)
		if !info.Report {
			for j := 0; ; j++ {
				st := f.Statement(j)
				if st == nil {
					break
				}
				replay([]*parser.Statement{st}, cat, 0)
				f.Release(j + 1)
			}
			continue
		}
		out = append(out, r.runFile(f, cat, info, infos != nil, files))
	}
	return out
}

// replay records statements in the catalog without checking them.
func replay(stmts []*parser.Statement, cat *schema.Catalog, depth int) {
	for _, st := range stmts {
		if depth < maxCallDepth {
			replay(cat.Runs(st), cat, depth+1)
		}
		if _, isDo := st.Node.(*parser.Do); !isDo {
			cat.Apply(st)
		}
	}
}

func (r *Runner) runFile(f *parser.File, cat *schema.Catalog, info FileInfo, release bool, files []*parser.File) *FileResult {
	res := &FileResult{File: f}
	pass := &Pass{File: f, Catalog: cat, PGVersion: r.cfg.PGVersion, Release: release, Info: info, Releases: r.cfg.Releases, files: files,
		tables: r.cfg.Tables, smallRows: r.cfg.SmallTableRows, many: f.Statement(1) != nil}
	pass.report = func(fd Finding) { res.Findings = append(res.Findings, fd) }
	keep := !f.Streamed()
	sum := newSummer(f)

	tx := newTxTracker(f, r.cfg.AssumeInTransaction)
	var rest txRest
	for i := 0; ; i++ {
		st := f.Statement(i)
		if st == nil {
			break
		}
		s := tx.next(st, i, nil)
		pass.txAfter = nil
		if phases.MayShim(st) {
			pass.txAfter = rest.after(tx, f, i, s.Tx)
		} else {
			rest.passed(i)
		}
		pass.Stmts = pass.Stmts[:0]
		r.visit(pass, s, cat, tx, res, 0)
		sum.phase(pass.Stmts, res)
		pass.top = append(pass.top, sum.of(s))
		pass.dropped.note(s)
		if keep {
			res.Stmts = append(res.Stmts, pass.Stmts...)
		}
		clear(pass.Stmts)
		f.Release(i + 1)
	}
	res.Top = pass.top
	res.Class = phases.Combine(sum.classes)
	if res.Phase != "" {
		res.Class, _ = phases.ParseClass(res.Phase)
	}
	pass.Stmts = nil
	pass.stmt = nil
	for _, rule := range r.rules {
		if rule.File != nil {
			pass.rule = rule
			rule.File(pass)
		}
	}
	r.syntaxErrors(res)
	r.directives(res)
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.Span.Start.Offset != b.Span.Start.Offset {
			return a.Span.Start.Offset < b.Span.Start.Offset
		}
		return a.Rule < b.Rule
	})
	return res
}

// visit runs the statement hooks on s and on the statements it runs (a DO
// body, the body of a function defined earlier that it calls), then
// records s in the catalog.
// maxCallDepth bounds how deep calls are followed (functions may recurse).
const maxCallDepth = 3

func (r *Runner) visit(pass *Pass, s *Stmt, cat *schema.Catalog, tx *txTracker, res *FileResult, depth int) {
	s.Info = phases.Classify(s.Statement, cat, r.cfg.PGVersion)
	if s.Parent == nil && s.Tx != 0 && phases.MayShim(s.Statement) {
		if c, reason, ok := phases.Shim(pass.dropped.before(s), s.Statement, pass.txAfter, cat); ok {
			s.Info.Class, s.Info.Reason = c, reason
		}
	}
	s.Class = s.Info.Class
	pass.Stmts = append(pass.Stmts, s)
	pass.stmt = s
	for _, rule := range r.rules {
		if rule.Stmt != nil {
			pass.rule = rule
			pass.stmt = s
			rule.Stmt(pass, s)
		}
	}
	if depth < maxCallDepth {
		for _, b := range cat.Runs(s.Statement) {
			r.visit(pass, tx.nested(b, s), cat, tx, res, depth+1)
		}
	}
	if _, isDo := s.Node.(*parser.Do); !isDo {
		cat.Apply(s.Statement)
	}
}

func (r *Runner) syntaxErrors(res *FileResult) {
	if !r.Enabled("syntax-error") {
		return
	}
	for _, e := range res.File.Errors {
		res.Findings = append(res.Findings, Finding{Rule: "syntax-error", Severity: r.severity("syntax-error"),
			Path: res.File.Path, Span: e.Span, Message: e.Message, Help: SyntaxError.Help, stmt: -1})
	}
}

func (r *Runner) severity(id string) Severity {
	for _, rule := range r.rules {
		if rule.ID == id {
			return rule.Severity
		}
	}
	return Error
}

// directives applies ignore directives to the findings and reports
// directives that are malformed, lack a reason, name unknown rules or
// suppress nothing.
func (r *Runner) directives(res *FileResult) {
	f := res.File
	var problems []Finding
	bad := func(d *parser.Directive, rule, msg string) {
		if r.Enabled(rule) {
			problems = append(problems, Finding{Rule: rule, Severity: r.severity(rule), Path: f.Path, Span: d.Span,
				Message: msg, Help: byID[rule].Help, stmt: -1})
		}
	}
	for _, d := range f.Directives {
		name := d.Source + ":" + d.Kind
		if d.Source == "squawk" {
			name = "squawk-" + d.Kind
		}
		if d.Problem != "" {
			bad(d, "invalid-directive", fmt.Sprintf("%s %s", name, d.Problem))
			continue
		}
		if d.Source == "bgmigrate" && d.Reason == "" && d.Kind != "backfill" {
			bad(d, "invalid-directive", fmt.Sprintf("%s needs a reason after \"--\"", name))
		}
		if d.Kind != "ignore" && d.Kind != "ignore-file" {
			continue
		}
		for _, id := range d.Rules {
			target := id
			if d.Source == "squawk" {
				target = fromSquawk(id)
			}
			if !r.known[target] {
				if d.Source == "squawk" && squawkOnly[id] {
					continue
				}
				bad(d, "invalid-directive", fmt.Sprintf("%s names unknown rule %q", name, id))
				continue
			}
			used := false
			for i := range res.Findings {
				fd := &res.Findings[i]
				if fd.Rule != target || fd.Rule == "syntax-error" {
					continue
				}
				if d.Kind == "ignore-file" || (d.Stmt >= 0 && fd.stmt == d.Stmt) {
					used = true
					if fd.Suppressed == nil {
						fd.Suppressed = &Suppression{Directive: name, Justification: d.Reason}
					}
				}
			}
			if !used && r.Enabled(target) {
				bad(d, "unused-directive", fmt.Sprintf("%s %s suppresses nothing", name, id))
			}
		}
	}
	res.Findings = append(res.Findings, problems...)
}

// squawkToBgmigrate maps Squawk rule ids to ours where the names differ.
var squawkToBgmigrate = map[string]string{
	"prefer-big-int":           "prefer-bigint-over-int",
	"prefer-bigint":            "prefer-bigint-over-int",
	"prefer-timestamptz":       "prefer-timestamp-tz",
	"require-timeout-settings": "require-lock-timeout",
}

// squawkOnly are Squawk ids with no bgmigrate counterpart; ignoring them is
// harmless.
var squawkOnly = map[string]bool{
	"ban-alter-domain-with-add-constraint": true, "ban-create-domain-with-constraint": true,
	"prefer-identity": false, "ban-char-field": false,
}

func fromSquawk(id string) string {
	if m, ok := squawkToBgmigrate[id]; ok {
		return m
	}
	return id
}

// statementAt returns the index of the top-level statement that contains
// off (its end included), -1 if none; top are the statements so far.
func statementAt(top []Summary, off int) int {
	i := sort.Search(len(top), func(i int) bool { return int(top[i].end) >= off })
	if i < len(top) && int(top[i].start) <= off {
		return i
	}
	return -1
}

// txTracker works out which transaction each statement runs in.
type txTracker struct {
	f         *parser.File
	toolTx    bool
	explicit  bool
	cur       int
	count     int
	lockTO    bool
	stmtTO    bool
	localLock bool
	localStmt bool
}

func newTxTracker(f *parser.File, assume bool) *txTracker {
	t := &txTracker{f: f}
	switch f.Tx {
	case parser.TxWrapped:
		t.toolTx = true
	case parser.TxImplicit:
		t.toolTx = f.Statement(1) != nil
	case parser.TxNone:
		t.toolTx = assume && f.Format == parser.FormatPlain && !f.NoTransaction
	}
	if t.toolTx {
		t.count, t.cur = 1, 1
	}
	return t
}

func (t *txTracker) next(st *parser.Statement, idx int, parent *Stmt) *Stmt {
	s := &Stmt{Statement: st, Index: idx, Parent: parent}
	if tr, ok := st.Node.(*parser.Transaction); ok {
		switch tr.Op {
		case parser.TxBegin:
			if t.cur == 0 {
				t.count++
				t.cur = t.count
			}
			// BEGIN itself runs in the tool's transaction when there is one.
			s.Tx, s.ToolTx = t.cur, t.toolTx && !t.explicit
			s.LockTimeout, s.StatementTimeout = t.lockTO, t.stmtTO
			t.explicit = true
			return s
		case parser.TxCommit, parser.TxRollback, parser.TxPrepare:
			s.Tx = t.cur
			s.ToolTx = t.toolTx && !t.explicit
			t.end()
			s.LockTimeout, s.StatementTimeout = t.lockTO, t.stmtTO
			return s
		}
	}
	// SET LOCAL outside a transaction block has no effect.
	if set, ok := st.Node.(*parser.SetParam); ok && !(set.Local && t.cur == 0) {
		on := !set.Reset && set.Value != "0" && set.Value != ""
		switch set.Name {
		case "lock_timeout":
			t.lockTO = on
			t.localLock = set.Local
		case "statement_timeout":
			t.stmtTO = on
			t.localStmt = set.Local
		}
	}
	s.Tx = t.cur
	s.ToolTx = t.toolTx && !t.explicit
	s.LockTimeout, s.StatementTimeout = t.lockTO, t.stmtTO
	return s
}

// txRest is the rest of a transaction, gathered (txTracker.rest) at the
// first statement of it that needs it and kept for the next ones: a
// transaction of n renames or DROP VIEWs is gone over once, not n times.
type txRest struct {
	tx    int
	idx   []int // the statements' indexes in the file
	stmts []*parser.Statement
}

// after returns the statements after the i-th of f that run in its
// transaction tx.
func (r *txRest) after(t *txTracker, f *parser.File, i, tx int) []*parser.Statement {
	if tx == 0 {
		return nil
	}
	if r.tx != tx {
		r.tx, r.idx, r.stmts = tx, nil, t.rest(f, i+1, tx, &r.idx)
	}
	r.passed(i)
	return r.stmts
}

// passed lets the statements up to the i-th go.
func (r *txRest) passed(i int) {
	k := 0
	for k < len(r.idx) && r.idx[k] <= i {
		k++
	}
	if k > 0 {
		clear(r.stmts[:k])
		r.idx, r.stmts = r.idx[k:], r.stmts[k:]
	}
}

// rest returns the top-level statements of f from the from-th on that run
// in transaction tx with the current one (none when tx is 0), their
// indexes appended to idx.
func (t *txTracker) rest(f *parser.File, from, tx int, idx *[]int) []*parser.Statement {
	if tx == 0 {
		return nil
	}
	probe := *t
	var out []*parser.Statement
	for i := from; ; i++ {
		st := f.Statement(i)
		if st == nil || probe.next(st, 0, nil).Tx != tx {
			break
		}
		if _, isTx := st.Node.(*parser.Transaction); !isTx {
			out = append(out, st)
			*idx = append(*idx, i)
		}
	}
	return out
}

func (t *txTracker) end() {
	t.cur = 0
	t.explicit = false
	if t.localLock {
		t.lockTO, t.localLock = false, false
	}
	if t.localStmt {
		t.stmtTO, t.localStmt = false, false
	}
	if t.toolTx {
		// The tool's transaction was ended by the file; what follows runs
		// in autocommit mode (golang-migrate, prisma) or fails (goose).
		t.toolTx = false
	}
}

// nested makes the Stmt for a statement run by a DO block or function: it
// runs in its parent's transaction, or in one of its own.
func (t *txTracker) nested(st *parser.Statement, parent *Stmt) *Stmt {
	s := &Stmt{Statement: st, Index: parent.Index, Parent: parent, Tx: parent.Tx, ToolTx: parent.ToolTx,
		LockTimeout: parent.LockTimeout, StatementTimeout: parent.StatementTimeout}
	if s.Tx == 0 {
		s.Tx = -parent.Index - 1 // the implicit transaction of the one statement
	}
	return s
}
