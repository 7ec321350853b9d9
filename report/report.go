// Package report turns lint results into output: one printer per format,
// all fed from the same data.
package report

import (
	"runtime"
	"sync"

	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/rules"
)

// Report is the stable, documented shape of a lint run (the JSON output).
type Report struct {
	Version int     `json:"version"`
	Files   []File  `json:"files"`
	Summary Summary `json:"summary"`
}

// File is one migration.
type File struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Transaction is how the tool runs the file: "transaction", "implicit" or "none".
	Transaction string `json:"transaction"`
	Class       string `json:"class"`
	Advice      string `json:"advice"`
	// Statements are left nil by Build for a file of more than
	// eagerStatements statements, whose list (AllStatements) would cost
	// more memory than the rest of the report: JSON writes it as it goes.
	Statements []Statement `json:"statements"`
	Findings   []Finding   `json:"findings"`

	from *rules.FileResult // a file whose Statements are left to AllStatements
}

// eagerStatements is the most statements Build lists in File.Statements.
var eagerStatements = 4096

// AllStatements returns the file's statements, Statements or, when Build
// left them out, made now.
func (f *File) AllStatements() []Statement {
	if f.from == nil {
		return f.Statements
	}
	out := make([]Statement, 0, len(f.from.Top))
	f.eachStatement(func(s Statement) { out = append(out, s) })
	return out
}

// eachStatement calls fn with each statement of f in order.
func (f *File) eachStatement(fn func(Statement)) {
	if f.from == nil {
		for _, s := range f.Statements {
			fn(s)
		}
		return
	}
	for _, s := range f.from.Top {
		fn(statementOf(f.from, s))
	}
}

// Statement is one top-level statement with what it does to a live database.
type Statement struct {
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
	Tag       string `json:"tag"`
	Class     string `json:"class"`
	Reason    string `json:"reason,omitempty"`
	Lock      string `json:"lock"`
	Table     string `json:"table,omitempty"`
	Rewrite   bool   `json:"rewrite"`
	Scan      bool   `json:"scan"`
}

// Finding is one reported problem.
type Finding struct {
	Rule       string       `json:"rule"`
	Severity   string       `json:"severity"`
	Line       int          `json:"line"`
	Column     int          `json:"column"`
	EndLine    int          `json:"end_line"`
	EndColumn  int          `json:"end_column"`
	Message    string       `json:"message"`
	Help       string       `json:"help"`
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// LineText is the source line the finding starts on; printers use it
	// for fingerprints that survive lines moving. Not part of the JSON.
	LineText string `json:"-"`
}

// Suppression records the directive that silenced a finding.
type Suppression struct {
	Directive     string `json:"directive"`
	Justification string `json:"justification"`
}

// Summary counts findings and files.
type Summary struct {
	Files      int            `json:"files"`
	Errors     int            `json:"errors"`
	Warnings   int            `json:"warnings"`
	Infos      int            `json:"infos"`
	Suppressed int            `json:"suppressed"`
	Classes    map[string]int `json:"classes"`
	// WorstClass is the class of the riskiest file: breaking, mixed,
	// contract or expand ("expand" for no file).
	WorstClass string `json:"worst_class"`
}

// Build converts lint results into a Report.
func Build(results []*rules.FileResult) *Report {
	r := &Report{Version: 1, Files: make([]File, len(results)), Summary: Summary{Classes: map[string]int{}}}
	// Files are built on all cores (a large run has thousands), then counted.
	workers := runtime.GOMAXPROCS(0)
	per := (len(results) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := min(w*per, len(results)), min((w+1)*per, len(results))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				r.Files[i] = buildFile(results[i])
			}
		})
	}
	wg.Wait()
	worst := phases.Expand
	for i, res := range results {
		for _, fd := range res.Findings {
			if fd.Suppressed != nil {
				r.Summary.Suppressed++
				continue
			}
			switch fd.Severity {
			case rules.Error:
				r.Summary.Errors++
			case rules.Warning:
				r.Summary.Warnings++
			case rules.Info:
				r.Summary.Infos++
			}
		}
		r.Summary.Classes[r.Files[i].Class]++
		if res.Class > worst {
			worst = res.Class
		}
	}
	r.Summary.Files = len(r.Files)
	r.Summary.WorstClass = worst.String()
	return r
}

func buildFile(res *rules.FileResult) File {
	f := File{Path: res.File.Path, Format: string(res.File.Format), Transaction: string(res.File.Tx),
		Class: res.Class.String(), Advice: res.Class.Advice(), Findings: make([]Finding, 0, len(res.Findings))}
	if len(res.Top) > eagerStatements {
		f.from = res
	} else {
		f.Statements = make([]Statement, 0, len(res.Top))
		for _, s := range res.Top {
			f.Statements = append(f.Statements, statementOf(res, s))
		}
	}
	for _, fd := range res.Findings {
		out := Finding{Rule: fd.Rule, Severity: fd.Severity.String(), Line: fd.Span.Start.Line, Column: fd.Span.Start.Column,
			EndLine: fd.Span.End.Line, EndColumn: fd.Span.End.Column, Message: fd.Message, Help: fd.Help,
			LineText: res.File.LineText(fd.Span.Start.Line)}
		if fd.Suppressed != nil {
			out.Suppressed = &Suppression{Directive: fd.Suppressed.Directive, Justification: fd.Suppressed.Justification}
		}
		f.Findings = append(f.Findings, out)
	}
	return f
}

func statementOf(res *rules.FileResult, s rules.Summary) Statement {
	span := res.Span(s)
	return Statement{
		Line: span.Start.Line, Column: span.Start.Column, EndLine: span.End.Line, EndColumn: span.End.Column,
		Tag: s.Tag(), Class: s.Class().String(), Reason: s.Reason(), Lock: s.Lock().String(), Table: s.Table(),
		Rewrite: s.Rewrite, Scan: s.Scan,
	}
}
