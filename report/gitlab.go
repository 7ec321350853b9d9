package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// gitlabIssue is one entry of a GitLab Code Quality report (a subset of
// the Code Climate issue format that GitLab reads).
type gitlabIssue struct {
	Description string         `json:"description"`
	CheckName   string         `json:"check_name"`
	Fingerprint string         `json:"fingerprint"`
	Severity    string         `json:"severity"`
	Location    gitlabLocation `json:"location"`
}

type gitlabLocation struct {
	Path  string      `json:"path"`
	Lines gitlabLines `json:"lines"`
}

type gitlabLines struct {
	Begin int `json:"begin"`
}

// GitLab writes the unsuppressed findings as a GitLab Code Quality report:
// a JSON array, always an array even when empty. Fingerprints hash the
// rule, path, source line and message, not the line number, so a finding
// keeps its identity when lines above it move.
func GitLab(w io.Writer, r *Report) error {
	issues := []gitlabIssue{}
	fp := newFingerprinter()
	for _, f := range r.Files {
		path := slashPath(f.Path)
		for _, fd := range f.Findings {
			if fd.Suppressed != nil {
				continue
			}
			hash, _ := fp.next(fd, path)
			issues = append(issues, gitlabIssue{
				Description: fd.Rule + ": " + fd.Message,
				CheckName:   fd.Rule,
				Fingerprint: hash,
				Severity:    gitlabSeverity(fd.Severity, f.Class),
				Location:    gitlabLocation{Path: path, Lines: gitlabLines{Begin: max(fd.Line, 1)}},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(issues)
}

// gitlabSeverity maps a finding's severity to GitLab's scale. An error in a
// file that would break the running color (breaking or mixed) is critical.
func gitlabSeverity(sev, class string) string {
	switch sev {
	case "error":
		if class == "breaking" || class == "mixed" {
			return "critical"
		}
		return "major"
	case "warning":
		return "minor"
	}
	return "info"
}

// fingerprinter gives findings stable identities: a SHA-256 of the rule,
// the slash path, the trimmed source line and the message. Findings that
// share all four get an occurrence counter, in report order, so that
// fingerprints are unique within a report.
type fingerprinter struct {
	seen map[string]int
}

func newFingerprinter() *fingerprinter { return &fingerprinter{seen: map[string]int{}} }

// next returns the finding's fingerprint (hex) and its occurrence number
// (1 for the first finding with this content).
func (p *fingerprinter) next(fd Finding, path string) (string, int) {
	key := strings.Join([]string{fd.Rule, path, strings.TrimSpace(fd.LineText), fd.Message}, "\x00")
	p.seen[key]++
	n := p.seen[key]
	if n > 1 {
		key += "\x00" + strconv.Itoa(n)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:]), n
}
