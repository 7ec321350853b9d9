package parser

import (
	"errors"
	"runtime"
	"strings"

	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
)

// PostgreSQL's scanner, called on its own over every region, cost about a
// third as much as the parse, mostly to find comments and the ends of
// tokens that most statements do not need. parseUnscanned parses a region without scanning it first: the
// parse tree gives each statement's range (from the end of the previous
// top-level ";", where the scanner is in its initial state, so a range
// scans on its own as it does in the whole), and a range is scanned only
// as far as needed:
//   - whole, when it may hold a directive or an identifier too long to
//     keep, or may end in a comment;
//   - up to its first token, when it starts with a comment;
//   - whole, on first use, when convert asks where a node's token ends;
//   - not at all otherwise: its first and last bytes that are not white
//     space are then those of its first and last tokens.
// A region that does not parse goes the scanned way, which recovers
// statement by statement.

// parseUnscanned parses region r; false, with f unchanged, when r must be
// parsed the scanned way. A large region is cut into pieces of about
// chunkBytes (pieceCuts), parsed on all cores. A piece is right when its
// start is (the region's, or the end of a right piece), it parses, and its
// last statement is ended by a ";": the cut after it is then between
// statements. A piece that is not is parsed again with the next one; when
// that fails too, the region goes the scanned way.
func (f *File) parseUnscanned(r region) bool {
	var pieces []region
	start := r.start
	for _, cut := range pieceCuts(f.Src[r.start:r.end]) {
		pieces = append(pieces, region{start, r.start + cut})
		start = r.start + cut
	}
	if len(pieces) == 1 {
		p, ok := f.parsePiece(pieces[0], true)
		if ok {
			f.Statements = append(f.Statements, p.stmts...)
			f.Directives = append(f.Directives, p.dirs...)
		}
		return ok
	}
	// A streamed file parses a window of pieces at a time and hands each
	// over (flush); others parse all pieces at once.
	window := len(pieces)
	if f.out != nil {
		window = streamWindow * runtime.GOMAXPROCS(0)
	}
	nstmts, ndirs := len(f.Statements), len(f.Directives)
	for lo := 0; lo < len(pieces) && !f.stopped(); {
		hi := min(lo+window, len(pieces))
		parts := make([]unscannedPart, hi-lo)
		ok := make([]bool, hi-lo)
		onAllCores(hi-lo, func(i int) {
			parts[i], ok[i] = f.parsePiece(pieces[lo+i], lo+i == len(pieces)-1)
		})
		next := hi
		for i := lo; i < hi; i++ {
			p := parts[i-lo]
			if !ok[i-lo] {
				var good bool
				if i+1 < len(pieces) {
					p, good = f.parsePiece(region{pieces[i].start, pieces[i+1].end}, i+2 == len(pieces))
				}
				if !good {
					if f.out == nil {
						// The region goes the scanned way, whole.
						f.Statements, f.Directives = f.Statements[:nstmts], f.Directives[:ndirs]
						return false
					}
					// A streamed file handed the pieces before over already:
					// the rest goes the scanned way, which gives the same
					// statements as the whole region would from there, a
					// right piece's end being between statements.
					f.parseRegion(region{pieces[i].start, r.end}, true)
					return true
				}
				if i++; i >= hi {
					next = i + 1 // the next window's first piece went with it
				}
			}
			f.Statements = append(f.Statements, p.stmts...)
			f.Directives = append(f.Directives, p.dirs...)
		}
		f.flush()
		lo = next
	}
	return true
}

// pieceCuts returns where the pieces of a region end (see parseUnscanned):
// after a ";" that ends a line, every chunkBytes or so. A ";" between a
// dollar-quote tag and the same tag again is passed over: function bodies
// hold many. This reading is only a guess at where statements end, which
// parseUnscanned checks by parsing; a wrong guess costs a second parse.
func pieceCuts(text string) []int {
	var cuts []int
	last := 0  // the last cut
	open := "" // the dollar-quote tag the text is in, if any
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '$':
			tag := dollarTag(text[i:])
			if tag == "" {
				continue
			}
			if open == "" {
				open = tag
			} else if open == tag {
				open = ""
			}
			i += len(tag) - 1
		case ';':
			if open == "" && i+1 < len(text) && text[i+1] == '\n' && i+2-last >= chunkBytes && i+2 < len(text) {
				last = i + 2
				cuts = append(cuts, last)
			}
		}
	}
	return append(cuts, len(text))
}

// dollarTag returns the dollar-quote tag s starts with ("$$", "$body$"),
// or "".
func dollarTag(s string) string {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '$':
			return s[:i+1]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || i > 1 && c >= '0' && c <= '9':
		default:
			return ""
		}
	}
	return ""
}

type unscannedPart struct {
	stmts []*Statement
	dirs  []*Directive
}

// parsePiece parses one piece of a region; last says whether it ends the
// region (its last statement may then lack a ";").
func (f *File) parsePiece(p region, last bool) (unscannedPart, bool) {
	var out unscannedPart
	text := f.Src[p.start:p.end]
	trees, err := f.trees(text)
	if err != nil {
		return out, false
	}
	if !last && (len(trees) == 0 || trees[len(trees)-1].len == 0) {
		return out, false
	}
	// directives reads the directives of text between statements (the ";"
	// of empty statements, comments after the last one).
	directives := func(lo, hi int) bool {
		if !mayHoldDirective(f.Src[lo:hi]) {
			return true
		}
		toks, err := scan(f.Src[lo:hi], lo)
		if err != nil {
			return false
		}
		out.dirs = f.directivesIn(toks, out.dirs)
		return true
	}
	out.stmts = make([]*Statement, 0, len(trees))
	prev := p.start
	for _, t := range trees {
		lo := p.start + t.loc
		hi := p.end
		if t.len > 0 {
			hi = lo + t.len
		}
		if !directives(prev, lo) {
			return out, false
		}
		prev = hi
		c := &converter{f: f, base: p.start}
		src := f.Src[lo:hi]
		start, end := lo+firstNonBlank(src), lo+lastNonBlank(src)
		whole := start >= end || f.Src[end-1] == ';' || mayHoldDirective(src) || mayHoldLongIdent(src) || mayEndInComment(f.Src[lo:end])
		var toks []token
		if whole {
			if toks, err = scan(src, lo); err != nil {
				return out, false
			}
			out.dirs = f.directivesIn(toks, out.dirs)
			start, end = trimToTokens(toks, lo, hi)
			c.toks = toks
		} else {
			if s := f.Src[start:end]; strings.HasPrefix(s, "--") || strings.HasPrefix(s, "/*") {
				var ok bool
				if start, ok = f.firstToken(lo, hi); !ok {
					return out, false
				}
			}
			c.unscanned = region{lo, hi}
		}
		st := &Statement{Text: f.Src[start:end], Span: f.lines.span(start, end)}
		c.convert(t, st)
		if whole {
			st.LongIdents = longIdents(f, toksIn(toks, start, end))
		}
		out.stmts = append(out.stmts, st)
	}
	if !directives(prev, p.end) {
		return out, false
	}
	return out, true
}

// firstToken returns where the first token that is no comment starts in
// the range [lo, hi), which starts with a comment, scanning as little of
// it as it can: a prefix whose scan holds such a token ending before the
// cut (the comments before it are then whole). The first prefix tried
// ends a little after the lines that start with "--" or the first "*/";
// each next one is four times as long. A prefix that cuts a literal open
// is scanned again up to that literal. false when the range does not scan.
func (f *File) firstToken(lo, hi int) (int, bool) {
	src := f.Src[lo:hi]
	if i, ok := skipComments(src); ok {
		return lo + i, true
	}
	i := firstNonBlank(src)
	if strings.HasPrefix(src[i:], "/*") {
		if j := strings.Index(src[i:], "*/"); j >= 0 {
			i += j + 2
		}
	}
	for strings.HasPrefix(src[i:], "--") {
		j := strings.IndexByte(src[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		i += firstNonBlank(src[i:])
	}
	for n := i + 16; ; n *= 4 {
		cut := min(lo+n, hi)
		toks, err := scan(f.Src[lo:cut], lo)
		var pe *pgparser.Error
		if err != nil && cut < hi && errors.As(err, &pe) && pe.Cursorpos > 1 {
			cut = lo + charToByte(f.Src[lo:cut], pe.Cursorpos)
			toks, err = scan(f.Src[lo:cut], lo)
		}
		if err == nil {
			for _, t := range toks {
				if t.comment() {
					continue
				}
				if t.end < cut || cut == hi {
					return t.start, true
				}
				break
			}
		}
		if lo+n >= hi {
			return 0, false
		}
	}
}

// skipComments returns where the first token of s starts when only white
// space and comments, as PostgreSQL's scanner reads them, come before it:
// "--" to the end of the line, "/*" to the "*/" that closes it (they
// nest). false when s holds anything else before a token, which the
// scanner then reads: an unclosed comment, or white space the scanner
// may read otherwise than blank does (a vertical tab).
func skipComments(s string) (int, bool) {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case blank(c):
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexAny(s[i:], "\n\r")
			if j < 0 {
				return 0, false
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			depth := 0
			for {
				switch {
				case i >= len(s):
					return 0, false
				case strings.HasPrefix(s[i:], "/*"):
					depth++
					i += 2
					continue
				case strings.HasPrefix(s[i:], "*/"):
					depth--
					i += 2
				default:
					i++
					continue
				}
				if depth == 0 {
					break
				}
			}
		case c == '\v' || c >= 0x80:
			return 0, false
		default:
			return i, true
		}
	}
	return 0, false
}

// mayHoldDirective reports whether s may hold a directive comment.
func mayHoldDirective(s string) bool {
	return strings.Contains(s, "bgmigrate:") || strings.Contains(s, "squawk-ignore")
}

// mayEndInComment reports whether the last byte of s, which is not white
// space, may be in a comment: a "--" comment runs to the end of its line,
// and a "/*" one ends with "*/".
func mayEndInComment(s string) bool {
	return strings.HasSuffix(s, "*/") || strings.Contains(s[strings.LastIndexByte(s, '\n')+1:], "--")
}

// mayHoldLongIdent reports whether s may hold an identifier longer than
// PostgreSQL keeps: a run of more than maxIdentBytes identifier bytes, or
// more than maxIdentBytes between two double quotes. A quoted identifier
// holds only doubled quotes, so its opening and closing quotes are each in
// a run of an odd number of quotes; the distance is measured from the
// start of one such run to the end of the next.
func mayHoldLongIdent(s string) bool {
	if len(s) <= maxIdentBytes {
		return false
	}
	run, open := 0, -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] == '"' {
				j++
			}
			if (j-i)%2 == 1 {
				if open >= 0 && j-open > maxIdentBytes {
					return true
				}
				open = i
			}
			i, run = j-1, 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '$', c >= 0x80:
			if run++; run > maxIdentBytes {
				return true
			}
		default:
			run = 0
		}
	}
	return false
}

// blank reports whether PostgreSQL's scanner skips c as white space.
func blank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func firstNonBlank(s string) int {
	i := 0
	for i < len(s) && blank(s[i]) {
		i++
	}
	return i
}

// lastNonBlank returns the end of s without its trailing white space.
func lastNonBlank(s string) int {
	i := len(s)
	for i > 0 && blank(s[i-1]) {
		i--
	}
	return i
}
