package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/bgmigrate/bgmigrate/rules"
)

// TextOptions control the text printer.
type TextOptions struct {
	Color bool
	// Quiet leaves out suppressed findings (they are never printed as
	// problems) and the per-file class lines of files with no finding.
	Quiet bool
}

type palette struct{ bold, red, yellow, blue, cyan, green, magenta, dim, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{"\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[36m", "\x1b[32m", "\x1b[35m", "\x1b[2m", "\x1b[0m"}
}

// Text writes findings in the style of a compiler: the position, the
// severity and rule, the message, the source line with a marker and the
// help; then the class of every file and a summary line.
func Text(w io.Writer, results []*rules.FileResult, opts TextOptions) error {
	p := colors(opts.Color)
	bw := &errWriter{w: w}
	for _, res := range results {
		for _, fd := range res.Findings {
			if fd.Suppressed != nil {
				continue
			}
			sevColor := map[rules.Severity]string{rules.Error: p.red, rules.Warning: p.yellow, rules.Info: p.blue}[fd.Severity]
			bw.printf("%s%s:%d:%d:%s %s%s%s %s[%s]%s %s\n", p.bold, visible(fd.Path), fd.Span.Start.Line, fd.Span.Start.Column, p.reset,
				sevColor+p.bold, fd.Severity, p.reset, p.dim, fd.Rule, p.reset, visible(fd.Message))
			line := res.File.LineText(fd.Span.Start.Line)
			if line != "" {
				num := fmt.Sprint(fd.Span.Start.Line)
				pad := strings.Repeat(" ", len(num))
				bw.printf("%s %s|%s\n", pad, p.cyan, p.reset)
				bw.printf("%s%s |%s %s\n", p.cyan, num, p.reset, visible(expandTabs(line)))
				bw.printf("%s %s|%s %s%s%s\n", pad, p.cyan, p.reset, sevColor, marker(line, fd), p.reset)
			}
			if fd.Help != "" {
				// The explain page, before the command that fixes it when
				// there is one.
				help, run, _ := strings.Cut(fd.Help, "; run: ")
				help += "; details: bgmigrate explain " + fd.Rule
				if run != "" {
					help += "; run: " + run
				}
				bw.printf("%s %s=%s %shelp:%s %s\n", strings.Repeat(" ", len(fmt.Sprint(fd.Span.Start.Line))), p.cyan, p.reset, p.bold, p.reset, visible(help))
			}
			bw.printf("\n")
		}
	}
	counts := map[string]int{}
	for _, res := range results {
		class := res.Class.String()
		counts[class]++
		if opts.Quiet && len(unsuppressed(res.Findings)) == 0 {
			continue
		}
		classColor := map[string]string{"expand": p.green, "contract": p.yellow, "mixed": p.red, "breaking": p.red}[class]
		bw.printf("%s: %s%s%s: %s\n", visible(res.File.Path), classColor+p.bold, class, p.reset, res.Class.Advice())
	}
	rep := Build(results)
	bw.printf("\n%s: %d expand, %d contract, %d mixed, %d breaking; %s, %s, %s",
		plural(rep.Summary.Files, "file"), counts["expand"], counts["contract"], counts["mixed"], counts["breaking"],
		plural(rep.Summary.Errors, "error"), plural(rep.Summary.Warnings, "warning"), plural(rep.Summary.Infos, "info"))
	if rep.Summary.Suppressed > 0 {
		bw.printf(" (%d suppressed)", rep.Summary.Suppressed)
	}
	bw.printf("\n")
	return bw.err
}

func unsuppressed(fs []rules.Finding) []rules.Finding {
	var out []rules.Finding
	for _, f := range fs {
		if f.Suppressed == nil {
			out = append(out, f)
		}
	}
	return out
}

// marker underlines the finding on its first line, in characters.
func marker(line string, fd rules.Finding) string {
	start := fd.Span.Start.Column - 1
	end := utf8.RuneCountInString(line)
	if fd.Span.End.Line == fd.Span.Start.Line && fd.Span.End.Column-1 > start {
		end = fd.Span.End.Column - 1
	}
	if end <= start {
		end = start + 1
	}
	var b strings.Builder
	i := 0
	for _, r := range line {
		if i >= start {
			break
		}
		switch {
		case r == '\t':
			b.WriteString("    ")
		case control(r):
			b.WriteString(strings.Repeat(" ", len(visible(string(r)))))
		default:
			b.WriteByte(' ')
		}
		i++
	}
	b.WriteString(strings.Repeat("^", end-start))
	return b.String()
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
