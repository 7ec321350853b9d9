package pgtest_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func TestQuery(t *testing.T) {
	t.Parallel()
	conn := pgtest.Conn(t)
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT 1 + 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("SELECT 1 + 1 = %d", n)
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	if _, err := pool.Exec(t.Context(), "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
}

// TestSeparateDatabases checks that two parallel tests get different
// databases: each creates the same table, which would collide on a shared one.
func TestSeparateDatabases(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	names := map[string]string{}
	t.Run("group", func(t *testing.T) {
		for _, sub := range []string{"a", "b"} {
			t.Run(sub, func(t *testing.T) {
				t.Parallel()
				conn := pgtest.Conn(t)
				if _, err := conn.Exec(t.Context(), "CREATE TABLE shared (id int)"); err != nil {
					t.Fatal(err)
				}
				var db string
				if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&db); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				names[sub] = db
				mu.Unlock()
			})
		}
	})
	if t.Failed() || t.Skipped() || len(names) != 2 {
		return
	}
	if names["a"] == names["b"] {
		t.Fatalf("both tests got database %q", names["a"])
	}
}

// TestDatabaseDropped checks that a test's database is gone once the test
// (and its cleanups) ended.
func TestDatabaseDropped(t *testing.T) {
	t.Parallel()
	var db string
	t.Run("inner", func(t *testing.T) {
		conn := pgtest.Conn(t)
		if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&db); err != nil {
			t.Fatal(err)
		}
	})
	if db == "" {
		return // inner skipped or failed
	}
	admin, err := pgx.Connect(t.Context(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var exists bool
	if err := admin.QueryRow(t.Context(), "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %q still exists after its test", db)
	}
}

// TestLocalStop checks that a cluster started by StartLocal stops for good
// on Close.
func TestLocalStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	srv, err := pgtest.StartLocal(ctx)
	if errors.Is(err, pgtest.ErrUnavailable) && os.Getenv(pgtest.EnvURL) != "" {
		t.Skipf("pgtest: no local PostgreSQL binaries and %s is set: %v", pgtest.EnvURL, err)
	}
	if err != nil {
		pgtest.SkipOrFail(t, err)
	}
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.Connect(ctx, srv.URL+"&connect_timeout=2"); err == nil {
		conn.Close(ctx)
		t.Fatal("server still answers after Close")
	}
}

// TestDockerPath runs the testcontainers path whatever the package's own
// server is (BGMIGRATE_TEST_PG=docker semantics). Without a Docker engine or
// image it skips, and fails in CI.
func TestDockerPath(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("pgtest: -short: skipping the Docker path")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	srv, err := pgtest.StartDocker(ctx)
	if err != nil {
		if !errors.Is(err, pgtest.ErrUnavailable) {
			t.Fatalf("pgtest: docker path: %v", err)
		}
		pgtest.SkipOrFail(t, err)
	}
	t.Logf("container ready in %v", time.Since(start).Round(time.Millisecond))
	defer func() {
		stop := time.Now()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		t.Logf("container removed in %v", time.Since(stop).Round(time.Millisecond))
	}()
	if srv.Kind != pgtest.KindDocker {
		t.Fatalf("Kind = %q, want %q", srv.Kind, pgtest.KindDocker)
	}
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var version, fsync string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('fsync')").Scan(&version, &fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" {
		t.Errorf("fsync = %q, want off", fsync)
	}
	t.Logf("docker path: PostgreSQL %s", version)
}
