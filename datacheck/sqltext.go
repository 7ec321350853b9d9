package datacheck

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

// The statement model leaves out a few clauses the counts need: the WHERE
// of a partial index, NULLS NOT DISTINCT, the table of COPY and MERGE.
// They are read from the statement's text with a small scanner that knows
// PostgreSQL's quoting, so nothing inside a string, a quoted identifier, a
// comment or parentheses is mistaken for a keyword.

// word is a token of the statement text at parenthesis depth 0: a keyword
// or identifier (Quoted for "…"), or one character of punctuation.
type word struct {
	Text   string
	Quoted bool
	Start  int // byte offset in the text
}

// topWords returns the tokens of text outside parentheses, strings and
// comments.
func topWords(text string) []word {
	var out []word
	depth := 0
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(text)
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			i = skipComment(text, i)
		case c == '\'':
			i = skipString(text, i, false)
		case c == '$':
			if tag, ok := dollarTag(text[i:]); ok {
				if j := strings.Index(text[i+len(tag):], tag); j >= 0 {
					i += len(tag) + j + len(tag)
				} else {
					i = len(text)
				}
				continue
			}
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(text) {
				if text[j] == '"' {
					if j+1 < len(text) && text[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(text[j])
				j++
			}
			if depth == 0 {
				out = append(out, word{Text: b.String(), Quoted: true, Start: i})
			}
			i = j + 1
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(text) && isIdentPart(text[j]) {
				j++
			}
			if j < len(text) && text[j] == '\'' && j == i+1 && (c == 'e' || c == 'E') {
				i = skipString(text, j, true) // E'…', with backslash escapes
				continue
			}
			if depth == 0 {
				out = append(out, word{Text: text[i:j], Start: i})
			}
			i = j
		default:
			if depth == 0 {
				out = append(out, word{Text: text[i : i+1], Start: i})
			}
			i++
		}
	}
	return out
}

func skipComment(text string, i int) int {
	depth := 0
	for i < len(text) {
		switch {
		case strings.HasPrefix(text[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(text[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

func skipString(text string, i int, backslash bool) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			if backslash {
				j++
			}
		case '\'':
			if j+1 < len(text) && text[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(text)
}

// dollarTag returns the $tag$ that s starts with.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		if s[j] == '$' {
			return s[:j+1], true
		}
		if !isIdentPart(s[j]) || (j == 1 && s[j] >= '0' && s[j] <= '9') {
			return "", false
		}
	}
	return "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }

func (w word) is(kw string) bool { return !w.Quoted && strings.EqualFold(w.Text, kw) }

// name folds an identifier as PostgreSQL does: lower case unless quoted.
func (w word) name() string {
	if w.Quoted {
		return w.Text
	}
	return strings.ToLower(w.Text)
}

// indexWhere returns the predicate of a partial CREATE INDEX: the text
// after its WHERE, which is the last clause of the statement.
func indexWhere(text string) (string, bool) {
	for _, w := range topWords(text) {
		if w.is("where") {
			return strings.TrimSpace(text[w.Start+len("where"):]), true
		}
	}
	return "", false
}

// nullsNotDistinct reports whether the statement says NULLS NOT DISTINCT
// (PostgreSQL 15+) outside parentheses or inside the ones of a constraint.
func nullsNotDistinct(text string) bool {
	f := strings.Fields(strings.ToLower(text))
	for i := 0; i+2 < len(f); i++ {
		if f[i] == "nulls" && f[i+1] == "not" && strings.HasPrefix(f[i+2], "distinct") {
			return true
		}
	}
	return false
}

// copyTable returns the table a COPY … FROM writes; ok is false for
// COPY … TO or a COPY of a query.
func copyTable(text string) (parser.QName, bool) {
	ws := topWords(text)
	if len(ws) < 2 || !ws[0].is("copy") {
		return parser.QName{}, false
	}
	q, rest := qname(ws[1:])
	for _, w := range rest {
		if w.is("from") {
			return q, q.Name != ""
		}
		if w.is("to") {
			return parser.QName{}, false
		}
	}
	return parser.QName{}, false
}

// mergeTable returns the target table of MERGE INTO.
func mergeTable(text string) (parser.QName, bool) {
	ws := topWords(text)
	if len(ws) < 3 || !ws[0].is("merge") || !ws[1].is("into") {
		return parser.QName{}, false
	}
	rest := ws[2:]
	if len(rest) > 0 && rest[0].is("only") {
		rest = rest[1:]
	}
	q, _ := qname(rest)
	return q, q.Name != ""
}

// qname reads a possibly qualified name from the start of ws.
func qname(ws []word) (parser.QName, []word) {
	if len(ws) == 0 || (!ws[0].Quoted && !isIdentStart(ws[0].Text[0])) {
		return parser.QName{}, ws
	}
	if len(ws) >= 3 && ws[1].Text == "." && !ws[1].Quoted {
		return parser.QName{Schema: ws[0].name(), Name: ws[2].name()}, ws[3:]
	}
	return parser.QName{Name: ws[0].name()}, ws[1:]
}
