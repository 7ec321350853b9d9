package live

import (
	"context"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// DropAbandoned drops a scratch database only once the session that made
// it is gone, whatever database that session was connected to: advisory
// locks, being per database, could not tell.
//
// Not parallel: TestGateReplayDropsDatabase checks that no scratch
// database is left on the server.
func TestDropAbandoned(t *testing.T) {
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// The creator is connected to another database than the cleaner.
	creator, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := admin.Config().Copy()
	conn, name, err := scratch(ctx, creator, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx) // no session on it: only its creator's life counts
	exists := func(n string) bool {
		var ok bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, n).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	other := fmt.Sprintf("%sunparsed_%d", scratchPrefix, time.Now().UnixNano())
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{other}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{other}.Sanitize())
	if dropped := DropAbandoned(ctx, admin, io.Discard); slices.Contains(dropped, name) || !exists(name) {
		t.Fatalf("%s was dropped while its creator lives (dropped %v)", name, dropped)
	}
	creator.Close(ctx)
	waitGone := func() {
		for i := 0; i < 100; i++ {
			var n int
			if admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, creator.Config().Database).Scan(&n) == nil && n == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitGone()
	if dropped := DropAbandoned(ctx, admin, io.Discard); !slices.Contains(dropped, name) || exists(name) {
		t.Fatalf("%s was not dropped once its creator was gone (dropped %v)", name, dropped)
	}
	if !exists(other) {
		t.Fatalf("%s, not named by bgmigrate, was dropped", other)
	}
}
