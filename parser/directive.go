package parser

import (
	"sort"
	"strings"
	"unicode"
)

// Directive is an instruction to bgmigrate written in a comment:
//
//	-- bgmigrate:ignore rule-a, rule-b -- reason      (the next statement)
//	-- bgmigrate:ignore-file rule-a -- reason         (the whole file)
//	-- bgmigrate:phase expand|contract -- reason      (the file when it comes before the first statement, else the next statement)
//	-- bgmigrate:backfill table=t batch=1000 sleep=100ms
//	-- squawk-ignore rule-a, rule-b                   (Squawk's form, honoured as is)
//	-- squawk-ignore-file rule-a
type Directive struct {
	Source string // "bgmigrate" or "squawk"
	Kind   string // "ignore", "ignore-file", "phase", "backfill"
	Rules  []string
	Phase  string
	Args   map[string]string
	Reason string
	Span   Span
	// Stmt is the index in File.Statements of the statement the directive
	// applies to: the first one after it; -1 when none follows.
	Stmt int
	// Problem says what is wrong with a malformed directive.
	Problem string

	header bool // before the first statement
}

// FileWide reports whether the directive applies to the whole file.
func (d *Directive) FileWide() bool {
	return d.Kind == "ignore-file" || (d.Kind == "phase" && d.Stmt == 0 && d.header)
}

func (f *File) readDirectives(toks []token) {
	f.Directives = f.directivesIn(toks, f.Directives)
}

// directivesIn appends to out the directives in the comments among toks.
func (f *File) directivesIn(toks []token, out []*Directive) []*Directive {
	for _, t := range toks {
		if !t.comment() {
			continue
		}
		text := f.Src[t.start:t.end]
		body := ""
		if strings.HasPrefix(text, "--") {
			body = strings.TrimSpace(text[2:])
		} else {
			body = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(text, "/*"), "*/"))
		}
		if d := parseDirective(body); d != nil {
			d.Span = f.lines.span(t.start, t.end)
			out = append(out, d)
		}
	}
	return out
}

// parseDirective reads the text of one comment; nil when it is no directive.
func parseDirective(body string) *Directive {
	var d *Directive
	switch {
	case strings.HasPrefix(body, "bgmigrate:"):
		d = &Directive{Source: "bgmigrate"}
		body = body[len("bgmigrate:"):]
	case strings.HasPrefix(body, "squawk-ignore"):
		d = &Directive{Source: "squawk"}
		body = body[len("squawk-"):]
	default:
		return nil
	}
	verb, rest, _ := strings.Cut(body, " ")
	rest, reason, _ := strings.Cut(rest, "--")
	d.Reason = strings.TrimSpace(reason)
	rest = strings.TrimSpace(rest)
	d.Kind = strings.TrimSpace(verb)
	switch d.Kind {
	case "ignore", "ignore-file":
		for _, r := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			d.Rules = append(d.Rules, strings.ToLower(r))
		}
		if len(d.Rules) == 0 {
			d.Problem = "names no rule"
		}
	case "phase":
		if d.Source != "bgmigrate" {
			d.Problem = "unknown directive"
			break
		}
		d.Phase = strings.ToLower(rest)
		if d.Phase != "expand" && d.Phase != "contract" {
			d.Problem = `phase must be "expand" or "contract"`
		}
	case "backfill":
		d.Args = map[string]string{}
		for _, kv := range strings.Fields(rest) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				d.Problem = "argument " + kv + " is not key=value"
				continue
			}
			d.Args[k] = v
		}
	default:
		d.Problem = "unknown directive " + `"` + d.Kind + `"`
	}
	return d
}

func (f *File) attachDirectives() {
	sort.SliceStable(f.Directives, func(i, j int) bool {
		return f.Directives[i].Span.Start.Offset < f.Directives[j].Span.Start.Offset
	})
	for _, d := range f.Directives {
		off := d.Span.End.Offset
		d.Stmt = sort.Search(len(f.Statements), func(i int) bool { return f.Statements[i].Span.Start.Offset >= off })
		if d.Stmt == len(f.Statements) {
			d.Stmt = -1
		}
		d.header = d.Stmt == 0
	}
}
