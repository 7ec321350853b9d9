package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bgmigrate/bgmigrate/rules"
)

// markdownMaxFindings caps the findings table so that a comment stays
// within what GitHub and GitLab accept.
const markdownMaxFindings = 50

// MarkdownMarker opens every pull-request comment written by Markdown, so
// that a bot can find and update its earlier comment.
const MarkdownMarker = "<!-- bgmigrate:report -->"

// Markdown writes the summary for a pull-request comment: totals, the
// migrations with their blue-green class and finding counts, then the
// unsuppressed findings, errors first, capped at 50 rows.
func Markdown(w io.Writer, r *Report) error {
	return writeMarkdown(w, r, true)
}

func writeMarkdown(w io.Writer, r *Report, marker bool) error {
	bw := &errWriter{w: w}
	if marker {
		bw.printf("%s\n", MarkdownMarker)
	}
	bw.printf("## bgmigrate\n\n")
	s := r.Summary
	classes := make([]string, 0, 4)
	for _, c := range []string{"expand", "contract", "mixed", "breaking"} {
		classes = append(classes, fmt.Sprintf("%d %s", s.Classes[c], c))
	}
	bw.printf("**%s**: %s · **%s**, %s, %s",
		plural(s.Files, "migration"), strings.Join(classes, ", "),
		plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"))
	if s.Suppressed > 0 {
		bw.printf(" (%d suppressed)", s.Suppressed)
	}
	bw.printf("\n\n")

	if len(r.Files) > 0 {
		bw.printf("| Migration | Class | Errors | Warnings | Infos |\n|---|---|---:|---:|---:|\n")
		for _, f := range r.Files {
			var n [3]int
			for _, fd := range f.Findings {
				if fd.Suppressed != nil {
					continue
				}
				switch fd.Severity {
				case "error":
					n[0]++
				case "warning":
					n[1]++
				default:
					n[2]++
				}
			}
			bw.printf("| %s | %s | %d | %d | %d |\n", mdCode(slashPath(f.Path)), mdCell(classLabel(f.Class)), n[0], n[1], n[2])
		}
		bw.printf("\n")
	}

	type row struct {
		path string
		fd   Finding
	}
	var rows []row
	for _, f := range r.Files {
		for _, fd := range f.Findings {
			if fd.Suppressed == nil {
				rows = append(rows, row{slashPath(f.Path), fd})
			}
		}
	}
	if len(rows) == 0 {
		bw.printf("No findings.\n")
		return bw.err
	}
	sort.SliceStable(rows, func(i, j int) bool { return severityRank(rows[i].fd.Severity) > severityRank(rows[j].fd.Severity) })
	total := len(rows)
	if total > markdownMaxFindings {
		rows = rows[:markdownMaxFindings]
	}
	bw.printf("### Findings\n\n| Location | Severity | Rule | Message |\n|---|---|---|---|\n")
	for _, rw := range rows {
		rule := mdCode(rw.fd.Rule)
		if rr := rules.ByID(rw.fd.Rule); rr != nil {
			rule = "[" + rule + "](" + rr.URL() + ")"
		}
		bw.printf("| %s | %s | %s | %s |\n", mdCode(fmt.Sprintf("%s:%d", rw.path, rw.fd.Line)), rw.fd.Severity, rule, mdCell(rw.fd.Message))
	}
	if total > len(rows) {
		bw.printf("\n_Showing %d of %d findings, errors first; the job log has them all._\n", len(rows), total)
	}
	return bw.err
}

// classLabel says what a file class means for the deploy.
func classLabel(class string) string {
	switch class {
	case "expand":
		return "expand — runs before the switch"
	case "contract":
		return "contract — waits until the old color is retired"
	case "breaking":
		return "breaking — must be split"
	case "mixed":
		return "mixed — must be split"
	case "none":
		return "none — no schema change"
	}
	return class
}

func severityRank(s string) int {
	switch s {
	case "error":
		return 3
	case "warning":
		return 2
	case "info":
		return 1
	}
	return 0
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// mdCell escapes text for a table cell: pipes, HTML and line breaks.
func mdCell(s string) string {
	return visible(strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\r\n", "<br>", "\n", "<br>", "\r", "<br>").Replace(s))
}

// mdCode puts text in a code span inside a table cell.
func mdCode(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
