package gate

import "fmt"

// Check names of what the pending migrations will meet in the live
// database.
const (
	CheckData       = "data"
	CheckTableSizes = "table-sizes"
)

// DataReport is what counting the live rows found for the pending
// migrations (gathered by gate/live): the rows each statement that can
// fail on existing rows would fail on.
type DataReport struct {
	// Checked is how many counts were made.
	Checked int
	// Failing are the statements known to fail, NotChecked the counts
	// that could not be made (a timeout, an error).
	Failing    []DataFinding
	NotChecked []DataFinding
}

// DataFinding is one count's outcome, said plainly.
type DataFinding struct {
	// Version is the migration the statement belongs to.
	Version string
	// Message: "db/003_x.sql:2 will fail: 50 rows of users have name NULL".
	Message string
}

// SizedFinding is a lint finding about how long a pending migration's
// statement locks, scans or rewrites its table, with the table's size and
// the estimated lock duration read from the live database's statistics
// (lint's size-aware rules, with rules.small_table_rows applied).
type SizedFinding struct {
	Severity string // "error", "warning" or "info"
	Message  string // "path:line:col: message (users: about 1.2M rows, ...) [rule]"
}

// pendingBlocks reports whether a problem of pending migration m (a
// failing count, a lock too long) blocks the stage: a migration the new
// color needs blocks the switch, a contract one blocks the pre-contract
// stage and is a risk before the switch (it waits for the old color's
// retirement, and the rows can still be fixed by then).
func pendingBlocks(in Input, m Migration) bool {
	return in.Stage == PreContract || !isContract(m)
}

// checkData turns the data report into checks.
func checkData(in Input) []Check {
	r := in.Data
	if r == nil {
		return nil
	}
	byVersion := map[string]Migration{}
	for _, m := range in.Migrations {
		byVersion[m.Version] = m
	}
	var out []Check
	for _, f := range r.Failing {
		m := byVersion[f.Version]
		c := Check{Name: CheckData, Status: Block, Reason: f.Message}
		if !pendingBlocks(in, m) {
			c.Status = Risk
			c.Reason += "; it is a contract migration: fix those rows before it runs"
		}
		out = append(out, c)
	}
	for _, f := range r.NotChecked {
		out = append(out, Check{Name: CheckData, Status: Risk, Reason: f.Message})
	}
	if len(out) > 0 {
		return out
	}
	return []Check{{Name: CheckData, Status: Pass, Reason: fmt.Sprintf("%d counts of the live rows: no pending migration would fail on them", r.Checked)}}
}

// checkTableSizes reports the size-aware findings of the pending
// migrations: an error (a rewrite of a large table) blocks like a failing
// count, a warning is a risk; info findings (small tables) pass.
func checkTableSizes(in Input) []Check {
	if !in.Sized {
		return nil
	}
	applied := appliedMap(in.History)
	var out []Check
	n := 0
	for _, m := range in.Migrations {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		for _, f := range m.Sized {
			n++
			switch {
			case f.Severity == "error" && pendingBlocks(in, m):
				out = append(out, Check{Name: CheckTableSizes, Status: Block, Reason: f.Message})
			case f.Severity == "error" || f.Severity == "warning":
				out = append(out, Check{Name: CheckTableSizes, Status: Risk, Reason: f.Message})
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	if n == 0 {
		return []Check{{Name: CheckTableSizes, Status: Pass, Reason: "no pending statement holds a lock for a time that grows with its table"}}
	}
	return []Check{{Name: CheckTableSizes, Status: Pass, Reason: fmt.Sprintf("the %d pending statements whose lock grows with their table touch only small tables", n)}}
}
