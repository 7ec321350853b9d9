package parser

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
	"google.golang.org/protobuf/encoding/protowire"
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
	cache *TreeCache
	// stream is set on a streamed file (Options.Stream), out on the copy
	// of it that the background parse fills.
	stream, out *stream
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

// scan tokenises text with PostgreSQL's scanner and shifts offsets by base.
// The scanner's protobuf output is decoded directly: the generic protobuf
// decoder allocates per token, which dominated linting time.
func scan(text string, base int) ([]token, error) {
	buf, err := pgparser.ScanToProtobuf(text)
	if err != nil {
		return nil, err
	}
	toks := make([]token, 0, len(buf)/10)
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		buf = buf[n:]
		if num != 2 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, buf)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			buf = buf[n:]
			continue
		}
		msg, n := protowire.ConsumeBytes(buf)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		buf = buf[n:]
		// Fields holding zero are left out of the message: a token at
		// offset 0 of text has no start field.
		t := token{start: base, end: base}
		for len(msg) > 0 {
			fnum, ftyp, m := protowire.ConsumeTag(msg)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			msg = msg[m:]
			if ftyp != protowire.VarintType {
				m = protowire.ConsumeFieldValue(fnum, ftyp, msg)
				if m < 0 {
					return nil, protowire.ParseError(m)
				}
				msg = msg[m:]
				continue
			}
			v, m := protowire.ConsumeVarint(msg)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			msg = msg[m:]
			switch fnum {
			case 1:
				t.start = base + int(int32(v))
			case 2:
				t.end = base + int(int32(v))
			case 4:
				t.tok = pg.Token(v)
			case 5:
				t.kw = pg.KeywordKind(v)
			}
		}
		toks = append(toks, t)
	}
	// pg_query gives a U&"…" identifier or U&'…' string the length of its
	// closing quote's rule, not its own. Everything between two tokens is
	// white space (comments are tokens), so such a token ends where the
	// white space before the next one starts.
	for i := range toks {
		if t := &toks[i]; t.tok == pg.Token_UIDENT || t.tok == pg.Token_USCONST {
			next := base + len(text)
			if i+1 < len(toks) {
				next = toks[i+1].start
			}
			t.end = max(t.start, base+lastNonBlank(text[:next-base]))
		}
	}
	return toks, nil
}

// scanRegion scans a region of the file. A large one is scanned in pieces
// on all cores, cut after a ";" that ends a line: a piece that scans
// without error and ends with that ";" leaves PostgreSQL's scanner in its
// initial state, so the next piece is tokenized as in a scan of the whole.
// A cut may fall in a literal or a comment, which the piece before it does
// not end that way: from there on, the region is scanned in one piece.
func scanRegion(text string, base int) ([]token, error) {
	cuts := scanCuts(text)
	if len(cuts) < 2 {
		return scan(text, base)
	}
	pieces := make([][]token, len(cuts))
	errs := make([]error, len(cuts))
	onAllCores(len(cuts), func(i int) {
		start := 0
		if i > 0 {
			start = cuts[i-1]
		}
		pieces[i], errs[i] = scan(text[start:cuts[i]], base+start)
	})
	n := 0
	for _, p := range pieces {
		n += len(p)
	}
	// Allocated once: grown piece by piece, it took longer than the scan.
	toks := make([]token, 0, n)
	start := 0 // the end of the pieces taken
	for i, p := range pieces {
		last := len(p) - 1
		if errs[i] == nil && (i == len(pieces)-1 || last >= 0 && p[last].tok == pg.Token_ASCII_59 && p[last].end == base+cuts[i]-1) {
			toks = append(toks, p...)
			start = cuts[i]
			continue
		}
		rest, err := scan(text[start:], base+start)
		if err != nil {
			return scan(text, base) // for the error as the whole region reports it
		}
		return append(toks, rest...), nil
	}
	return toks, nil
}

// scanCuts returns where the pieces a region is scanned in end: after a
// ";\n" every chunkBytes or so, for regions of more than four chunks.
func scanCuts(text string) []int {
	if len(text) <= 4*chunkBytes {
		return nil
	}
	var cuts []int
	for start := 0; start+chunkBytes < len(text); {
		i := strings.Index(text[start+chunkBytes:], ";\n")
		if i < 0 {
			break
		}
		start += chunkBytes + i + 2
		cuts = append(cuts, start)
	}
	if len(cuts) == 0 || cuts[len(cuts)-1] < len(text) {
		cuts = append(cuts, len(text))
	}
	return cuts
}

// onAllCores runs fn(0) … fn(n-1), as many at once as there are cores.
func onAllCores(n int, fn func(i int)) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// Parse parses the migration at path with content src. The format is
// detected from the name and annotations unless opts.Format is set.
func Parse(path string, src []byte, opts Options) *File {
	f := &File{Path: path, cache: opts.Cache}
	if opts.Owned {
		f.Src = unsafe.String(unsafe.SliceData(src), len(src))
	} else {
		f.Src = string(src)
	}
	f.lines = newLineIndex(f.Src)
	f.Format = opts.Format
	if f.Format == "" || f.Format == FormatAuto {
		f.Format = DetectFormat(path, f.Src)
	}
	f.Version = versionOf(f.Format, path)
	regions := f.regions()
	if opts.NoTransaction {
		f.NoTransaction = true
	}
	if opts.Stream && streamable(f) {
		f.Tx = txModeOf(f)
		f.startStream(regions, opts.scanned)
		return f
	}
	for _, r := range regions {
		f.parseRegion(r, opts.scanned)
	}
	f.Tx = txModeOf(f)
	f.attachDirectives()
	return f
}

// region is a part of the file that holds up-migration SQL. block regions
// (goose StatementBegin/End) are one statement that may lack a semicolon.
type region struct {
	start, end int
}

// chunkBytes is the size above which a region is cut into pieces that are
// parsed on all cores at once. PostgreSQL parses small pieces faster per
// byte (in less memory), so the pieces are kept small.
const chunkBytes = 16 << 10

// parseRegion parses region r into f: without scanning it first when it
// parses (parseUnscanned), else the scanned way, which recovers from
// syntax errors statement by statement. scanned forces the scanned way.
func (f *File) parseRegion(r region, scanned bool) {
	text := f.Src[r.start:r.end]
	bad := invalidUTF8(text)
	if i := strings.IndexByte(text, 0); i >= 0 && (bad < 0 || i < bad) {
		// PostgreSQL rejects NUL bytes, and its scanner, which reads a C
		// string, would silently stop at the first one.
		f.Errors = append(f.Errors, f.encodingError(r.start+i, r.end))
		r.end = r.start + i
		text = text[:i]
	} else if bad >= 0 {
		f.parseInvalidUTF8(r, r.start+bad, scanned)
		return
	}
	if strings.TrimSpace(text) == "" {
		return
	}
	if !scanned && f.parseUnscanned(r) {
		return
	}
	toks, scanErr := scanRegion(text, r.start)
	if scanErr != nil {
		// The scanner itself failed (an unterminated literal or comment):
		// nothing after the error can be split reliably, but the
		// statements before the one holding it can.
		head := r.start
		for cut, err := r.start+len(text), scanErr; cut > r.start; {
			// Cut before the bad token; PostgreSQL's cursor is only
			// approximate in invalid UTF-8, so cut again while it fails.
			next := r.start
			if pe := (*pgparser.Error)(nil); errors.As(err, &pe) && pe.Cursorpos > 0 {
				next = r.start + charToByte(f.Src[r.start:cut], pe.Cursorpos)
			}
			if next >= cut {
				next = r.start + max(strings.LastIndexByte(f.Src[r.start:cut-1], '\n'), 0)
			}
			cut = next
			ptoks, perr := scan(f.Src[r.start:cut], r.start)
			if perr != nil {
				err = perr
				continue
			}
			f.readDirectives(ptoks)
			segs := splitTokens(ptoks, r.start, cut)
			if n := len(segs); n > 0 && segs[n-1].end == cut {
				segs = segs[:n-1] // the statement the bad token is in
			}
			if len(segs) > 0 {
				head = segs[len(segs)-1].end
				stmts, errs := f.parseSpan(region{r.start, head}, toksIn(ptoks, r.start, head))
				f.Statements = append(f.Statements, stmts...)
				f.Errors = append(f.Errors, errs...)
			}
			break
		}
		rest := f.Src[head:r.end]
		stmts, err := f.statements(rest, head, nil, false)
		if err != nil {
			f.Errors = append(f.Errors, f.syntaxError(err, rest, head))
			return
		}
		f.Statements = append(f.Statements, stmts...)
		return
	}
	f.readDirectives(toks)
	if len(text) <= chunkBytes {
		stmts, errs := f.parseSpan(r, toks)
		f.Statements = append(f.Statements, stmts...)
		f.Errors = append(f.Errors, errs...)
		return
	}
	// A large region: cut it at statement boundaries into pieces of about
	// chunkBytes and parse them in parallel; the result is the same as
	// parsing it whole.
	var chunks []region
	cur := region{start: r.start, end: r.start}
	for _, seg := range splitTokens(toks, r.start, r.end) {
		if seg.end-cur.start > chunkBytes && cur.end > cur.start {
			chunks = append(chunks, cur)
			cur = region{start: cur.end}
		}
		cur.end = seg.end
	}
	cur.end = r.end
	chunks = append(chunks, cur)
	stmts := make([][]*Statement, len(chunks))
	errs := make([][]*SyntaxError, len(chunks))
	onAllCores(len(chunks), func(i int) {
		c := chunks[i]
		stmts[i], errs[i] = f.parseSpan(c, toksIn(toks, c.start, c.end))
	})
	for i := range chunks {
		f.Statements = append(f.Statements, stmts[i]...)
		f.Errors = append(f.Errors, errs[i]...)
	}
}

// parseInvalidUTF8 parses region r, whose first invalid UTF-8 is at byte
// bad. PostgreSQL checks the encoding of a query string before it parses
// it, and pg_query, which does not, hands back names it cannot carry (the
// error would be protobuf's, at the start of the piece). So bad is
// reported as PostgreSQL does, and the statement holding it is left out
// as one with a syntax error is: the statements before and after it are
// parsed, the invalid UTF-8 after it reported the same way.
func (f *File) parseInvalidUTF8(r region, bad int, scanned bool) {
	start := f.statementStart(r.start, bad)
	f.parseRegion(region{r.start, start}, scanned)
	f.Errors = append(f.Errors, f.encodingError(bad, r.end))
	next, toks := f.statementEnd(start, r.end)
	f.readDirectives(toks) // a directive in the statement's comments still counts
	if next > bad && next < r.end {
		f.parseRegion(region{next, r.end}, scanned)
	}
}

// statementStart returns where the statement holding byte at starts: just
// after the last top-level ";" in [lo, at), or lo.
func (f *File) statementStart(lo, at int) int {
	toks, err := scan(f.Src[lo:at], lo)
	if err != nil {
		// at is in a literal or comment the text before it leaves open:
		// the statement holding at holds where that one starts.
		var pe *pgparser.Error
		if errors.As(err, &pe) && pe.Cursorpos > 0 {
			if open := lo + charToByte(f.Src[lo:at], pe.Cursorpos); open < at {
				return f.statementStart(lo, open)
			}
		}
		return lo
	}
	segs := splitTokens(toks, lo, at)
	switch n := len(segs); {
	case n == 0:
		return lo
	case segs[n-1].end == at:
		return segs[n-1].start // the piece no ";" ends yet
	default:
		return segs[n-1].end + 1 // after the ";" that ends the last one
	}
}

// statementEnd returns where the statement that starts at start ends, and
// its tokens: just after its top-level ";"; at end, or at a NUL before it
// (where the scanner stops), when none comes; there, without tokens, when
// what follows does not scan.
func (f *File) statementEnd(start, end int) (int, []token) {
	if i := strings.IndexByte(f.Src[start:end], 0); i >= 0 {
		end = start + i
	}
	toks, err := scan(f.Src[start:end], start)
	if err != nil {
		return end, nil
	}
	segs := splitTokens(toks, start, end)
	if len(segs) == 0 || segs[0].end == end {
		return end, toks
	}
	next := segs[0].end + 1
	return next, toksIn(toks, start, next)
}

// invalidUTF8 returns the offset of the first byte of s that is not valid
// UTF-8, or -1. Go and PostgreSQL agree on what is valid: no overlong
// form, no surrogate, nothing above U+10FFFF.
func invalidUTF8(s string) int {
	if utf8.ValidString(s) {
		return -1
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// encodingError is PostgreSQL's error for the byte at off, which starts an
// invalid UTF-8 sequence or is a NUL: the bytes the lead byte announces,
// as far as the text (ending at end) goes (report_invalid_encoding).
func (f *File) encodingError(off, end int) *SyntaxError {
	n := min(pgCharLen(f.Src[off]), end-off)
	var b strings.Builder
	b.WriteString(`invalid byte sequence for encoding "UTF8": `)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "0x%02x", f.Src[off+i])
	}
	return &SyntaxError{Path: f.Path, Message: b.String(), Span: f.lines.span(off, off+1)}
}

// parseSpan parses a part of the file whose tokens are known. When it does
// not parse as a whole it is split at top-level semicolons and each piece
// is parsed on its own, so one bad statement does not hide the others.
func (f *File) parseSpan(r region, toks []token) ([]*Statement, []*SyntaxError) {
	text := f.Src[r.start:r.end]
	stmts, err := f.statements(text, r.start, toks, false)
	if err == nil {
		return stmts, nil
	}
	stmts = nil
	var errs []*SyntaxError
	for _, seg := range splitTokens(toks, r.start, r.end) {
		segText := f.Src[seg.start:seg.end]
		part, err := f.statements(segText, seg.start, toksIn(toks, seg.start, seg.end), false)
		if err != nil {
			errs = append(errs, f.syntaxError(err, segText, seg.start))
			continue
		}
		stmts = append(stmts, part...)
	}
	return stmts, errs
}

func (f *File) syntaxError(err error, text string, base int) *SyntaxError {
	msg := err.Error()
	off := base
	var pe *pgparser.Error
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
	return &SyntaxError{Path: f.Path, Message: msg, Span: f.lines.span(off, end)}
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
	depth, parens := 0, 0
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
		case pg.Token_ASCII_40:
			parens++
		case pg.Token_ASCII_41:
			if parens > 0 {
				parens--
			}
		case pg.Token_ASCII_59:
			if depth == 0 && parens == 0 {
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
	trees, err := f.trees(text)
	if err != nil {
		return nil, err
	}
	c := &converter{f: f, base: base, toks: toks}
	out := make([]*Statement, 0, len(trees))
	for _, t := range trees {
		lo := base + t.loc
		hi := base + len(text)
		if t.len > 0 {
			hi = lo + t.len
		}
		start, end := trimToTokens(toks, lo, hi)
		st := &Statement{Text: f.Src[start:end], Span: f.lines.span(start, end), Nested: nested}
		c.convert(t, st)
		st.LongIdents = longIdents(f, toksIn(toks, start, end))
		out = append(out, st)
	}
	return out, nil
}

// trees parses text into statements, through the cache when there is one.
func (f *File) trees(text string) ([]stmtTree, error) {
	if f.cache != nil {
		return f.cache.parse(text)
	}
	return parseTreeJSON(text)
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
		raw := f.Src[t.start:t.end]
		if t.tok != pg.Token_IDENT || len(raw) <= maxIdentBytes {
			continue // quoting and folding never make a name longer
		}
		// The name PostgreSQL keeps: quoted as written, unquoted folded to
		// lower case (ASCII only, as for UTF-8 databases).
		name := foldIdent(raw)
		if strings.HasPrefix(raw, `"`) {
			name = strings.ReplaceAll(strings.Trim(raw, `"`), `""`, `"`)
		}
		if len(name) > maxIdentBytes {
			out = append(out, Ident{Name: name, Span: f.lines.span(t.start, t.end)})
		}
	}
	return out
}

func foldIdent(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
