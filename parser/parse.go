package parser

import (
	"errors"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgerr "github.com/pganalyze/pg_query_go/v5/parser"
)

// File is one parsed migration file: its up part, split into statements.
type File struct {
	Path    string // slash-separated, as given or relative to the input root
	Format  Format
	Tx      TxMode
	Version string // the migration version from the file name ("" for plain files)
	Src     string
	// Statements are the top-level statements of the up part, in order.
	Statements []*Statement
	// Directives are the bgmigrate (and squawk) comments of the up part.
	Directives []*Directive
	// Errors are the syntax errors; the statements around them are still parsed.
	Errors []*SyntaxError
	// NoTransaction is set when the tool's annotation turns the transaction off
	// (goose NO TRANSACTION, dbmate transaction:false, …).
	NoTransaction bool

	lines *lineIndex
}

// SyntaxError is a statement PostgreSQL's parser rejected.
type SyntaxError struct {
	Path    string
	Message string
	Span    Span
}

func (e *SyntaxError) Error() string {
	return e.Path + ":" + e.Span.Start.String() + ": " + e.Message
}

type token struct {
	start, end int // file byte offsets
	tok        pg.Token
	kw         pg.KeywordKind
}

func (t token) comment() bool { return t.tok == pg.Token_SQL_COMMENT || t.tok == pg.Token_C_COMMENT }

// tokenAt returns the token that starts exactly at off.
func tokenAt(toks []token, off int) *token {
	i := sort.Search(len(toks), func(i int) bool { return toks[i].start >= off })
	if i < len(toks) && toks[i].start == off {
		return &toks[i]
	}
	return nil
}

// scan tokenises text and shifts offsets by base.
func scan(text string, base int) ([]token, error) {
	res, err := pg.Scan(text)
	if err != nil {
		return nil, err
	}
	toks := make([]token, len(res.Tokens))
	for i, t := range res.Tokens {
		toks[i] = token{start: base + int(t.Start), end: base + int(t.End), tok: t.Token, kw: t.KeywordKind}
	}
	return toks, nil
}

// Parse parses the migration at path with content src. The format is
// detected from the name and annotations unless opts.Format is set.
func Parse(path string, src []byte, opts Options) *File {
	f := &File{Path: path, Src: string(src)}
	f.lines = newLineIndex(f.Src)
	f.Format = opts.Format
	if f.Format == "" || f.Format == FormatAuto {
		f.Format = DetectFormat(path, f.Src)
	}
	f.Version = versionOf(f.Format, path)
	for _, r := range f.regions() {
		f.parseRegion(r)
	}
	f.Tx = txModeOf(f)
	if opts.NoTransaction {
		f.NoTransaction = true
		f.Tx = TxNone
	}
	f.attachDirectives()
	return f
}

// region is a part of the file that holds up-migration SQL. block regions
// (goose StatementBegin/End) are one statement that may lack a semicolon.
type region struct {
	start, end int
}

func (f *File) parseRegion(r region) {
	text := f.Src[r.start:r.end]
	if strings.TrimSpace(text) == "" {
		return
	}
	toks, scanErr := scan(text, r.start)
	if scanErr == nil {
		f.readDirectives(toks)
	}
	stmts, err := f.statements(text, r.start, toks, false)
	if err == nil {
		f.Statements = append(f.Statements, stmts...)
		return
	}
	if scanErr != nil {
		// The scanner itself failed (an unterminated literal or comment):
		// nothing after the error can be split reliably.
		f.addSyntaxError(err, text, r.start)
		return
	}
	// Recover statement by statement: split at top-level semicolons and parse
	// each piece on its own, so one bad statement does not hide the others.
	for _, seg := range splitTokens(toks, r.start, r.end) {
		segText := f.Src[seg.start:seg.end]
		stmts, err := f.statements(segText, seg.start, toksIn(toks, seg.start, seg.end), false)
		if err != nil {
			f.addSyntaxError(err, segText, seg.start)
			continue
		}
		f.Statements = append(f.Statements, stmts...)
	}
}

func (f *File) addSyntaxError(err error, text string, base int) {
	msg := err.Error()
	off := base
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		msg = pe.Message
		if pe.Cursorpos > 0 {
			off = base + charToByte(text, pe.Cursorpos)
		} else {
			off = base + firstNonSpace(text)
		}
	}
	end := off
	if end < len(f.Src) {
		end = off + 1
	}
	f.Errors = append(f.Errors, &SyntaxError{Path: f.Path, Message: msg, Span: f.lines.span(off, end)})
}

func firstNonSpace(s string) int {
	return len(s) - len(strings.TrimLeft(s, " \t\r\n"))
}

func toksIn(toks []token, start, end int) []token {
	i := sort.Search(len(toks), func(i int) bool { return toks[i].start >= start })
	j := sort.Search(len(toks), func(i int) bool { return toks[i].start >= end })
	return toks[i:j]
}

// splitTokens cuts a region at top-level semicolons. Semicolons inside a
// BEGIN ATOMIC … END function body do not end the statement.
func splitTokens(toks []token, start, end int) []region {
	var out []region
	segStart := start
	depth := 0
	var prev pg.Token
	for _, t := range toks {
		if t.comment() {
			continue
		}
		switch t.tok {
		case pg.Token_ATOMIC:
			if prev == pg.Token_BEGIN_P {
				depth++
			}
		case pg.Token_CASE:
			if depth > 0 {
				depth++
			}
		case pg.Token_END_P:
			if depth > 0 {
				depth--
			}
		case pg.Token_ASCII_59:
			if depth == 0 {
				out = append(out, region{segStart, t.start})
				segStart = t.end
			}
		}
		prev = t.tok
	}
	if segStart < end {
		out = append(out, region{segStart, end})
	}
	// Drop pieces that hold only comments and white space.
	kept := out[:0]
	for _, r := range out {
		for _, t := range toksIn(toks, r.start, r.end) {
			if !t.comment() {
				kept = append(kept, r)
				break
			}
		}
	}
	return kept
}

// statements parses text (at file offset base) into statements.
func (f *File) statements(text string, base int, toks []token, nested bool) ([]*Statement, error) {
	res, err := pg.Parse(text)
	if err != nil {
		return nil, err
	}
	c := &converter{f: f, base: base, toks: toks}
	out := make([]*Statement, 0, len(res.Stmts))
	for _, raw := range res.Stmts {
		lo := base + int(raw.StmtLocation)
		hi := base + len(text)
		if raw.StmtLen > 0 {
			hi = lo + int(raw.StmtLen)
		}
		start, end := trimToTokens(toks, lo, hi)
		st := &Statement{Text: f.Src[start:end], Span: f.lines.span(start, end), Nested: nested}
		c.convert(raw.Stmt, st)
		st.LongIdents = longIdents(f, toksIn(toks, start, end))
		out = append(out, st)
	}
	return out, nil
}

// trimToTokens narrows [lo, hi) to its first and last real token, leaving
// out comments, white space and the final semicolon.
func trimToTokens(toks []token, lo, hi int) (int, int) {
	in := toksIn(toks, lo, hi)
	start, end := -1, lo
	for _, t := range in {
		if t.comment() || (t.tok == pg.Token_ASCII_59 && t.end >= hi) {
			continue
		}
		if start < 0 {
			start = t.start
		}
		end = t.end
	}
	if start < 0 {
		return lo, hi
	}
	return start, end
}

const maxIdentBytes = 63

func longIdents(f *File, toks []token) []Ident {
	var out []Ident
	for _, t := range toks {
		if t.tok != pg.Token_IDENT {
			continue
		}
		raw := f.Src[t.start:t.end]
		name := raw
		if strings.HasPrefix(raw, `"`) {
			name = strings.ReplaceAll(strings.Trim(raw, `"`), `""`, `"`)
		}
		if len(name) > maxIdentBytes {
			out = append(out, Ident{Name: name, Span: f.lines.span(t.start, t.end)})
		}
	}
	return out
}
