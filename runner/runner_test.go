package runner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv("BGMIGRATE_RUNNER_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(pgtest.Run(m))
}

// child is the runner as a separate process, so tests can kill it.
func child() int {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("BGMIGRATE_RUNNER_DSN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	migs, err := runner.Load(ctx, os.Getenv("BGMIGRATE_RUNNER_DIR"), rules.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = runner.Migrate(ctx, conn, migs, runner.Options{Phase: runner.PhaseAll, Log: os.Stderr, LockTimeout: time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func startChild(t *testing.T, dsn, dir string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BGMIGRATE_RUNNER_CHILD=1", "BGMIGRATE_RUNNER_DSN="+dsn, "BGMIGRATE_RUNNER_DIR="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &out
}

func writeMigrations(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func migrate(t *testing.T, conn *pgx.Conn, dir string, opts runner.Options) (*runner.Result, error) {
	t.Helper()
	migs, err := runner.Load(context.Background(), dir, rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if opts.Log == nil {
		opts.Log = &log
	}
	res, err := runner.Migrate(context.Background(), conn, migs, opts)
	if testing.Verbose() {
		t.Log(log.String())
	}
	return res, err
}

func history(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	hist, err := runner.History(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range hist {
		out = append(out, h.Version+":"+h.Phase)
	}
	return out
}

func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// waitFor polls until cond holds or fails the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var basic = map[string]string{
	"001_users.sql":    "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text, legacy text);\nINSERT INTO users (email, legacy) SELECT 'u' || g, 'x' FROM generate_series(1, 50) g;\n",
	"002_bio.sql":      "ALTER TABLE users ADD COLUMN bio text;\nCREATE INDEX CONCURRENTLY users_bio_idx ON users (bio);\n",
	"003_backfill.sql": "-- bgmigrate:backfill table=users batch=7\nUPDATE users SET bio = email;\n",
	"004_drop.sql":     "-- bgmigrate:phase contract -- release 2 stopped reading legacy\nALTER TABLE users DROP COLUMN legacy;\n",
}

func TestExpandThenContractAfterRetire(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, basic)
	res, err := migrate(t, conn, dir, runner.Options{Phase: runner.PhaseExpand})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 3 || len(res.Skipped) != 1 {
		t.Fatalf("applied %v, skipped %v", res.Applied, res.Skipped)
	}
	if got := scalar[int](t, conn, "SELECT count(*) FROM users WHERE bio = email"); got != 50 {
		t.Errorf("backfill updated %d rows, want 50", got)
	}
	if !scalar[bool](t, conn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_bio_idx'::regclass") {
		t.Error("index is not valid")
	}
	// The old color is still a rollback target: contract is refused.
	_, err = migrate(t, conn, dir, runner.Options{Phase: runner.PhaseContract})
	var gate *runner.ContractGateError
	if !errors.As(err, &gate) {
		t.Fatalf("contract before retirement: %v, want ContractGateError", err)
	}
	if scalar[int](t, conn, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'legacy'") != 1 {
		t.Fatal("the contract migration ran although it was refused")
	}
	if err := runner.Retire(context.Background(), conn, "blue", "test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t, conn, dir, runner.Options{Phase: runner.PhaseContract}); err != nil {
		t.Fatal(err)
	}
	want := []string{"001:expand", "002:expand", "003:expand", "004:contract"}
	if got := history(t, conn); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("history %v, want %v", got, want)
	}
	// A changed checksum of an applied migration is an error.
	if err := os.WriteFile(filepath.Join(dir, "002_bio.sql"), []byte("ALTER TABLE users ADD COLUMN bio2 text;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = migrate(t, conn, dir, runner.Options{})
	var sum *runner.ChecksumError
	if !errors.As(err, &sum) || !strings.Contains(err.Error(), "002_bio.sql") {
		t.Errorf("changed migration: %v, want ChecksumError naming the file", err)
	}
}

func TestForcedContractIsRecorded(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, basic)
	if _, err := migrate(t, conn, dir, runner.Options{Phase: runner.PhaseExpand}); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(t, conn, dir, runner.Options{Phase: runner.PhaseContract, Force: true, Reason: "blue crashed for good"}); err != nil {
		t.Fatal(err)
	}
	if got := scalar[string](t, conn, "SELECT forced_reason FROM bgmigrate.history WHERE version = '004'"); got != "blue crashed for good" {
		t.Errorf("forced reason %q not recorded", got)
	}
}

func TestFailingStatementLeavesNothing(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, map[string]string{
		"001_t.sql":   "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t VALUES (1, NULL);\n",
		"002_bad.sql": "ALTER TABLE t ADD COLUMN w int;\nINSERT INTO t VALUES (1, 2);\n",
	})
	_, err := migrate(t, conn, dir, runner.Options{})
	var se *runner.StatementError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want StatementError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "002_bad.sql:2") || !strings.Contains(msg, "duplicate key") {
		t.Errorf("message does not name the file, line and server error: %s", msg)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v, want only 001", got)
	}
	if scalar[int](t, conn, "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'w'") != 0 {
		t.Error("the failed file's first statement was not rolled back")
	}
}

func TestLintErrorsStopTheRun(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	dir := writeMigrations(t, map[string]string{
		"001_t.sql":      "CREATE TABLE t (id int PRIMARY KEY, name text);\n",
		"002_rename.sql": "ALTER TABLE t RENAME COLUMN name TO full_name;\n",
	})
	_, err := migrate(t, conn, dir, runner.Options{})
	var le *runner.LintError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "renaming-column") {
		t.Fatalf("got %v, want a LintError naming renaming-column", err)
	}
	if got := history(t, conn); len(got) != 0 {
		t.Errorf("history %v, want nothing applied", got)
	}
}

// TestLockTimeoutRetriesAndNamesTheBlocker: a long transaction holds a lock
// on the table; the runner's DDL never waits longer than lock_timeout per
// try, readers keep being served between tries, and the error names the
// blocking backend.
func TestLockTimeoutRetriesAndNamesTheBlocker(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{"001_t.sql": "CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t SELECT generate_series(1, 10);\n"})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	blocker := connect(t, url)
	tx, err := blocker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), "SELECT count(*) FROM t"); err != nil {
		t.Fatal(err)
	}
	blockerPID := blocker.PgConn().PID()

	// A reader that keeps querying while the runner retries.
	reader := connect(t, url)
	var reads atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := reader.Exec(ctx, "SELECT count(*) FROM t"); err == nil {
				reads.Add(1)
			}
			cancel()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	writeFile(t, dir, "002_col.sql", "ALTER TABLE t ADD COLUMN v int;\n")
	_, err = migrate(t, conn, dir, runner.Options{LockTimeout: 200 * time.Millisecond, Retries: 2, Backoff: 100 * time.Millisecond})
	close(stop)
	<-done
	var lt *runner.LockTimeoutError
	if !errors.As(err, &lt) {
		t.Fatalf("got %v, want LockTimeoutError", err)
	}
	if lt.Tries != 3 {
		t.Errorf("tries %d, want 3", lt.Tries)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", blockerPID)) {
		t.Errorf("the error does not name the blocker pid %d: %v", blockerPID, err)
	}
	if reads.Load() < 5 {
		t.Errorf("readers were starved: only %d reads went through during the retries", reads.Load())
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v", got)
	}
}

func TestTwoRunnersAtOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_slow.sql": "CREATE TABLE t (id int);\nSELECT pg_sleep(3);\n",
	})
	cmd, out := startChild(t, url, dir)
	waitFor(t, 10*time.Second, "the first runner to hold the lock", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(3)%'") > 0
	})
	_, err := migrate(t, conn, dir, runner.Options{})
	var locked *runner.LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second runner: %v, want LockedError naming the holder", err)
	}
	// With --lock-wait the second runner waits, then finds nothing to do.
	res, err := migrate(t, conn, dir, runner.Options{LockWait: true, LockWaitTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first runner: %v\n%s", err, out)
	}
	if len(res.Applied) != 0 {
		t.Errorf("the waiting runner applied %v again", res.Applied)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v", got)
	}
}

// TestKilledMidTransactionalFile: SIGKILL in the middle of a file that runs
// in one transaction: nothing of it stays, and a rerun applies it once.
func TestKilledMidTransactionalFile(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_a.sql": "CREATE TABLE a (id int);\nSELECT pg_sleep(30);\nCREATE TABLE b (id int);\n",
	})
	cmd, _ := startChild(t, url, dir)
	waitFor(t, 10*time.Second, "the runner to sleep mid-file", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'") > 0
	})
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	// The server notices the dead client and rolls back.
	waitFor(t, 10*time.Second, "the killed runner's session to end", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bgmigrate' AND pid <> pg_backend_pid()") == 0
	})
	if n := scalar[int](t, conn, "SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')"); n != 0 {
		t.Fatalf("%d tables of the killed transaction remain", n)
	}
	if got := history(t, conn); len(got) != 0 {
		t.Fatalf("history %v after the kill, want nothing", got)
	}
	writeFile(t, dir, "001_a.sql", "CREATE TABLE a (id int);\nSELECT pg_sleep(0);\nCREATE TABLE b (id int);\n")
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v", got)
	}
}

// TestKilledDuringConcurrentIndex: the runner dies while CREATE INDEX
// CONCURRENTLY waits; the INVALID index it leaves is dropped and rebuilt by
// the rerun, and the statements before it are not run twice.
func TestKilledDuringConcurrentIndex(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_t.sql": "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;\n",
	})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "002_idx.sql", "INSERT INTO t VALUES (1001, 1001);\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n")
	// An open writing transaction makes the concurrent build wait for it,
	// after the index is already in the catalog as INVALID.
	blocker := connect(t, url)
	tx, err := blocker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "UPDATE t SET v = v WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	cmd, _ := startChild(t, url, dir)
	waitFor(t, 15*time.Second, "the concurrent build to leave an invalid index", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_v_idx') AND NOT indisvalid") > 0
	})
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	_ = tx.Rollback(context.Background())
	waitFor(t, 10*time.Second, "the killed runner's session to end", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bgmigrate' AND pid <> pg_backend_pid()") == 0
	})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if !scalar[bool](t, conn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_idx'::regclass") {
		t.Error("the rebuilt index is not valid")
	}
	if n := scalar[int](t, conn, "SELECT count(*) FROM t WHERE id = 1001"); n != 1 {
		t.Errorf("the statement before the index ran %d times, want 1", n)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand 002:expand" {
		t.Errorf("history %v", got)
	}
}

// TestKilledDuringBackfill: the rerun resumes after the last batch done.
func TestKilledDuringBackfill(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_t.sql": "CREATE TABLE t (id bigint PRIMARY KEY, v int, w int);\nINSERT INTO t SELECT g, g FROM generate_series(1, 5000) g;\n",
	})
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	// Each batch bumps a counter so double work would show.
	writeFile(t, dir, "002_fill.sql", "-- bgmigrate:backfill table=t batch=100 sleep=30ms\nUPDATE t SET w = coalesce(w, 0) + 1;\n")
	cmd, _ := startChild(t, url, dir)
	waitFor(t, 15*time.Second, "a few batches", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM t WHERE w IS NOT NULL") >= 1000
	})
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	// Until the server notices the dead client, its session holds the
	// migration lock, and a rerun is refused as it should be.
	waitFor(t, 10*time.Second, "the killed runner's session to end", func() bool {
		return scalar[int](t, conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bgmigrate' AND pid <> pg_backend_pid()") == 0
	})
	if got := history(t, conn); strings.Join(got, " ") != "001:expand" {
		t.Fatalf("history %v after the kill", got)
	}
	if _, err := migrate(t, conn, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int](t, conn, "SELECT count(*) FROM t WHERE w IS DISTINCT FROM 1"); n != 0 {
		t.Errorf("%d rows were updated zero or several times", n)
	}
	if got := history(t, conn); strings.Join(got, " ") != "001:expand 002:expand" {
		t.Errorf("history %v", got)
	}
}

// TestConnectionLost: the runner's backend is terminated mid-file; no
// partial record is left and a rerun applies the file.
func TestConnectionLost(t *testing.T) {
	t.Parallel()
	url := pgtest.DB(t)
	conn := connect(t, url)
	admin := connect(t, url)
	dir := writeMigrations(t, map[string]string{
		"001_a.sql": "CREATE TABLE a (id int);\nSELECT pg_sleep(30);\n",
	})
	errc := make(chan error, 1)
	go func() {
		_, err := migrate(t, conn, dir, runner.Options{})
		errc <- err
	}()
	waitFor(t, 10*time.Second, "the runner to sleep mid-file", func() bool {
		return scalar[int](t, admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'") > 0
	})
	if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'"); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil {
		t.Fatal("the run succeeded although its connection was killed")
	}
	if got := history(t, admin); len(got) != 0 {
		t.Fatalf("history %v, want nothing", got)
	}
	writeFile(t, dir, "001_a.sql", "CREATE TABLE a (id int);\n")
	if _, err := migrate(t, admin, dir, runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := history(t, admin); strings.Join(got, " ") != "001:expand" {
		t.Errorf("history %v", got)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
