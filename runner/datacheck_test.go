package runner_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

// usersWithNulls is a migration of 1000 users, 50 of them without a name.
const usersWithNulls = "CREATE TABLE users (id bigint PRIMARY KEY, name text, legacy text);\nINSERT INTO users SELECT g, CASE WHEN g % 20 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 1000) g;\n"

// contract declares a migration a contract one, so the runner applies it.
const contract = "-- bgmigrate:phase contract -- release 2 writes every name and no longer reads legacy\n"

// columns lists the columns of users.
func columns(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	return scalar[string](t, conn, "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'users'")
}

// A migration that would fail on the live rows is refused before any of
// it runs: nothing applied, nothing recorded; once a statement before the
// failing one fixes the rows, it runs.
func TestDataChecksRefuseMigration(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, map[string]string{"001_users.sql": usersWithNulls})
	checks := &runner.DataChecks{}
	if _, err := migrate(t, conn, dir, runner.Options{DataChecks: checks}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "002_name.sql", contract+"ALTER TABLE users DROP COLUMN legacy;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n")
	var log bytes.Buffer
	res, err := migrate(t, conn, dir, runner.Options{DataChecks: checks, Force: true, Reason: "test", Log: &log})
	var dc *runner.DataCheckError
	if !errors.As(err, &dc) || len(dc.Failing) != 1 || dc.Path != dir+"/002_name.sql" {
		t.Fatalf("got %v, want a DataCheckError", err)
	}
	if want := "002_name.sql:3 will fail: 50 rows of users have name NULL"; !strings.Contains(err.Error(), want) {
		t.Errorf("the error does not name the count %q: %v", want, err)
	}
	if len(res.Applied) != 0 {
		t.Errorf("applied %v", res.Applied)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v", got)
	}
	if got := columns(t, conn); got != "id,name,legacy" {
		t.Errorf("part of the refused migration ran: users has %s", got)
	}
	// The migration fixes its rows first: the count of line 2 would be
	// wrong, so it is not made, and the migration runs.
	writeFile(t, dir, "002_name.sql", contract+"UPDATE users SET name = '' WHERE name IS NULL;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n")
	log.Reset()
	if _, err := migrate(t, conn, dir, runner.Options{DataChecks: checks, Force: true, Reason: "test", Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "002_name.sql:3 not checked: depends on rows written by line 2") {
		t.Errorf("the log does not say why line 2 was not counted:\n%s", log.String())
	}
}

// Without DataChecks nothing is counted: the statement fails as it did.
func TestDataChecksOff(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, map[string]string{"001_users.sql": usersWithNulls,
		"002_name.sql": "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n"})
	_, err := migrate(t, conn, dir, runner.Options{Force: true, Reason: "test"})
	var se *runner.StatementError
	if !errors.As(err, &se) || se.Line != 1 || !strings.Contains(err.Error(), "contains null values") {
		t.Fatalf("got %v, want the statement's own error", err)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v", got)
	}
}

// The counts run on the replica when there is one: here a second
// database, whose rows differ from the primary's.
func TestDataChecksOnReplica(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	replica := pgtest.Conn(t)
	if _, err := replica.Exec(context.Background(), "CREATE TABLE users (id bigint PRIMARY KEY, name text);\nINSERT INTO users SELECT g, CASE WHEN g <= 7 THEN NULL ELSE 'n' END FROM generate_series(1, 100) g;"); err != nil {
		t.Fatal(err)
	}
	dir := writeMigrations(t, map[string]string{"001_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, name text);\nINSERT INTO users VALUES (1, 'a');\n"})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "002_name.sql", "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n")
	_, err := migrate(t, conn, dir, runner.Options{DataChecks: &runner.DataChecks{Replica: replica}, Force: true, Reason: "test"})
	if err == nil || !strings.Contains(err.Error(), "002_name.sql:1 will fail: 7 rows of users have name NULL") {
		t.Fatalf("got %v, want the replica's count", err)
	}
	if _, err := migrate(t, conn, dir, runner.Options{DataChecks: &runner.DataChecks{}, Force: true, Reason: "test"}); err != nil {
		t.Fatalf("on the primary: %v", err)
	}
}

// A rerun does not count the statements an earlier run finished: the
// ADD COLUMN … NOT NULL that ran on an empty table would fail now that it
// has rows, but it does not run again.
func TestDataChecksSkipFinishedUnits(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, map[string]string{
		"001_items.sql": "CREATE TABLE items (id bigint PRIMARY KEY);\n",
		"002_c.sql":     contract + "ALTER TABLE items ADD COLUMN c int NOT NULL;\nCREATE INDEX CONCURRENTLY items_c_idx ON items (c);\n",
	})
	stop := errors.New("stopped after the first unit")
	func() {
		defer func() {
			if r := recover(); r != stop {
				t.Fatalf("the run did not stop at the failpoint: %v", r)
			}
		}()
		_, err := migrate(t, conn, dir, runner.Options{DataChecks: &runner.DataChecks{}, Force: true, Reason: "test",
			Failpoint: func(name string) {
				if name == "migrate:after-unit" {
					panic(stop)
				}
			}})
		t.Fatalf("the run went on: %v", err)
	}()
	if _, err := conn.Exec(context.Background(), "INSERT INTO items VALUES (1, 1)"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := migrate(t, conn, dir, runner.Options{DataChecks: &runner.DataChecks{}, Force: true, Reason: "test", Log: &log}); err != nil {
		t.Fatalf("rerun: %v\n%s", err, log.String())
	}
	if strings.Contains(log.String(), "data check") {
		t.Errorf("a finished unit was counted:\n%s", log.String())
	}
}
