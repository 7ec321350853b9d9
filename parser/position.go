package parser

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Position is a place in a file. Line and Column are 1-based; Column counts
// Unicode characters (code points), not bytes. Offset is the 0-based byte offset.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Offset int `json:"-"`
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Span is a half-open byte range [Start, End) of a file with both ends resolved
// to lines and columns. End is the position just after the last character.
type Span struct {
	Start Position
	End   Position
}

// lineIndex maps byte offsets of one source text to positions.
type lineIndex struct {
	src    string
	starts []int // byte offset of the first byte of each line
}

func newLineIndex(src string) *lineIndex {
	starts := make([]int, 1, strings.Count(src, "\n")+1)
	for off := 0; ; {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
		starts = append(starts, off)
	}
	return &lineIndex{src: src, starts: starts}
}

// pos resolves a byte offset; offsets past the end are clamped.
func (li *lineIndex) pos(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(li.src) {
		off = len(li.src)
	}
	line := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	col := utf8.RuneCountInString(li.src[li.starts[line]:off]) + 1
	return Position{Line: line + 1, Column: col, Offset: off}
}

func (li *lineIndex) span(start, end int) Span {
	return Span{Start: li.pos(start), End: li.pos(end)}
}

// charToByte converts a 1-based character position inside s (as PostgreSQL
// reports cursor positions) into a 0-based byte offset.
func charToByte(s string, charPos int) int {
	if charPos <= 1 {
		return 0
	}
	// Step through characters as PostgreSQL does (pg_utf_mblen): by the
	// length the lead byte announces, so invalid UTF-8 counts the same.
	n, i := 0, 0
	for i < len(s) {
		if n == charPos-1 {
			return i
		}
		i += pgCharLen(s[i])
		n++
	}
	return len(s)
}

// pgCharLen is the length of the UTF-8 character led by b, as PostgreSQL
// counts it.
func pgCharLen(b byte) int {
	switch {
	case b&0x80 == 0:
		return 1
	case b&0xe0 == 0xc0:
		return 2
	case b&0xf0 == 0xe0:
		return 3
	case b&0xf8 == 0xf0:
		return 4
	}
	return 1
}

// LineText returns the text of the 1-based line without its line break.
func (f *File) LineText(line int) string {
	li := f.lines
	if line < 1 || line > len(li.starts) {
		return ""
	}
	start := li.starts[line-1]
	end := len(li.src)
	if line < len(li.starts) {
		end = li.starts[line] - 1
	}
	if end > start && li.src[end-1] == '\r' {
		end--
	}
	return li.src[start:end]
}

// Pos resolves a byte offset of the file to a position.
func (f *File) Pos(off int) Position { return f.lines.pos(off) }

// Span resolves the byte range [start, end) of the file.
func (f *File) Span(start, end int) Span { return f.lines.span(start, end) }
