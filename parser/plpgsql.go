package parser

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// Bodies of DO blocks and functions are parsed with PostgreSQL's PL/pgSQL
// parser; the SQL statements they run become nested statements with their
// own positions in the file.

func (c *converter) createFunction(s *pg.CreateFunctionStmt, st *Statement) {
	fn := &CreateFunction{Name: qnameOf(s.Funcname), Procedure: s.IsProcedure, Replace: s.Replace}
	st.Node, st.Tag = fn, "CREATE FUNCTION"
	if s.IsProcedure {
		st.Tag = "CREATE PROCEDURE"
	}
	opts := defElems(s.Options)
	fn.Language = strings.ToLower(strVal(opts["language"]))
	body := ""
	if as := opts["as"]; as != nil {
		if l := as.GetList(); l != nil && len(l.Items) > 0 {
			body = strVal(l.Items[0])
		}
	}
	if body == "" {
		return
	}
	switch fn.Language {
	case "plpgsql":
		fn.Body = c.plpgsqlBody(st.Text, body, st)
	case "sql":
		fn.Body = c.sqlBody(body, st)
	}
}

func (c *converter) doBlock(s *pg.DoStmt, st *Statement) {
	opts := defElems(s.Args)
	do := &Do{Language: "plpgsql"}
	if l := strVal(opts["language"]); l != "" {
		do.Language = strings.ToLower(l)
	}
	st.Node, st.Tag = do, "DO"
	body := strVal(opts["as"])
	if body == "" || do.Language != "plpgsql" {
		return
	}
	tag := "bgm"
	for strings.Contains(body, "$"+tag+"$") {
		tag += "x"
	}
	wrapper := "CREATE FUNCTION bgmigrate_do() RETURNS void LANGUAGE plpgsql AS $" + tag + "$" + body + "$" + tag + "$"
	do.Body = c.plpgsqlBody(wrapper, body, st)
}

// bodyOffset finds where body sits in the statement's source; -1 when it was
// written with escapes that make it differ from its value.
func bodyOffset(st *Statement, body string) int {
	i := strings.Index(st.Text, body)
	if i < 0 {
		return -1
	}
	return st.Span.Start.Offset + i
}

func (c *converter) sqlBody(body string, st *Statement) []*Statement {
	off := bodyOffset(st, body)
	if off < 0 {
		return nil
	}
	toks, err := scan(body, off)
	if err != nil {
		return nil
	}
	stmts, err := c.f.statements(body, off, toks, true)
	if err != nil {
		return nil
	}
	return stmts
}

type plStmt struct {
	line    int
	kind    string // "execsql", "perform", "dynexecute"
	query   string
	literal bool // dynexecute of one string literal
}

var ddlWord = regexp.MustCompile(`(?i)\b(alter|create|drop|truncate|rename|grant|revoke|reindex|cluster|vacuum|comment)\b`)

func (c *converter) plpgsqlBody(fnText, body string, st *Statement) []*Statement {
	js, err := pg.ParsePlPgSqlToJSON(fnText)
	if err != nil {
		return nil
	}
	var tree any
	if json.Unmarshal([]byte(js), &tree) != nil {
		return nil
	}
	var found []plStmt
	collectPL(tree, &found)
	sort.SliceStable(found, func(i, j int) bool { return found[i].line < found[j].line })

	off := bodyOffset(st, body)
	bodyLines := newLineIndex(body)
	var out []*Statement
	cursor := 0
	for _, ps := range found {
		// The position of the statement: search its text from the start of
		// its line, else fall back to the line itself.
		lineStart := 0
		if ps.line >= 1 && ps.line <= len(bodyLines.starts) {
			lineStart = bodyLines.starts[ps.line-1]
		}
		if lineStart < cursor {
			lineStart = cursor
		}
		at := -1
		if off >= 0 {
			probe := ps.query
			if ps.kind == "perform" {
				probe = strings.TrimPrefix(probe, "SELECT ")
			}
			if k := strings.Index(probe, "  "); k > 0 {
				probe = probe[:k]
			}
			if i := strings.Index(body[lineStart:], probe); i >= 0 {
				at = lineStart + i
				cursor = at + 1
			} else {
				at = lineStart + firstNonSpace(body[lineStart:])
			}
		}
		switch ps.kind {
		case "dynexecute":
			out = append(out, c.dynamic(ps, body, off, at, st))
		default:
			out = append(out, c.nested(ps.query, off, at, st)...)
		}
	}
	return out
}

// nested parses one statement of a body. Its span is exact when the body was
// found in the source, else the enclosing statement's.
func (c *converter) nested(query string, off, at int, parent *Statement) []*Statement {
	base := parent.Span.Start.Offset
	exact := off >= 0 && at >= 0 && off+at+len(query) <= len(c.f.Src)
	if exact {
		base = off + at
	}
	res, err := pg.Parse(query)
	if err != nil || len(res.Stmts) == 0 {
		return nil
	}
	var toks []token
	if exact {
		toks, _ = scan(query, base)
	}
	sub := &converter{f: c.f, base: base, toks: toks}
	var out []*Statement
	for _, raw := range res.Stmts {
		st := &Statement{Text: query, Span: parent.Span, Nested: true}
		if exact {
			st.Span = c.f.lines.span(base, base+len(strings.TrimRight(query, " \t\r\n;")))
		}
		sub.convert(raw.Stmt, st)
		out = append(out, st)
	}
	return out
}

// dynamic handles EXECUTE: a single string literal is parsed like any
// statement; anything built at run time is marked as not analysable.
func (c *converter) dynamic(ps plStmt, body string, off, at int, parent *Statement) *Statement {
	span := parent.Span
	if off >= 0 && at >= 0 {
		end := off + at
		if nl := strings.IndexByte(body[at:], '\n'); nl >= 0 {
			end += nl
		} else {
			end += len(body) - at
		}
		span = c.f.lines.span(off+at, end)
	}
	if res, err := pg.Parse("SELECT " + ps.query); err == nil && len(res.Stmts) == 1 {
		if sel := res.Stmts[0].Stmt.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
			if rt := sel.TargetList[0].GetResTarget(); rt != nil {
				if ac := rt.Val.GetAConst(); ac != nil && ac.GetSval() != nil {
					if inner := c.nested(ac.GetSval().Sval, -1, -1, &Statement{Span: span}); len(inner) == 1 {
						return inner[0]
					}
				}
			}
		}
	}
	st := &Statement{Node: &Other{}, Tag: "EXECUTE", Text: strings.TrimSpace(body[max(at, 0):]), Span: span, Nested: true, Dynamic: true}
	if i := strings.IndexByte(st.Text, '\n'); i >= 0 {
		st.Text = st.Text[:i]
	}
	st.Text = strings.TrimRight(st.Text, "; \t\r")
	if toks, err := pg.Scan(ps.query); err == nil {
		for _, t := range toks.Tokens {
			if t.Token == pg.Token_SCONST && ddlWord.MatchString(ps.query[t.Start:t.End]) {
				st.DynamicDDL = true
			}
		}
	}
	return st
}

// collectPL walks the JSON tree of a PL/pgSQL function for the statements
// that run SQL.
func collectPL(v any, out *[]plStmt) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectPL(e, out)
		}
	case map[string]any:
		for k, e := range x {
			m, _ := e.(map[string]any)
			switch k {
			case "PLpgSQL_stmt_execsql":
				*out = append(*out, plStmt{line: lineno(m), kind: "execsql", query: exprQuery(m["sqlstmt"])})
			case "PLpgSQL_stmt_perform":
				*out = append(*out, plStmt{line: lineno(m), kind: "perform", query: exprQuery(m["expr"])})
			case "PLpgSQL_stmt_dynexecute":
				*out = append(*out, plStmt{line: lineno(m), kind: "dynexecute", query: exprQuery(m["query"])})
			}
			collectPL(e, out)
		}
	}
}

func lineno(m map[string]any) int {
	if f, ok := m["lineno"].(float64); ok {
		return int(f)
	}
	return 0
}

func exprQuery(v any) string {
	m, _ := v.(map[string]any)
	e, _ := m["PLpgSQL_expr"].(map[string]any)
	q, _ := e["query"].(string)
	return q
}
