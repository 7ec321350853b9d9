package rules

import "github.com/bgmigrate/bgmigrate/parser"

// The style rules about column types (prefer-bigint-over-int,
// prefer-text-field, ban-char-field, …) share one walk over the places a
// migration writes a column type.

// typeUse is a column type as a statement writes it: a column of CREATE
// TABLE, ALTER TABLE … ADD COLUMN or ALTER COLUMN … TYPE.
type typeUse struct {
	Table  parser.QName
	Column string
	Type   parser.TypeName
	Span   parser.Span // where the type is written
}

// columnTypes lists the column types a statement writes.
func columnTypes(s *Stmt) []typeUse {
	var out []typeUse
	add := func(t parser.QName, col string, tn parser.TypeName, fallback parser.Span) {
		out = append(out, typeUse{Table: t, Column: col, Type: tn, Span: siteWithin(s, tn.Span, fallback)})
	}
	switch n := s.Node.(type) {
	case *parser.CreateTable:
		for _, c := range n.Columns {
			add(n.Table, c.Name, c.Type, c.Span)
		}
	case *parser.AlterTable:
		if n.Object != "table" && n.Object != "foreign table" {
			return nil
		}
		for _, c := range n.Cmds {
			switch {
			case c.Op == parser.AddColumn && c.ColumnDef != nil:
				add(n.Table, c.ColumnDef.Name, c.ColumnDef.Type, c.ColumnDef.Span)
			case c.Op == parser.AlterColumnType && c.Type != nil:
				add(n.Table, c.Column, *c.Type, c.Span)
			}
		}
	}
	return out
}

// siteWithin is the span to report at: the first of spans that the parser
// located inside the statement (the type, the column, …), else the
// statement (or, for a called function's body, the call).
func siteWithin(s *Stmt, spans ...parser.Span) parser.Span {
	site := siteOf(s)
	if site != s.Span {
		return site
	}
	for _, sp := range spans {
		if sp.End.Offset > sp.Start.Offset && sp.Start.Offset >= s.Span.Start.Offset && sp.End.Offset <= s.Span.End.Offset {
			return sp
		}
	}
	return s.Span
}

// reportTypes reports every column type of s that match accepts; match
// returns the message for a type, "" to pass it.
func reportTypes(p *Pass, s *Stmt, match func(u typeUse) string) {
	for _, u := range columnTypes(s) {
		if msg := match(u); msg != "" {
			p.Report(u.Span, msg)
		}
	}
}
