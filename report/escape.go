package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// control reports whether r is a control character a terminal or a log
// viewer may act on: C0 (but tab and newline), DEL and C1. An escape
// sequence in a file name or a migration's text must not recolour, move
// the cursor or retitle the window of whoever reads the report.
func control(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f
}

// visible writes control characters as Go escapes (ESC as \x1b, C1 as
// \u009b) and bytes that are not UTF-8 as \xNN, leaving the rest as it is.
func visible(s string) string {
	clean := true
	for i, r := range s {
		if control(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r < 0x80 && control(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case control(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
