// Package twocolor proves a schema change safe for a blue-green deploy
// against real PostgreSQL: an old color of an application (the previous
// release) and a new color (the next release) read and write the same
// rows while the change is applied, and the harness counts what each
// color saw.
//
// One Run is one Kind applied one way (a Mode), on this timeline:
//
//	schema of the previous release, seeded rows
//	old color starts                       (inserts, updates, deletes, reads)
//	  expand: split's expand migrations through bgmigrate migrate expand
//	          (Unsplit: the breaking migration as written; Pgroll: pgroll start)
//	new color starts                       (as a blue-green deploy does after expand)
//	  both colors run for Config.Window
//	old color stops; the rows are checked  (old and new columns agree)
//	  the data fixes the split's notes ask for (Kind.Fix)
//	  contract: bgmigrate retire, bgmigrate migrate contract (Pgroll: pgroll complete)
//	new color runs for Config.Tail, stops; the rows are checked again
//	the schema is compared with the breaking migration applied as written
//
// Every operation of either color is timed and its error kept. Each row
// has an in-process lock and a model of its last committed value, so a
// read of either color that does not see the last write of the other, or
// a row whose columns disagree, is counted rather than guessed at.
//
// Traffic goes only to the loopback addresses (or a Unix socket) of the
// database the caller gives, at a bounded rate for a bounded time.
package twocolor

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Mode says how a Kind's schema change is applied.
type Mode string

// Modes.
const (
	// Split: bgmigrate split --write, then migrate expand, retire and
	// migrate contract, each through the bgmigrate command line in process.
	Split Mode = "split"
	// Unsplit: the breaking migration as written, statement by statement
	// with no lock_timeout (as psql -f would), while the old color runs.
	Unsplit Mode = "unsplit"
	// Pgroll: pgroll's equivalent operation; start while the old color
	// runs, complete after it stopped.
	Pgroll Mode = "pgroll"
)

// Config is what a Run needs besides its Kind.
type Config struct {
	// URL is an empty database for the run, on a loopback address.
	URL string
	// ExpectURL is a second empty database: the breaking migration is
	// applied there as written, with no traffic, for the catalog check.
	ExpectURL string
	// Dir is a work directory: the migrations are written to Dir/db.
	Dir string
	// Rows seeded in the table under test (default 2000).
	Rows int
	// Rate is each color's operations per second (default 250).
	Rate int
	// Conns is each color's pool size (default 8).
	Conns int
	// Warmup: the old color alone before the change (default 300ms).
	Warmup time.Duration
	// Window: both colors together after expand (default 2s).
	Window time.Duration
	// Tail: the new color alone after the contract (default 500ms).
	Tail time.Duration
	// LockTimeout is bgmigrate's lock_timeout (default 2s, the runner's);
	// no write may take longer than it plus 100ms.
	LockTimeout time.Duration
	// OpTimeout is each operation's client timeout (default 10s), longer
	// than any lock wait the run is to measure.
	OpTimeout time.Duration
	// Pgroll is the pgroll binary for Mode Pgroll.
	Pgroll string
	// Log, when set, gets each step's output as it runs.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Rows == 0 {
		c.Rows = 2000
	}
	if c.Rate == 0 {
		c.Rate = 250
	}
	if c.Conns == 0 {
		c.Conns = 8
	}
	def(&c.Warmup, 300*time.Millisecond)
	def(&c.Window, 2*time.Second)
	def(&c.Tail, 500*time.Millisecond)
	def(&c.LockTimeout, 2*time.Second)
	def(&c.OpTimeout, 10*time.Second)
	return c
}

// StallLimit is the longest a write may take: lock_timeout + 100ms.
func (c Config) StallLimit() time.Duration {
	return c.withDefaults().LockTimeout + 100*time.Millisecond
}

// Result is what one Run saw.
type Result struct {
	Kind string
	Mode Mode
	// Skipped says why the run did not happen (no pgroll equivalent, no
	// pgroll binary); the other fields are then empty.
	Skipped string
	// Old and New are the two colors' figures.
	Old, New Stats
	// Expand is how long the change took while the old color ran (the
	// split and migrate expand, the migration as written, pgroll start);
	// Contract how long the rest took (the fix, retire and migrate
	// contract, pgroll complete), 0 when it was not tried.
	Expand, Contract time.Duration
	// Steps are the migration steps in the order they ran.
	Steps []Step
	// Files are the split's migrations (Mode Split), as written.
	Files []File
	// Violations counts the rows the old color left that the new schema
	// refuses, before Kind.Fix ran (Mode Split); -1 when not counted.
	Violations int64
	// Window is the row check at the end of the two-color window, Final
	// the one after the contract (the new color alone).
	Window, Final RowCheck
	// SchemaDiff lists the catalog differences from the breaking
	// migration applied as written; empty when they are equal.
	SchemaDiff []string
	// SchemaNote says how the catalogs were compared (modulo a name).
	SchemaNote string
	// StallLimit is lock_timeout + 100ms of the run.
	StallLimit time.Duration
}

// Step is one migration step: a bgmigrate or pgroll command, or the
// breaking migration sent as is.
type Step struct {
	Name string
	Took time.Duration
	Err  error
	// Output is what the step printed.
	Output string
}

// File is one migration the split wrote.
type File struct {
	Path    string // relative to Config.Dir
	Phase   string
	Content string
}

// Stats are one color's figures.
type Stats struct {
	// Ops is every operation sent; Writes and Reads split it.
	Ops, Writes, Reads int
	// Rate is Ops per second over the color's run.
	Rate float64
	// Failed counts the operations that returned an error; FailedAfter
	// those of them that ended after the contract started.
	Failed, FailedAfter int
	// Anomalies are reads that did not return the row's last committed
	// value, and writes that found no row where one was committed.
	Anomalies int
	// MaxWrite is the worst write latency, counted from when the write was
	// due (a write waiting for a connection counts); P99Write its 99th
	// percentile.
	MaxWrite, P99Write time.Duration
	// Errors are the distinct error messages, the most frequent first,
	// each with its count.
	Errors []Count
	// AnomalyExamples are the first few anomalies.
	AnomalyExamples []string
}

// Count is a message and how often it came.
type Count struct {
	Message string
	N       int
}

// RowCheck compares every row as each color reads it with the other
// color and with the last committed write.
type RowCheck struct {
	// Rows is how many rows were compared.
	Rows int
	// Mismatched counts the rows where a color's value differs from the
	// other color's or from the last committed write.
	Mismatched int
	Examples   []string
	// Err says why a color could not read the rows at all.
	Err string
}

// OK reports whether the check found nothing wrong.
func (c RowCheck) OK() bool { return c.Err == "" && c.Mismatched == 0 }

func (c RowCheck) String() string {
	switch {
	case c.Err != "":
		return "error"
	case c.Mismatched > 0:
		return fmt.Sprintf("%d of %d differ", c.Mismatched, c.Rows)
	}
	return fmt.Sprintf("ok (%d)", c.Rows)
}

// Problems lists what breaks the proof: a failed migration step, a failed
// statement of either color, a lost update, a write slower than
// StallLimit, a catalog different from the breaking migration's. A
// Split run must have none.
func (r *Result) Problems() []string {
	if r.Skipped != "" {
		return nil
	}
	var out []string
	for _, s := range r.Steps {
		if s.Err != nil {
			out = append(out, fmt.Sprintf("step %s failed: %v", s.Name, s.Err))
		}
	}
	for _, c := range r.colors() {
		if c.s.Failed > 0 {
			out = append(out, fmt.Sprintf("%s color: %d of %d operations failed (%d after the contract started): %s", c.name, c.s.Failed, c.s.Ops, c.s.FailedAfter, c.s.firstError()))
		}
		if c.s.Anomalies > 0 {
			out = append(out, fmt.Sprintf("%s color: %d lost or unseen writes: %s", c.name, c.s.Anomalies, strings.Join(c.s.AnomalyExamples, "; ")))
		}
		if c.s.MaxWrite > r.StallLimit {
			out = append(out, fmt.Sprintf("%s color: a write took %s, over lock_timeout + 100ms = %s", c.name, Dur(c.s.MaxWrite), Dur(r.StallLimit)))
		}
	}
	for _, c := range []struct {
		name string
		c    RowCheck
	}{{"at the end of the two-color window", r.Window}, {"after the contract", r.Final}} {
		if c.c.Err != "" {
			out = append(out, fmt.Sprintf("row check %s: %s", c.name, c.c.Err))
		}
		if c.c.Mismatched > 0 {
			out = append(out, fmt.Sprintf("row check %s: %d of %d rows differ: %s", c.name, c.c.Mismatched, c.c.Rows, strings.Join(c.c.Examples, "; ")))
		}
	}
	if len(r.SchemaDiff) > 0 {
		out = append(out, "schema differs from the breaking migration's:\n  "+strings.Join(r.SchemaDiff, "\n  "))
	}
	return out
}

// Failures counts what the application or the deploy would have suffered:
// failed operations of both colors, lost or unseen writes, and failed
// migration steps.
func (r *Result) Failures() int {
	n := r.Old.Failed + r.New.Failed + r.Old.Anomalies + r.New.Anomalies
	for _, s := range r.Steps {
		if s.Err != nil {
			n++
		}
	}
	return n
}

type namedStats struct {
	name string
	s    Stats
}

func (r *Result) colors() []namedStats { return []namedStats{{"old", r.Old}, {"new", r.New}} }

func (s Stats) firstError() string {
	if len(s.Errors) == 0 {
		return ""
	}
	return fmt.Sprintf("%s (×%d)", s.Errors[0].Message, s.Errors[0].N)
}

// Dur prints a duration for the tables: 0.41ms, 12ms, 2.051s.
func Dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
}
