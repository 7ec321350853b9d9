package parser

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

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
	// Bodies find their own tokens: the converter parsing them on first use
	// does not keep the tokens of the whole region alive until then.
	lazy := &converter{f: c.f}
	switch fn.Language {
	case "plpgsql":
		fn.body = sync.OnceValue(func() []*Statement { return lazy.plpgsqlBody(st.Text, body, st) })
	case "sql":
		fn.body = sync.OnceValue(func() []*Statement { return lazy.sqlBody(body, st) })
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
	line  int
	kind  string // "execsql", "perform", "dynexecute"
	query string
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
	bodyLines := newLineIndex(body)
	lineOf := func(ps plStmt) int {
		if ps.line >= 1 && ps.line <= len(bodyLines.starts) {
			return bodyLines.starts[ps.line-1]
		}
		return 0
	}
	// In line order; statements of one line in the order their text
	// appears on it (IF … THEN a; ELSE b; END IF on one line).
	column := func(ps plStmt) int {
		if i := strings.Index(body[lineOf(ps):], ps.probe()); i >= 0 {
			return i
		}
		return len(body)
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].line != found[j].line {
			return found[i].line < found[j].line
		}
		return column(found[i]) < column(found[j])
	})

	off := bodyOffset(st, body)
	var out []*Statement
	cursor := 0
	for _, ps := range found {
		// The position of the statement: search its text from the start of
		// its line, else fall back to the line itself.
		lineStart := lineOf(ps)
		if lineStart < cursor {
			lineStart = cursor
		}
		at := -1
		if off >= 0 {
			if i := strings.Index(body[lineStart:], ps.probe()); i >= 0 {
				at = lineStart + i
				cursor = at + 1
			} else {
				at = lineStart + firstNonSpace(body[lineStart:])
			}
		}
		switch ps.kind {
		case "dynexecute":
			out = append(out, c.dynamic(ps, body, off, at, st))
		case "perform":
			out = append(out, c.perform(ps.query, body, off, at, st)...)
		default:
			out = append(out, c.nested(ps.query, off, at, st)...)
		}
	}
	return out
}

// nested parses one statement of a body found at byte at of the body, which
// sits at file offset off. Its span is exact when the text there is the
// query, else the enclosing statement's.
func (c *converter) nested(query string, off, at int, parent *Statement) []*Statement {
	if off >= 0 && at >= 0 && strings.HasPrefix(c.f.Src[off+at:], query) {
		return c.nestedAt(query, off+at, off+at, parent)
	}
	return c.nestedAt(query, -1, -1, parent)
}

// nestedAt parses query as if it started at file offset base; start is
// where its span begins (PERFORM x is handed over as "SELECT x", which has
// no source of its own). base < 0: the query was not found in the source.
func (c *converter) nestedAt(query string, base, start int, parent *Statement) []*Statement {
	trees, err := c.f.trees(query)
	if err != nil || len(trees) == 0 {
		return nil
	}
	exact := base >= 0
	var toks []token
	cbase := parent.Span.Start.Offset
	if exact {
		cbase = base
		toks, _ = scan(query, base)
	}
	sub := &converter{f: c.f, base: cbase, toks: toks}
	var out []*Statement
	for _, t := range trees {
		st := &Statement{Text: query, Span: parent.Span, Nested: true}
		if exact {
			end := base + len(strings.TrimRight(query, " \t\r\n;"))
			st.Span = c.f.lines.span(start, end)
			st.Text = c.f.Src[start:end]
			st.LongIdents = longIdents(c.f, toksIn(toks, start, end))
		}
		sub.convert(t, st)
		out = append(out, st)
	}
	return out
}

// perform parses PERFORM expr, which PL/pgSQL hands over as the source
// text with PERFORM replaced by SELECT (at is where expr starts in the
// body); the span runs from PERFORM.
func (c *converter) perform(query, body string, off, at int, parent *Statement) []*Statement {
	const sel, kw = "SELECT", "PERFORM"
	if off < 0 || at < 0 || !strings.HasPrefix(query, sel) {
		return c.nestedAt(query, -1, -1, parent)
	}
	k := keywordBefore(body, at, kw)
	if k == at || !strings.HasPrefix(body[k+len(kw):], query[len(sel):]) {
		return c.nestedAt(query, -1, -1, parent)
	}
	return c.nestedAt(query, off+k+len(kw)-len(sel), off+k, parent)
}

// keywordBefore returns the offset of kw when it precedes at in body,
// separated by white space and line comments only; else at.
func keywordBefore(body string, at int, kw string) int {
	head := strings.TrimRight(body[:at], " \t\r\n")
	// Line comments between the keyword and what follows.
	for {
		line := head[strings.LastIndexByte(head, '\n')+1:]
		i := strings.Index(line, "--")
		if i < 0 {
			break
		}
		head = strings.TrimRight(head[:len(head)-len(line)+i], " \t\r\n")
	}
	if len(head) >= len(kw) && strings.EqualFold(head[len(head)-len(kw):], kw) {
		return len(head) - len(kw)
	}
	return at
}

// dynamic handles EXECUTE: a single string literal is parsed like any
// statement; anything built at run time is marked as not analysable.
func (c *converter) dynamic(ps plStmt, body string, off, at int, parent *Statement) *Statement {
	span := parent.Span
	found := off >= 0 && at >= 0 && strings.HasPrefix(body[at:], ps.query)
	switch {
	case found:
		// From EXECUTE to the end of the query expression (INTO and USING
		// clauses, when present, are left out).
		span = c.f.lines.span(off+keywordBefore(body, at, "EXECUTE"), off+at+len(strings.TrimRight(ps.query, " \t\r\n")))
	case off >= 0 && at >= 0:
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
					sval := ac.GetSval().Sval
					var inner []*Statement
					// The literal's text is the source when it has no escapes.
					if k := strings.Index(ps.query, sval); found && k >= 0 && sval != "" {
						inner = c.nestedAt(sval, off+at+k, off+at+k, parent)
					} else {
						inner = c.nestedAt(sval, -1, -1, &Statement{Span: span})
					}
					if len(inner) == 1 {
						return inner[0]
					}
				}
			}
		}
	}
	st := &Statement{Node: &Other{}, Tag: "EXECUTE", Text: strings.TrimSpace(body[max(at, 0):]), Span: span, Nested: true, Dynamic: true}
	if found {
		st.Text = c.f.Src[span.Start.Offset:span.End.Offset]
	}
	if i := strings.IndexByte(st.Text, '\n'); i >= 0 && !found {
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
// probe is the start of the statement's text as it should appear in the
// body: PERFORM x is handed over as SELECT x, and runs of spaces may have
// been folded.
func (ps plStmt) probe() string {
	probe := ps.query
	if ps.kind == "perform" {
		probe = strings.TrimLeft(strings.TrimPrefix(probe, "SELECT"), " \t\r\n")
	}
	if k := strings.Index(probe, "  "); k > 0 {
		probe = probe[:k]
	}
	return probe
}

// collectPL lists the SQL statements of a PL/pgSQL tree (JSON), visiting
// object keys in sorted order so that the list does not depend on map order.
func collectPL(v any, out *[]plStmt) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectPL(e, out)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			e := x[k]
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
