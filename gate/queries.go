package gate

import (
	"fmt"
	"strings"
)

// Check names of the colors' queries.
const (
	CheckQueriesOld = "queries-old-color"
	CheckQueriesNew = "queries-new-color"
)

// Query is one query of a color, as its source gave it.
type Query struct {
	// Source says where it came from: "queries.sql:12", "pg_stat_statements".
	Source string
	SQL    string
}

// QueryFailure is a query that no longer prepares, or whose result
// columns change, at a schema a color will meet.
type QueryFailure struct {
	Query  Query
	Error  string
	Schema string // "the schema it will meet", "after the contract migrations"
	// Migration is the one after which it fails ("003 (db/003_x.sql)"),
	// "" when it fails from the start of that schema.
	Migration string
	// ResultChanged: it still prepares, but its result columns differ: a
	// statement the color prepared before fails with "cached plan must not
	// change result type".
	ResultChanged bool
}

// QueryReport is what the colors' queries met on the replayed schemas
// (gathered by gate/live).
type QueryReport struct {
	// Old and New are how many queries of each color were prepared.
	Old, New int
	// OldNotPrepared counts the old color's queries that do not prepare on
	// its own schema either: they are not checked (a query the schema
	// never served, or a source that is not SQL of this database).
	OldNotPrepared int
	OldFailures    []QueryFailure // at the schema the old color will meet
	// OldAfterContract are the old color's failures once the contract
	// migrations ran: what a rollback to it would meet.
	OldAfterContract []QueryFailure
	NewFailures      []QueryFailure // at the schema the new color will meet, and after the contract
}

// checkQueries turns the query report into checks: a failure of the old
// color's queries at the schema it will meet blocks the switch; one of the
// new color's blocks both stages; the old color's failures after the
// contract block the pre-contract stage while the old color may still
// take traffic (a rollback target), and are reported otherwise.
func checkQueries(in Input) []Check {
	q := in.Queries
	if q == nil {
		return nil
	}
	var out []Check
	if q.Old > 0 || q.OldNotPrepared > 0 {
		var fails []Check
		if in.Stage == PreSwitch {
			for _, f := range q.OldFailures {
				fails = append(fails, Check{Name: CheckQueriesOld, Status: Block, Reason: "the old color's " + f.describe()})
			}
		} else {
			status := Risk
			if standby(in) {
				status = Block
			}
			for _, f := range q.OldAfterContract {
				fails = append(fails, Check{Name: CheckQueriesOld, Status: status, Reason: "a rollback to the old color would fail: its " + f.describe()})
			}
		}
		reason := fmt.Sprintf("%d queries of the old color prepare at the schema it will meet", q.Old-q.OldNotPrepared)
		if in.Stage == PreContract {
			reason = fmt.Sprintf("%d queries of the old color checked after the contract migrations", q.Old-q.OldNotPrepared)
		}
		if q.OldNotPrepared > 0 {
			reason += fmt.Sprintf(" (%d did not prepare on its own schema either and were not checked)", q.OldNotPrepared)
		}
		out = append(out, passIf(CheckQueriesOld, fails, reason)...)
	}
	if q.New > 0 {
		var fails []Check
		for _, f := range q.NewFailures {
			fails = append(fails, Check{Name: CheckQueriesNew, Status: Block, Reason: "the new color's " + f.describe()})
		}
		out = append(out, passIf(CheckQueriesNew, fails, fmt.Sprintf("%d queries of the new color prepare at the schema it will meet and after the contract migrations", q.New))...)
	}
	return out
}

// standby reports whether a color other than the live one may still take
// traffic: the state has a rollback target.
func standby(in Input) bool {
	if in.State == nil {
		return false
	}
	target, _, _ := RollbackTarget(Facts{Migrations: in.Migrations, History: in.History, Retirements: in.Retirements, State: in.State})
	return target != nil
}

func (f QueryFailure) describe() string {
	first := strings.TrimSpace(f.Query.SQL)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i] + " …"
	}
	where := f.Schema
	if f.Migration != "" {
		where += " (since migration " + f.Migration + ")"
	}
	if f.ResultChanged {
		return fmt.Sprintf("query %q (%s) returns other columns %s: %s; a statement it prepared before fails with \"cached plan must not change result type\"", first, f.Query.Source, where, f.Error)
	}
	return fmt.Sprintf("query %q (%s) fails %s: %s", first, f.Query.Source, where, f.Error)
}
