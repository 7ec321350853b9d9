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
	Transaction string      `json:"transaction"`
	Class       string      `json:"class"`
	Advice      string      `json:"advice"`
	Statements  []Statement `json:"statements"`
	Findings    []Finding   `json:"findings"`
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
		Class: res.Class.String(), Advice: res.Class.Advice(), Statements: make([]Statement, 0, len(res.Stmts)), Findings: make([]Finding, 0, len(res.Findings))}
	for _, s := range res.Stmts {
		if s.Parent != nil {
			continue
		}
		f.Statements = append(f.Statements, Statement{
			Line: s.Span.Start.Line, Column: s.Span.Start.Column, EndLine: s.Span.End.Line, EndColumn: s.Span.End.Column,
			Tag: s.Tag, Class: s.Class.String(), Reason: s.Info.Reason, Lock: s.Info.Lock.String(), Table: s.Info.Table,
			Rewrite: s.Info.Rewrite, Scan: s.Info.Scan,
		})
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
