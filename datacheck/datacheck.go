// Package datacheck counts the live rows a pending migration would fail
// on: NULLs under SET NOT NULL, duplicates under a unique index or
// constraint, orphans under a foreign key, rows a CHECK rejects, values a
// type change cannot convert, rows that leave a new NOT NULL column
// without a value.
//
// It works in two steps, plan as data and then act: ForSet reads the
// migrations and returns one Check per statement that can fail on
// existing rows, each with the read-only query that counts them; Count
// runs the queries, each in a READ ONLY transaction (so a read replica
// will do) under a statement_timeout, sampling the largest tables.
package datacheck

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kind names what a check counts.
type Kind string

const (
	KindNotNull    Kind = "not null"    // SET NOT NULL, a primary key's columns: rows with NULL
	KindCheck      Kind = "check"       // ADD or VALIDATE of a CHECK: rows it rejects
	KindUnique     Kind = "unique"      // a unique index or constraint, a primary key: rows with a duplicate
	KindForeignKey Kind = "foreign key" // ADD or VALIDATE of a foreign key: rows with no referenced row
	KindCast       Kind = "cast"        // ALTER COLUMN … TYPE: values that do not convert
	KindRows       Kind = "rows"        // ADD COLUMN … NOT NULL without a default: any row at all
)

// Check is one count to make: the rows of Table that make the statement
// at Path:Line fail.
type Check struct {
	Path      string
	Line      int
	Statement string // the statement's first line
	Kind      Kind
	Table     string // as the statement names it
	// What says in plain words what is counted, as a plural sentence
	// ("rows of users have name NULL"); Message puts the count before it.
	What string
	// SQL is the read-only query that counts the failing rows; it returns
	// one number. For a Convert check it runs the conversion on every row
	// instead, and fails when a row does not convert.
	SQL string
	// Sample is the same count over TABLESAMPLE SYSTEM ($1) of the table
	// (the percentage as $1); it returns the failing rows of the sample
	// and the rows the sample holds. "" when a sample would not scale
	// (duplicates are rare in a sample however common in the table).
	Sample string
	// Relation is the table as SQL, for its size estimate.
	Relation string
	// Convert marks a cast that is checked by running it: an error of the
	// data means at least one row fails, and nothing is counted.
	Convert bool
	// NeedsPG is the PostgreSQL major version SQL needs (16 for
	// pg_input_is_valid); on an older server Count counts Fallback instead.
	NeedsPG  int
	Fallback *Check
	// Skipped says why no count is made ("depends on rows written by line
	// 3"): counting the live rows would be wrong, or is not possible.
	Skipped string
}

// Where is Path:Line.
func (c Check) Where() string { return fmt.Sprintf("%s:%d", c.Path, c.Line) }

// Querier is what the counts run on: a *pgx.Conn, a *pgxpool.Pool or a
// pgx.Tx (whose counts then run in savepoints).
type Querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Options tune Count.
type Options struct {
	// Timeout is the statement_timeout of each count; default 30s. A
	// count that takes longer is reported as not checked.
	Timeout time.Duration
	// SampleAbove: a table whose estimated size (pg_class.reltuples) is
	// larger is counted on a TABLESAMPLE SYSTEM sample of about this many
	// rows and the count scaled (Result.Sampled); 0 never samples.
	SampleAbove int64
	// PGVersion is the server's major version; 0 asks the server.
	PGVersion int
}

// DefaultTimeout is the statement_timeout of a count when Options.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// Result is a count.
type Result struct {
	Check
	// Rows is the number of failing rows, an estimate when Sampled.
	Rows    int64
	Sampled bool
	// TimedOut says the count took longer than Options.Timeout; Err then
	// says so too.
	TimedOut bool
	// Err says why the count could not be made ("" when it was).
	Err string
	// Fails is PostgreSQL's error when a Convert check's conversion
	// failed on a row: at least one row fails.
	Fails string
	// Took is how long the count took.
	Took time.Duration
}

// Failing reports whether the statement is known to fail on the rows.
func (r Result) Failing() bool {
	return r.Skipped == "" && r.Err == "" && (r.Rows > 0 || r.Fails != "")
}

// Failing returns the results that say their statement would fail.
func Failing(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Failing() {
			out = append(out, r)
		}
	}
	return out
}

// Message says the result plainly:
//
//	003_users_not_null.sql:2 will fail: 50 rows of users have name NULL
//	003_users_not_null.sql:2 will fail: about 5000 rows of users have name NULL (sampled)
//	003_users_not_null.sql:2 not checked: the count took longer than 30s
//	003_users_not_null.sql:2: no rows of users have name NULL
func (r Result) Message() string {
	sampled := ""
	if r.Sampled {
		sampled = " (sampled)"
	}
	switch {
	case r.Skipped != "":
		return fmt.Sprintf("%s not checked: %s", r.Where(), r.Skipped)
	case r.Err != "":
		return fmt.Sprintf("%s not checked: %s", r.Where(), r.Err)
	case r.Fails != "":
		return fmt.Sprintf("%s will fail: at least one %s: %s%s", r.Where(), singular(r.What), r.Fails, sampled)
	case r.Rows == 0:
		return fmt.Sprintf("%s: no %s%s", r.Where(), r.What, sampled)
	}
	about := ""
	if r.Sampled {
		about = "about "
	}
	what := r.What
	if r.Rows == 1 && !r.Sampled {
		what = singular(what)
	}
	return fmt.Sprintf("%s will fail: %s%d %s%s", r.Where(), about, r.Rows, what, sampled)
}

// singular turns a What sentence to the singular: "rows of users have
// name NULL" → "row of users has name NULL". Every What starts with
// "rows of TABLE " and one of the verbs below.
func singular(what string) string {
	rest, ok := strings.CutPrefix(what, "rows of ")
	if !ok {
		return what
	}
	for _, v := range [][2]string{{" have ", " has "}, {" share ", " shares "}, {" fail ", " fails "}, {" would ", " would "}} {
		if i := strings.Index(rest, v[0]); i >= 0 {
			return "row of " + rest[:i] + v[1] + rest[i+len(v[0]):]
		}
	}
	return "row of " + rest
}
