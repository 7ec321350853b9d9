package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// setup returns a connection to a fresh database with the state tables.
func setup(t *testing.T) (context.Context, *pgx.Conn) {
	t.Helper()
	ctx := t.Context()
	conn := pgtest.Conn(t)
	if err := state.Ensure(ctx, conn); err != nil {
		t.Fatal(err)
	}
	return ctx, conn
}

func begin(t *testing.T, ctx context.Context, conn *pgx.Conn, service, version string, color switcher.Color) *state.Deployment {
	t.Helper()
	d, err := state.Begin(ctx, conn, service, version, color, "ci")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func move(t *testing.T, ctx context.Context, conn *pgx.Conn, id int64, to ...state.Status) {
	t.Helper()
	for _, s := range to {
		if err := state.SetStatus(ctx, conn, id, s, "ci"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnsureIdempotent(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	for range 2 {
		if err := state.Ensure(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnsureConcurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.DB(t)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			errs <- state.Ensure(ctx, conn)
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)

	blue := begin(t, ctx, conn, "shop", "v1", switcher.Blue)
	if blue.Status != state.Deploying || blue.Color != switcher.Blue || blue.DeployedAt.IsZero() || !blue.ActivatedAt.IsZero() {
		t.Fatalf("Begin = %+v, want deploying blue, deployed, not activated", blue)
	}
	move(t, ctx, conn, blue.ID, state.Ready, state.Active)

	active, prev, err := state.Current(ctx, conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if active == nil || active.ID != blue.ID || prev != nil {
		t.Fatalf("Current = %+v, %+v; want blue, nil", active, prev)
	}

	green := begin(t, ctx, conn, "shop", "v2", switcher.Green)
	move(t, ctx, conn, green.ID, state.Ready, state.Active)
	move(t, ctx, conn, blue.ID, state.Draining)

	active, prev, err = state.Current(ctx, conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if active == nil || active.ID != green.ID || active.ActivatedAt.IsZero() || prev == nil || prev.ID != blue.ID || prev.Status != state.Draining {
		t.Fatalf("Current = %+v, %+v; want green active, blue draining", active, prev)
	}

	if _, ok, err := state.RollbackTarget(ctx, conn, "shop"); err != nil || ok {
		t.Fatalf("RollbackTarget while draining = %v, %v; want none", ok, err)
	}
	move(t, ctx, conn, blue.ID, state.Standby)
	target, ok, err := state.RollbackTarget(ctx, conn, "shop")
	if err != nil || !ok || target.ID != blue.ID {
		t.Fatalf("RollbackTarget = %+v, %v, %v; want blue", target, ok, err)
	}

	move(t, ctx, conn, blue.ID, state.Retired)
	if _, ok, err := state.RollbackTarget(ctx, conn, "shop"); err != nil || ok {
		t.Fatalf("RollbackTarget after retire = %v, %v; want none", ok, err)
	}
	_, prev, err = state.Current(ctx, conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if prev == nil || prev.Status != state.Retired || prev.RetiredAt.IsZero() {
		t.Fatalf("previous = %+v, want blue retired with retired_at", prev)
	}

	events, err := state.Events(ctx, conn, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		action, to string
		id         int64
	}
	want := []step{ // newest first
		{state.ActionSetStatus, "retired", blue.ID},
		{state.ActionSetStatus, "standby", blue.ID},
		{state.ActionSetStatus, "draining", blue.ID},
		{state.ActionSetStatus, "active", green.ID},
		{state.ActionSetStatus, "ready", green.ID},
		{state.ActionBegin, "deploying", green.ID},
		{state.ActionSetStatus, "active", blue.ID},
		{state.ActionSetStatus, "ready", blue.ID},
		{state.ActionBegin, "deploying", blue.ID},
	}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(events), len(want), events)
	}
	for i, e := range events {
		var d struct {
			ID     int64  `json:"id"`
			To     string `json:"to"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatalf("event %d detail %s: %v", i, e.Detail, err)
		}
		to := d.To
		if e.Action == state.ActionBegin {
			to = d.Status
		}
		got := step{e.Action, to, d.ID}
		if got != want[i] || e.Outcome != state.OutcomeOK || e.Actor != "ci" || e.Service != "shop" || e.At.IsZero() {
			t.Errorf("event %d = %+v (%s), want %+v by ci, ok", i, e, e.Detail, want[i])
		}
	}

	limited, err := state.Events(ctx, conn, "shop", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(limited) != 2 || limited[0].ID != events[0].ID {
		t.Errorf("Events(limit 2) = %+v, want the 2 newest", limited)
	}
}

func TestRollbackReactivatesStandby(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	blue := begin(t, ctx, conn, "shop", "v1", switcher.Blue)
	move(t, ctx, conn, blue.ID, state.Ready, state.Active)
	green := begin(t, ctx, conn, "shop", "v2", switcher.Green)
	move(t, ctx, conn, green.ID, state.Ready, state.Active)
	move(t, ctx, conn, blue.ID, state.Draining, state.Standby)

	move(t, ctx, conn, blue.ID, state.Active)
	move(t, ctx, conn, green.ID, state.RolledBack)

	active, prev, err := state.Current(ctx, conn, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if active == nil || active.ID != blue.ID || prev == nil || prev.ID != green.ID || prev.Status != state.RolledBack {
		t.Fatalf("Current = %+v, %+v; want blue active, green rolled back", active, prev)
	}
	// Green's color is free again.
	begin(t, ctx, conn, "shop", "v3", switcher.Green)
}

func TestInvalidTransitions(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	tests := []struct {
		name string
		path []state.Status // reached first
		to   state.Status
	}{
		{"deploying to active", nil, state.Active},
		{"deploying to retired", nil, state.Retired},
		{"deploying to deploying", nil, state.Deploying},
		{"ready to draining", []state.Status{state.Ready}, state.Draining},
		{"active to standby", []state.Status{state.Ready, state.Active}, state.Standby},
		{"active to failed", []state.Status{state.Ready, state.Active}, state.Failed},
		{"draining to retired", []state.Status{state.Ready, state.Active, state.Draining}, state.Retired},
		{"standby to draining", []state.Status{state.Ready, state.Active, state.Draining, state.Standby}, state.Draining},
		{"retired to active", []state.Status{state.Ready, state.Active, state.Draining, state.Standby, state.Retired}, state.Active},
		{"failed to ready", []state.Status{state.Failed}, state.Ready},
		{"rolled back to active", []state.Status{state.Ready, state.Active, state.RolledBack}, state.Active},
		{"unknown status", []state.Status{state.Ready}, "paused"},
	}
	for i, tt := range tests {
		// Each case has its own service, so cases do not share colors.
		service := "svc" + string(rune('a'+i))
		d := begin(t, ctx, conn, service, "v1", switcher.Blue)
		move(t, ctx, conn, d.ID, tt.path...)
		from := state.Deploying
		if len(tt.path) > 0 {
			from = tt.path[len(tt.path)-1]
		}

		err := state.SetStatus(ctx, conn, d.ID, tt.to, "ci")
		var te *state.TransitionError
		if !errors.As(err, &te) || te.From != from || te.To != tt.to || te.ID != d.ID {
			t.Errorf("%s: SetStatus = %v, want TransitionError from %q to %q", tt.name, err, from, tt.to)
			continue
		}
		var status state.Status
		if err := conn.QueryRow(ctx, `SELECT status FROM bgmigrate.deployments WHERE id = $1`, d.ID).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status != from {
			t.Errorf("%s: status after rejection = %q, want %q unchanged", tt.name, status, from)
		}
		events, err := state.Events(ctx, conn, service, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Outcome != state.OutcomeRejected || events[0].Action != state.ActionSetStatus {
			t.Errorf("%s: newest event = %+v, want a rejected set-status", tt.name, events)
		}
	}

	if err := state.SetStatus(ctx, conn, 1<<40, state.Ready, "ci"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("SetStatus of a missing deployment = %v, want ErrNotFound", err)
	}
}

func TestColorBusy(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	blue := begin(t, ctx, conn, "shop", "v1", switcher.Blue)
	_, err := state.Begin(ctx, conn, "shop", "v2", switcher.Blue, "ci")
	var busy *state.ColorBusyError
	if !errors.As(err, &busy) || busy.ID != blue.ID || busy.Status != state.Deploying {
		t.Fatalf("second Begin on blue = %v, want ColorBusyError naming %d", err, blue.ID)
	}
	move(t, ctx, conn, blue.ID, state.Failed)
	begin(t, ctx, conn, "shop", "v2", switcher.Blue)
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	tests := []struct {
		name string
		err  error
	}{
		{"no service", func() error { _, err := state.Begin(ctx, conn, "", "v1", switcher.Blue, "ci"); return err }()},
		{"no version", func() error { _, err := state.Begin(ctx, conn, "shop", "", switcher.Blue, "ci"); return err }()},
		{"bad color", func() error { _, err := state.Begin(ctx, conn, "shop", "v1", "red", "ci"); return err }()},
		{"no actor", func() error { _, err := state.Begin(ctx, conn, "shop", "v1", switcher.Blue, ""); return err }()},
		{"percent over", state.SetTraffic(ctx, conn, "shop", switcher.Blue, 101, "ci")},
		{"percent under", state.SetTraffic(ctx, conn, "shop", switcher.Blue, -1, "ci")},
		{"traffic color", state.SetTraffic(ctx, conn, "shop", "red", 50, "ci")},
	}
	for _, tt := range tests {
		var ae *state.ArgumentError
		if !errors.As(tt.err, &ae) {
			t.Errorf("%s: err = %v, want ArgumentError", tt.name, tt.err)
		}
	}
}

func TestEventsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	begin(t, ctx, conn, "shop", "v1", switcher.Blue)
	for _, q := range []string{
		`UPDATE bgmigrate.events SET actor = 'mallory'`,
		`DELETE FROM bgmigrate.events`,
		`TRUNCATE bgmigrate.events`,
	} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("%s: succeeded, want rejected", q)
		}
	}
	events, err := state.Events(ctx, conn, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Actor != "ci" {
		t.Errorf("events = %+v, want the one begin event by ci", events)
	}
}

func TestTrafficRoundTrip(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	if _, err := state.Traffic(ctx, conn, "shop"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Traffic before any rule = %v, want ErrNotFound", err)
	}
	steps := []struct {
		color   switcher.Color
		percent int
	}{{switcher.Blue, 100}, {switcher.Green, 10}, {switcher.Green, 100}}
	for _, s := range steps {
		if err := state.SetTraffic(ctx, conn, "shop", s.color, s.percent, "ci"); err != nil {
			t.Fatal(err)
		}
		r, err := state.Traffic(ctx, conn, "shop")
		if err != nil {
			t.Fatal(err)
		}
		if r.Service != "shop" || r.Color != s.color || r.Percent != s.percent || r.UpdatedAt.IsZero() {
			t.Errorf("Traffic = %+v, want %s %d%%", r, s.color, s.percent)
		}
	}
	events, err := state.Events(ctx, conn, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(steps) {
		t.Fatalf("got %d events, want %d", len(events), len(steps))
	}
	var d map[string]any
	if err := json.Unmarshal(events[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if events[0].Action != state.ActionSetTraffic || d["color"] != "green" || d["percent"] != 100.0 || d["from_percent"] != 10.0 {
		t.Errorf("newest event = %+v %s, want set-traffic green 100 from 10", events[0], events[0].Detail)
	}
}

func TestServicesIndependent(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	shop := begin(t, ctx, conn, "shop", "v1", switcher.Blue)
	move(t, ctx, conn, shop.ID, state.Ready, state.Active)
	// The same color of another service is free.
	begin(t, ctx, conn, "cart", "v7", switcher.Blue)
	if err := state.SetTraffic(ctx, conn, "shop", switcher.Blue, 100, "ci"); err != nil {
		t.Fatal(err)
	}
	if err := state.SetTraffic(ctx, conn, "cart", switcher.Green, 25, "ci"); err != nil {
		t.Fatal(err)
	}

	active, _, err := state.Current(ctx, conn, "shop")
	if err != nil || active == nil || active.ID != shop.ID {
		t.Fatalf("Current(shop) = %+v, %v; want shop v1", active, err)
	}
	active, _, err = state.Current(ctx, conn, "cart")
	if err != nil || active != nil {
		t.Fatalf("Current(cart) = %+v, %v; want none (still deploying)", active, err)
	}
	if r, err := state.Traffic(ctx, conn, "shop"); err != nil || r.Color != switcher.Blue || r.Percent != 100 {
		t.Errorf("Traffic(shop) = %+v, %v", r, err)
	}
	if r, err := state.Traffic(ctx, conn, "cart"); err != nil || r.Color != switcher.Green || r.Percent != 25 {
		t.Errorf("Traffic(cart) = %+v, %v", r, err)
	}
	shopEvents, err := state.Events(ctx, conn, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	cartEvents, err := state.Events(ctx, conn, "cart", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(shopEvents) != 4 || len(cartEvents) != 2 {
		t.Errorf("got %d shop and %d cart events, want 4 and 2", len(shopEvents), len(cartEvents))
	}
	for _, e := range cartEvents {
		if e.Service != "cart" {
			t.Errorf("cart event of service %q", e.Service)
		}
	}
	if _, ok, err := state.RollbackTarget(ctx, conn, "cart"); err != nil || ok {
		t.Errorf("RollbackTarget(cart) = %v, %v; want none", ok, err)
	}
}

func TestLiveLatestSchemaVersionLog(t *testing.T) {
	t.Parallel()
	ctx, conn := setup(t)
	blue := begin(t, ctx, conn, "svc", "v1", switcher.Blue)
	move(t, ctx, conn, blue.ID, state.Ready, state.Active)
	green := begin(t, ctx, conn, "svc", "v2", switcher.Green)
	move(t, ctx, conn, green.ID, state.Failed)
	if err := state.SetSchemaVersion(ctx, conn, blue.ID, "0003", "ci"); err != nil {
		t.Fatal(err)
	}
	if err := state.SetSchemaVersion(ctx, conn, 999999, "0003", "ci"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("schema version of a missing deployment: %v, want ErrNotFound", err)
	}
	live, err := state.Live(ctx, conn, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[switcher.Blue] == nil || live[switcher.Blue].SchemaVersion != "0003" {
		t.Fatalf("live = %+v, want blue only with schema version 0003", live)
	}
	latest, err := state.Latest(ctx, conn, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if latest[switcher.Green] == nil || latest[switcher.Green].Status != state.Failed || latest[switcher.Blue].ID != blue.ID {
		t.Fatalf("latest = %+v", latest)
	}
	got, err := state.Get(ctx, conn, green.ID)
	if err != nil || got.Version != "v2" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if err := state.Log(ctx, conn, "svc", "ci", "gate", state.OutcomeFailed, map[string]any{"reason": "x"}); err != nil {
		t.Fatal(err)
	}
	evs, err := state.Events(ctx, conn, "svc", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Action != "gate" || evs[0].Outcome != state.OutcomeFailed {
		t.Fatalf("last event = %+v", evs)
	}
	if err := state.Log(ctx, conn, "svc", "ci", "", "ok", nil); err == nil {
		t.Fatal("an event without action was accepted")
	}
}
