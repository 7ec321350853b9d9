// Package rules holds the catalog of migration checks and the driver that
// runs them over parsed migrations. A rule is a value: it reports findings
// through its Pass and never prints, sorts, filters or reads configuration.
package rules

import (
	"encoding/json"
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
)

// Severity is how serious a finding is.
type Severity int

const (
	Info Severity = iota + 1
	Warning
	Error
)

var severityNames = map[Severity]string{Info: "info", Warning: "warning", Error: "error"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	for k, v := range severityNames {
		if v == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Rule is one check.
type Rule struct {
	// ID is stable, lower-case and dash-separated; Squawk's id where the
	// check is the same.
	ID string
	// Summary is one line: what the rule flags.
	Summary string
	// Help is the one-line fix printed under each finding.
	Help string
	// Doc explains why, the lock taken, whether the table is rewritten, and
	// the safe recipe with before/after SQL (Markdown).
	Doc      string
	Severity Severity
	// Style rules are opt-in.
	Style bool
	// MinPG and MaxPG bound the PostgreSQL major versions the rule applies
	// to; 0 means no bound.
	MinPG, MaxPG int
	// Since is the bgmigrate version that introduced the rule.
	Since string
	// Splits is set when bgmigrate split turns the statements the rule
	// reports into expand and contract migrations: the help of each
	// finding ends with the command.
	Splits bool
	// SizeAware is set when the rule's findings are about how long the
	// statement locks, scans or rewrites its table, which the table's size
	// decides: with Config.Tables the driver adds the size and an estimated
	// lock duration to the message, and Config.SmallTableRows sets the
	// severity.
	SizeAware bool

	// Stmt is called for every statement, nested ones included, with the
	// catalog as it was just before the statement.
	Stmt func(p *Pass, s *Stmt)
	// File is called once per file after its statements, with the catalog
	// as it is after the file.
	File func(p *Pass)
}

// AppliesTo reports whether the rule is meant for PostgreSQL major version v.
func (r *Rule) AppliesTo(v int) bool {
	return (r.MinPG == 0 || v >= r.MinPG) && (r.MaxPG == 0 || v <= r.MaxPG)
}

// URL is where the rule's documentation lives.
func (r *Rule) URL() string {
	return "https://github.com/bgmigrate/bgmigrate/blob/main/docs/rules.md#" + r.ID
}

// Finding is one reported problem.
type Finding struct {
	Rule     string
	Severity Severity
	Path     string
	Span     parser.Span
	Message  string
	Help     string
	// Suppressed holds the reason when a directive in the file silenced
	// the finding; suppressed findings are kept for SARIF.
	Suppressed *Suppression
	stmt       int // index of the top-level statement, -1 for the file
	sized      bool
}

// Sized reports whether the finding carries its table's size and
// estimated lock duration, read from a live database (Config.Tables).
func (f Finding) Sized() bool { return f.sized }

// Suppression says how a finding was silenced.
type Suppression struct {
	Directive     string
	Justification string
}
