package rules

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

// Summary is what a result keeps of a top-level statement once the rules
// ran: what the reports print of it. It holds no syntax tree, so that a
// streamed file's summaries are all that stays of its statements (32
// bytes each).
type Summary struct {
	strs               *[]string // the file's tags, tables and reasons
	tag, table, reason uint32    // indexes in strs
	start, end         int32     // the span's byte offsets
	class, lock        uint8
	// Rewrite and Scan are Info's.
	Rewrite, Scan bool
}

// Tag is the command, e.g. "ALTER TABLE".
func (s Summary) Tag() string { return (*s.strs)[s.tag] }

// Table is the table Lock is taken on (Info's).
func (s Summary) Table() string { return (*s.strs)[s.table] }

// Reason says why the class is contract or breaking (Info's).
func (s Summary) Reason() string { return (*s.strs)[s.reason] }

// Class is the statement's class, a phase directive's when one applies.
func (s Summary) Class() phases.Class { return phases.Class(s.class) }

// Lock is the strongest lock the statement takes on an existing table.
func (s Summary) Lock() phases.Lock { return phases.Lock(s.lock) }

// Span returns where statement s of the file res is.
func (res *FileResult) Span(s Summary) parser.Span {
	return res.File.Span(int(s.start), int(s.end))
}

// summer sums the top-level statements of one file up as the rules are
// done with them, applying the phase directives first.
type summer struct {
	f       *parser.File
	strs    *[]string         // the summaries' strings, "" first
	index   map[string]uint32 // their indexes
	last    uint32            // the index str returned last
	next    int               // the first directive of f not looked at
	wide    []*parser.Directive
	classes []phases.Class // the distinct classes the file's class combines
}

func newSummer(f *parser.File) *summer {
	return &summer{f: f, strs: &[]string{""}, index: map[string]uint32{}}
}

// phase lets the author's phase directives win over the inferred classes
// of group, a top-level statement and the statements it ran, then notes
// the classes that make the file's: a file-wide directive's wins over all
// (res.Phase).
func (m *summer) phase(group []*Stmt, res *FileResult) {
	idx := group[0].Index
	var own []*parser.Directive
	for dirs := m.f.Directives; m.next < len(dirs) && dirs[m.next].Stmt <= idx; m.next++ {
		d := dirs[m.next]
		switch {
		case d.Kind != "phase" || d.Problem != "":
		case d.FileWide():
			m.wide = append(m.wide, d)
			res.Phase = d.Phase
		case d.Stmt == idx:
			own = append(own, d)
		}
	}
	for _, d := range m.wide {
		c, _ := phases.ParseClass(d.Phase)
		for _, s := range group {
			if s.Class != phases.None {
				s.Class = c
			}
		}
	}
	for _, d := range own {
		c, _ := phases.ParseClass(d.Phase)
		for _, s := range group {
			s.Class = c
		}
	}
	for _, s := range group {
		if s.Parent == nil || s.Parent.Class == phases.None {
			m.class(s.Class)
		}
	}
}

func (m *summer) class(c phases.Class) {
	for _, have := range m.classes {
		if have == c {
			return
		}
	}
	m.classes = append(m.classes, c)
}

// of sums s up.
func (m *summer) of(s *Stmt) Summary {
	return Summary{strs: m.strs, tag: m.str(s.Tag), table: m.str(s.Info.Table), reason: m.str(s.Info.Reason),
		start: int32(s.Span.Start.Offset), end: int32(s.Span.End.Offset),
		class: uint8(s.Class), lock: uint8(s.Info.Lock), Rewrite: s.Info.Rewrite, Scan: s.Info.Scan}
}

// str returns the index of s in the summaries' strings, adding a copy of
// it (which keeps none of the parse's memory alive) the first time.
func (m *summer) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if m.last != 0 && (*m.strs)[m.last] == s {
		return m.last // a table's statements come together
	}
	if i, ok := m.index[s]; ok {
		m.last = i
		return i
	}
	i := uint32(len(*m.strs))
	k := strings.Clone(s)
	*m.strs = append(*m.strs, k)
	m.index[k] = i
	m.last = i
	return i
}

// droppedViews are the top-level DROP VIEW statements of the transaction
// seen last, the ones phases.Shim looks back at.
type droppedViews struct {
	tx    int
	stmts []*parser.Statement
}

// note records top-level statement s.
func (d *droppedViews) note(s *Stmt) {
	if s.Tx != d.tx {
		d.tx, d.stmts = s.Tx, nil
	}
	if n, ok := s.Node.(*parser.Drop); ok && n.Object == "view" && s.Tx != 0 {
		d.stmts = append(d.stmts, s.Statement)
	}
}

// before returns the DROP VIEW statements of s's transaction before it.
func (d *droppedViews) before(s *Stmt) []*parser.Statement {
	if s.Tx == d.tx {
		return d.stmts
	}
	return nil
}
