package report

import (
	"fmt"
	"io"
	"strings"
)

// GitHub writes one GitHub Actions workflow command per unsuppressed
// finding, which the runner turns into an annotation on the pull request:
//
//	::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=RULE::MESSAGE
//
// Warnings become ::warning and infos ::notice. Columns are given only for
// findings on one line, the only ones GitHub places by column.
func GitHub(w io.Writer, r *Report) error {
	bw := &errWriter{w: w}
	for _, f := range r.Files {
		path := slashPath(f.Path)
		for _, fd := range f.Findings {
			if fd.Suppressed != nil {
				continue
			}
			props := []string{"file=" + githubProperty(path)}
			if fd.Line >= 1 {
				props = append(props, fmt.Sprintf("line=%d", fd.Line))
				if fd.EndLine == fd.Line && fd.Column >= 1 {
					props = append(props, fmt.Sprintf("col=%d", fd.Column))
				}
				if fd.EndLine >= fd.Line {
					props = append(props, fmt.Sprintf("endLine=%d", fd.EndLine))
				}
				if fd.EndLine == fd.Line && fd.Column >= 1 && fd.EndColumn >= fd.Column {
					props = append(props, fmt.Sprintf("endColumn=%d", fd.EndColumn))
				}
			}
			props = append(props, "title="+githubProperty(fd.Rule))
			bw.printf("::%s %s::%s\n", githubCommand(fd.Severity), strings.Join(props, ","), githubData(fd.Message))
		}
	}
	return bw.err
}

// StepSummary writes the Markdown summary of the run for
// $GITHUB_STEP_SUMMARY: the same summary as a pull-request comment.
func StepSummary(w io.Writer, r *Report) error {
	return writeMarkdown(w, r, false)
}

func githubCommand(severity string) string {
	switch severity {
	case "error":
		return "error"
	case "warning":
		return "warning"
	}
	return "notice"
}

// githubData escapes a workflow command's message, as the runner's
// toolkit does, after writing control characters visibly (see visible).
func githubData(s string) string {
	return visible(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s))
}

// githubProperty escapes a workflow command's property value: as data,
// and ":" and "," too.
func githubProperty(s string) string {
	return visible(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s))
}
