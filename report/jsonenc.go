package report

import (
	"strconv"
	"unicode/utf8"
)

// The JSON printer appends the files, statements and findings itself,
// byte for byte as encoding/json with HTML escaping off writes them
// (TestAppendIsEncodingJSON): reflection cost the corpus run a twentieth
// of its time.

func appendFile(b []byte, f *File) []byte {
	b = appendFileHead(b, f)
	if f.from == nil && f.Statements == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		n := 0
		f.eachStatement(func(s Statement) {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = appendStatement(b, &s)
		})
		b = append(b, ']')
	}
	return appendFileTail(b, f)
}

// appendFileHead appends f up to its statements' value.
func appendFileHead(b []byte, f *File) []byte {
	b = append(b, `{"path":`...)
	b = appendString(b, f.Path)
	b = append(b, `,"format":`...)
	b = appendString(b, f.Format)
	b = append(b, `,"transaction":`...)
	b = appendString(b, f.Transaction)
	b = append(b, `,"class":`...)
	b = appendString(b, f.Class)
	b = append(b, `,"advice":`...)
	b = appendString(b, f.Advice)
	return append(b, `,"statements":`...)
}

// appendFileTail appends f from after its statements' value.
func appendFileTail(b []byte, f *File) []byte {
	b = append(b, `,"findings":`...)
	if f.Findings == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range f.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFinding(b, &f.Findings[i])
	}
	return append(b, "]}"...)
}

func appendStatement(b []byte, s *Statement) []byte {
	b = appendPlace(append(b, '{'), s.Line, s.Column, s.EndLine, s.EndColumn)
	b = append(b, `,"tag":`...)
	b = appendString(b, s.Tag)
	b = append(b, `,"class":`...)
	b = appendString(b, s.Class)
	if s.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, s.Reason)
	}
	b = append(b, `,"lock":`...)
	b = appendString(b, s.Lock)
	if s.Table != "" {
		b = append(b, `,"table":`...)
		b = appendString(b, s.Table)
	}
	b = append(b, `,"rewrite":`...)
	b = strconv.AppendBool(b, s.Rewrite)
	b = append(b, `,"scan":`...)
	b = strconv.AppendBool(b, s.Scan)
	return append(b, '}')
}

func appendFinding(b []byte, f *Finding) []byte {
	b = append(b, `{"rule":`...)
	b = appendString(b, f.Rule)
	b = append(b, `,"severity":`...)
	b = appendString(b, f.Severity)
	b = appendPlace(append(b, ','), f.Line, f.Column, f.EndLine, f.EndColumn)
	b = append(b, `,"message":`...)
	b = appendString(b, f.Message)
	b = append(b, `,"help":`...)
	b = appendString(b, f.Help)
	if f.Suppressed != nil {
		b = append(b, `,"suppressed":{"directive":`...)
		b = appendString(b, f.Suppressed.Directive)
		b = append(b, `,"justification":`...)
		b = appendString(b, f.Suppressed.Justification)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendPlace appends the line, column, end_line and end_column fields.
func appendPlace(b []byte, line, column, endLine, endColumn int) []byte {
	b = append(b, `"line":`...)
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(column), 10)
	b = append(b, `,"end_line":`...)
	b = strconv.AppendInt(b, int64(endLine), 10)
	b = append(b, `,"end_column":`...)
	return strconv.AppendInt(b, int64(endColumn), 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json does without HTML
// escaping: '"' and '\\' escaped, control characters as \b \f \n \r \t
// or \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and
// \u2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
