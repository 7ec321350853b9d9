package rules

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/schema"
)

// Stmt is a statement with the context the driver worked out for it.
type Stmt struct {
	*parser.Statement
	// Index is the position of the top-level statement in the file; nested
	// statements carry their parent's.
	Index int
	// Info is the class, lock and rewrite of the statement, computed with
	// the catalog as it was before it.
	Info phases.Info
	// Class is Info.Class unless a phase directive overrides it.
	Class phases.Class
	// Tx is the number of the transaction the statement runs in (1, 2, …
	// in file order), 0 when it runs in autocommit mode.
	Tx int
	// ToolTx is set when the migration tool itself opened the transaction.
	ToolTx bool
	// LockTimeout and StatementTimeout are set when the file set them
	// (to a non-zero value) before this statement.
	LockTimeout, StatementTimeout bool
	// Parent is the DO block or calling statement of a nested statement.
	Parent *Stmt
}

// InTransaction reports whether the statement runs inside a transaction block.
func (s *Stmt) InTransaction() bool { return s.Tx != 0 }

// Pass gives a rule what it may look at for one file, and Report.
type Pass struct {
	File      *parser.File
	Catalog   *schema.Catalog
	PGVersion int
	// Stmts are the current top-level statement and the statements it
	// ran so far (a DO body, functions it calls), in execution order: a
	// rule keeps what it needs of earlier statements itself (stateOf).
	// Empty in a File hook.
	Stmts []*Stmt
	// top sums up the top-level statements done so far (all of them in a
	// File hook).
	top []Summary
	// dropped are the DROP VIEW statements of the last transaction.
	dropped droppedViews

	// Release is set when a release is being linted (lint --changed-since);
	// Info then says whether this file belongs to it.
	Release  bool
	Info     FileInfo
	Releases []Release

	files []*parser.File // the set, in order
	// many is set when the file has more than one top-level statement.
	many bool
	// txAfter are the statements after the current top-level one that run
	// in its transaction.
	txAfter []*parser.Statement

	// tables and smallRows are Config.Tables and Config.SmallTableRows,
	// for the findings of size-aware rules.
	tables    map[string]TableStats
	smallRows int

	rule   *Rule
	stmt   *Stmt
	report func(Finding)
	// states are what rules keep from statement to statement (stateOf).
	states map[*Rule]any
}

// stateOf returns the state the running rule keeps for the file in p, a
// zero T at the first call: what the rule learns of the statements it has
// seen, so that it does not go over them again at each statement.
func stateOf[T any](p *Pass) *T {
	if st, ok := p.states[p.rule].(*T); ok {
		return st
	}
	if p.states == nil {
		p.states = map[*Rule]any{}
	}
	st := new(T)
	p.states[p.rule] = st
	return st
}

// txStateOf returns the state the running rule keeps for the transaction
// s runs in, which fresh makes at the first statement of it.
func txStateOf[T any](p *Pass, s *Stmt, fresh func() *T) *T {
	txs := stateOf[map[int]*T](p)
	if *txs == nil {
		*txs = map[int]*T{}
	}
	st := (*txs)[s.Tx]
	if st == nil {
		st = fresh()
		(*txs)[s.Tx] = st
	}
	return st
}

// Report records a finding of the running rule at span.
func (p *Pass) Report(span parser.Span, msg string) {
	var idx int
	if p.stmt != nil {
		idx = p.stmt.Index
	} else {
		idx = statementAt(p.top, span.Start.Offset)
	}
	help := p.rule.Help
	if p.rule.Splits {
		help += "; run: bgmigrate split " + p.File.Path
	}
	fd := Finding{Rule: p.rule.ID, Severity: p.rule.Severity, Path: p.File.Path, Span: span,
		Message: msg, Help: help, stmt: idx}
	if p.rule.SizeAware && p.stmt != nil {
		sizeFinding(&fd, p, p.stmt)
	}
	p.report(fd)
}

// Reportf is Report with a format.
func (p *Pass) Reportf(span parser.Span, format string, args ...any) {
	p.Report(span, fmt.Sprintf(format, args...))
}

// Fresh reports whether table t is new in this release, so locking it
// blocks no one.
func (p *Pass) Fresh(t parser.QName) bool { return p.Catalog.FreshTable(t) }

// OriginPath returns the path of the file of the set with the given
// ordinal (as schema objects record it), "" if unknown.
func (p *Pass) OriginPath(ordinal int) string {
	if ordinal < 1 || ordinal > len(p.files) {
		return ""
	}
	return p.files[ordinal-1].Path
}
