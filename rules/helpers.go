package rules

import (
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

// freshColumn reports whether the column was added by a file that is not
// deployed yet, so the running color does not know it.
func freshColumn(p *Pass, t parser.QName, col string) bool {
	c := p.Catalog.Table(t).Column(col)
	return c != nil && p.Catalog.Fresh(c.Origin)
}

// DeclaredContract reports whether a phase directive with a reason declares
// the current statement (or the whole file) a contract migration: the
// author has scheduled it after the old color's retirement, so rules about
// contract operations stay quiet.
func (p *Pass) DeclaredContract() bool {
	for _, d := range p.File.Directives {
		if d.Kind != "phase" || d.Phase != "contract" || d.Problem != "" || d.Reason == "" {
			continue
		}
		if d.FileWide() || (p.stmt != nil && d.Stmt == p.stmt.Index) {
			return true
		}
	}
	return false
}

// siteOf is where a finding about s is reported: the statement itself, or,
// for a statement of a function body run by a call, the calling statement
// (the body may sit in another file).
func siteOf(s *Stmt) parser.Span {
	for cur := s; cur.Parent != nil; cur = cur.Parent {
		switch cur.Parent.Node.(type) {
		case *parser.Select, *parser.Call:
			root := cur.Parent
			for root.Parent != nil {
				root = root.Parent
			}
			return root.Span
		}
	}
	return s.Span
}

// alterOfExisting returns the ALTER TABLE of s when it changes a table
// that the running color already uses (not one new in this release).
func alterOfExisting(p *Pass, s *Stmt) (*parser.AlterTable, bool) {
	n, ok := s.Node.(*parser.AlterTable)
	if !ok || n.Object != "table" || p.Fresh(n.Table) {
		return nil, false
	}
	return n, true
}

// quoteList prints names for a message, each quoted, comma-separated.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
