package rules

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

// TableStats are what a live database says of a table's size: the
// figures PostgreSQL keeps for the planner, not a count.
type TableStats struct {
	// Rows is the row estimate of pg_class.reltuples (summed over the
	// partitions of a partitioned table); negative when the table has
	// rows but was never vacuumed or analyzed, so none is known.
	Rows float64
	// Bytes is pg_total_relation_size: the table, its indexes and its
	// TOAST (summed over the partitions of a partitioned table).
	Bytes int64
}

// Work is what a statement does to a table while it holds its lock, for
// the lock-duration model.
type Work int

const (
	// NoWork: the statement only changes the catalog, or its duration
	// does not depend on the table's size.
	NoWork Work = iota
	// ReadWork reads every row: a CHECK or foreign key validated, SET NOT
	// NULL.
	ReadWork
	// IndexWork reads and sorts every row into an index: CREATE INDEX,
	// REINDEX, ADD UNIQUE, PRIMARY KEY or EXCLUDE.
	IndexWork
	// RewriteWork writes the table anew and rebuilds its indexes: ALTER
	// COLUMN TYPE, a volatile default, VACUUM FULL, CLUSTER, SET TABLESPACE.
	RewriteWork
)

// The lock-duration model: a statement holds its lock for about the
// table's total size (TableStats.Bytes: heap, indexes and TOAST) divided by
// the throughput of its kind of work. Each figure is the slowest of its kind
// measured on the development machine (2 cores, PostgreSQL 15 with fsync on
// and default settings, a 1,000,000-row 117 MiB table in the page cache,
// other jobs running) by tablestats' BenchmarkThroughput, rounded down to a
// multiple of 16 MiB/s, so that the estimate leans long. Measured there:
// rewrites 13 to 95 MiB/s (a volatile uuid default slowest, then ALTER
// COLUMN TYPE and VACUUM FULL); index builds 62 to 220 MiB/s (an index on a
// text column and REINDEX slowest); reads 243 to 1000 MiB/s (a foreign key
// slowest, then SET NOT NULL and CHECK). Another server, a table not in
// memory, a busy or bloated one, or wide text keys can be several times off
// either way: the result is an estimate, an order of magnitude, never a
// promise.
const (
	RewriteBytesPerSecond = 16 << 20
	IndexBytesPerSecond   = 48 << 20
	ReadBytesPerSecond    = 192 << 20
)

// LockEstimate is the model's estimate of how long work on a table of size
// st holds its lock; 0 for NoWork.
func LockEstimate(st TableStats, w Work) time.Duration {
	var rate float64
	switch w {
	case ReadWork:
		rate = ReadBytesPerSecond
	case IndexWork:
		rate = IndexBytesPerSecond
	case RewriteWork:
		rate = RewriteBytesPerSecond
	default:
		return 0
	}
	return time.Duration(float64(st.Bytes) / rate * float64(time.Second))
}

// WorkOf is what s does to its table (Info.Table) under its lock.
func WorkOf(s *Stmt) Work {
	switch {
	case s.Info.Lock == phases.NoLock:
		return NoWork
	case s.Info.Rewrite:
		return RewriteWork
	case buildsIndex(s):
		return IndexWork
	case s.Info.Scan:
		return ReadWork
	}
	return NoWork
}

// buildsIndex reports whether s builds or rebuilds an index of its table.
func buildsIndex(s *Stmt) bool {
	switch n := s.Node.(type) {
	case *parser.CreateIndex, *parser.Reindex:
		return true
	case *parser.AlterTable:
		for _, c := range n.Cmds {
			if cd := c.ColumnDef; c.Op == parser.AddColumn && cd != nil && (cd.Unique || cd.PrimaryKey) {
				return true
			}
			if k := c.Constraint; c.Op == parser.AddConstraint && k != nil && k.UsingIndex == "" &&
				(k.Kind == parser.ConstraintUnique || k.Kind == parser.ConstraintPrimaryKey || k.Kind == parser.ConstraintExclusion) {
				return true
			}
		}
	}
	return false
}

// sizeFinding adds what the statistics say of the table of s to a finding
// of a size-aware rule: its size and the estimated lock duration in the
// message, and, with a threshold, the severity: info on a table smaller
// than it, error for a rewrite of one at least as large. A finding on a
// table without statistics is left as it is.
func sizeFinding(fd *Finding, p *Pass, s *Stmt) {
	key := sizedTable(p, s)
	st, ok := p.tables[key]
	if key == "" || !ok {
		return
	}
	fd.Message += sizeNote(key, st, s)
	fd.sized = true
	fd.Severity = sizedSeverity(fd.Severity, st, s.Info.Rewrite, p.smallRows)
}

// sizedSeverity is the severity of a finding on a table of size st.
func sizedSeverity(sev Severity, st TableStats, rewrite bool, small int) Severity {
	switch {
	case small <= 0 || st.Rows < 0:
		return sev
	case st.Rows < float64(small):
		return Info
	case rewrite:
		return Error
	}
	return sev
}

// sizedTable is the key (as parser.QName.Key) of the table whose size
// decides how long s holds its lock, "" when it is not known. It is the
// table the statement alters or indexes (for a foreign key, the
// referencing table, which is scanned, not the one phases names first)
// and, for REINDEX INDEX, the index's table.
func sizedTable(p *Pass, s *Stmt) string {
	switch n := s.Node.(type) {
	case *parser.AlterTable:
		return n.Table.Key()
	case *parser.CreateIndex:
		return n.Table.Key()
	case *parser.Reindex:
		if n.Target == "index" {
			if ix := p.Catalog.Index(n.Name); ix != nil {
				return ix.Table
			}
			return ""
		}
	}
	return strings.TrimPrefix(s.Info.Table, "public.")
}

// sizeNote is the text added to the message: " (users: about 1.2M rows,
// 340 MB; ACCESS EXCLUSIVE for about 4 s)". The duration is given for a
// statement whose work under its lock grows with the table.
func sizeNote(table string, st TableStats, s *Stmt) string {
	note := fmt.Sprintf(" (%s: %s, %s", table, rowsLabel(st.Rows), bytesLabel(st.Bytes))
	if w := WorkOf(s); w != NoWork {
		note += fmt.Sprintf("; %s for %s", s.Info.Lock, durationLabel(LockEstimate(st, w)))
	}
	return note + ")"
}

func rowsLabel(rows float64) string {
	switch r := math.Round(rows); {
	case rows < 0:
		return "rows unknown (never analyzed)"
	case r == 0:
		return "no rows"
	case r == 1:
		return "about 1 row"
	case r < 1000:
		return fmt.Sprintf("about %.0f rows", r)
	}
	return "about " + scaled(rows, 1000, []string{"k", "M", "B", "T"}, "") + " rows"
}

func bytesLabel(b int64) string {
	if b < 1024 {
		return fmt.Sprintf("%d bytes", b)
	}
	return scaled(float64(b), 1024, []string{"kB", "MB", "GB", "TB", "PB"}, " ")
}

// scaled prints v in the largest unit it reaches (each base times the
// one before), with one decimal below 10: 1.2M, 340 MB.
func scaled(v, base float64, units []string, sep string) string {
	i := 0
	v /= base
	for i < len(units)-1 && math.Round(v*10)/10 >= base {
		v /= base
		i++
	}
	if v < 9.95 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") + sep + units[i]
	}
	return fmt.Sprintf("%.0f", v) + sep + units[i]
}

func durationLabel(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "under 1 ms"
	case d < time.Second:
		return fmt.Sprintf("about %d ms", d.Round(time.Millisecond).Milliseconds())
	case d < time.Minute:
		return "about " + oneDecimal(d.Seconds()) + " s"
	case d < time.Hour:
		return "about " + oneDecimal(d.Minutes()) + " min"
	}
	return "about " + oneDecimal(d.Hours()) + " h"
}

// oneDecimal prints v with one decimal below 10 and none above.
func oneDecimal(v float64) string {
	if v < 9.95 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
	}
	return fmt.Sprintf("%.0f", v)
}
