package deploy_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// TestMapFileAndRuntimeDisagree: a deploy killed after the running HAProxy
// took the switch and before the map file did leaves them naming
// different colors. The next command reports and repairs it (the file is
// rewritten from the running HAProxy), so a reload keeps traffic where it
// is; status names the interrupted deploy, and resume finishes it.
func TestMapFileAndRuntimeDisagree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	d := e.deployer()
	mapFile := e.lb.Dir + "/color.map"
	reached, err := killAt(d, "", "", "deploy:after-switch", func() error {
		return d.Deploy(ctx, deploy.DeployOptions{Version: "v2"})
	})
	if !reached {
		t.Fatalf("the deploy did not reach the switch: %v", err)
	}
	// The kill came before the map file was written: put it back as it
	// was before the switch.
	if err := os.WriteFile(mapFile, []byte("app app_green\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "blue v2" {
		t.Fatalf("served %q after the kill, want blue v2 (the running HAProxy took the switch)", got)
	}
	r, err := e.deployer().Status(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	if r.Interrupted == nil || r.Interrupted.Action != "deploy" || !strings.Contains(r.Unfinished, "the switch was not recorded") {
		t.Fatalf("status after the kill: %+v", r)
	}
	repaired := false
	for _, ev := range r.Events {
		if ev.Action == "reconcile" && ev.Outcome == "repaired" && strings.Contains(string(ev.Detail), "the map file") {
			repaired = true
		}
	}
	if !repaired {
		t.Fatalf("no repair of the map file in the events: %+v", r.Events)
	}
	if b, err := os.ReadFile(mapFile); err != nil || !strings.Contains(string(b), "app app_blue") {
		t.Fatalf("map file after status: %q, %v", b, err)
	}
	e.lb.Restart(t) // a reload reads the map file
	if got := e.served(); got != "blue v2" {
		t.Fatalf("after a restart served %q, want blue v2", got)
	}
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	lv := e.live()
	wantStatus(t, lv[switcher.Blue], state.Active)
	wantStatus(t, lv[switcher.Green], state.Standby)
	// The manual switch back works from here.
	if err := e.deployer().Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if got := e.served(); got != "green v1" {
		t.Fatalf("after switch --to green served %q", got)
	}
}

// TestZeroDrainAndWindow: a drain of 0s does not wait and a rollback
// window of 0s keeps no rollback target (the old color is retired, its
// scale-down hook run); the drain says what it saw of the old color's
// requests in flight.
func TestZeroDrainAndWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	zero, two := time.Duration(0), 2*time.Second
	off := time.Duration(0)
	e.cfg.Confidence.Window = &off
	e.cfg.Drain, e.cfg.RollbackWindow = &two, &zero
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"}); err != nil {
		t.Fatal(err)
	}
	// HAProxy counts the old color's requests in flight: none, so the
	// drain of 2s ends at once and says so.
	ev, ok := e.events.find("drain", deploy.OK)
	if !ok || !strings.Contains(ev.Message, "green (v1): 0 in flight after ") || !strings.Contains(ev.Message, "(drain 2s); no rollback window") || ev.Duration > 1.5 {
		t.Fatalf("drain with drain: 2s: %+v", ev)
	}
	lv := e.live()
	if lv[switcher.Green] != nil {
		t.Fatalf("green still live with rollback_window 0s: %+v", lv[switcher.Green])
	}
	if st := e.green.App.State(); !st.Stopped {
		t.Fatalf("green not scaled down with rollback_window 0s: %+v", st)
	}
	var refused *deploy.RefusedError
	if err := e.deployer().Rollback(ctx); !errors.As(err, &refused) {
		t.Fatalf("rollback with no window: %v", err)
	}
	e.cfg.Drain = &zero
	start := time.Now()
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v3"}); err != nil {
		t.Fatal(err)
	}
	if ev, _ := e.events.find("drain", deploy.OK); ev.Duration > 0.5 || !strings.Contains(ev.Message, "(drain 0s)") {
		t.Fatalf("drain with drain: 0s took %.2fs: %s", ev.Duration, ev.Message)
	}
	t.Logf("deploy with drain 0s in %s", time.Since(start))
}

// TestFailedColorLeftRunning: a color that failed its checks is left
// running for inspection; status says so and retire --color stops it.
func TestFailedColorLeftRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.cfg.Readiness.Deadline = time.Second
	err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2-never-ready"})
	var failed *deploy.FailedError
	if !errors.As(err, &failed) || !strings.Contains(err.Error(), "green is left running for inspection: bgmigrate retire --color green stops it") {
		t.Fatalf("deploy: %v", err)
	}
	r, err := e.deployer().Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.LeftRunning) != 1 || r.LeftRunning[0] != switcher.Green || !strings.Contains(strings.Join(r.Attention, "\n"), "retire --color green") {
		t.Fatalf("status: %+v", r)
	}
	var refused *deploy.RefusedError
	if err := e.deployer().Retire(ctx, switcher.Blue); !errors.As(err, &refused) || !strings.Contains(err.Error(), "blue takes traffic") {
		t.Fatalf("retire --color blue (serving): %v", err)
	}
	if err := e.deployer().Retire(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if st := e.green.App.State(); !st.Stopped {
		t.Fatalf("green after retire --color green: %+v", st)
	}
	if r, err = e.deployer().Status(ctx, 5); err != nil || len(r.LeftRunning) != 0 {
		t.Fatalf("status after the clean-up: %+v, %v", r, err)
	}
	if got := e.served(); got != "blue v1" {
		t.Fatalf("served %q", got)
	}
	// The next deploy onto green works.
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"}); err != nil {
		t.Fatal(err)
	}
}

// TestPlanRefusesWhatTheGateWouldBlock: an expand migration that breaks
// the old color (a drop the author marked expand) is refused at the start
// of the deploy, before any migration, hook or switch: the plan replays the
// schema the live database would have and compares both colors with it.
func TestPlanRefusesWhatTheGateWouldBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.dir+"/0002_drop_legacy.sql", []byte("-- bgmigrate:phase expand -- nothing reads it (wrong)\nALTER TABLE items DROP COLUMN legacy;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := e.blue.App.State().Deploys
	err := e.deployer().Deploy(ctx, deploy.DeployOptions{Version: "v2"})
	var refused *deploy.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, `gate schema-old-color (once the expand migrations ran): column "legacy" of table "items" that the old color uses is missing`) {
		t.Fatalf("deploy: %v", err)
	}
	if got := strings.Join(e.applied(), " "); got != "0001:expand" {
		t.Fatalf("applied %s after the refusal", got)
	}
	if e.blue.App.State().Deploys != before || e.live()[switcher.Blue] != nil {
		t.Fatal("the deploy went on after the refusal")
	}
	var out strings.Builder
	if err := e.deployer().Plan(context.Background(), &out, deploy.DeployOptions{Version: "v2"}); !errors.As(err, &refused) || !strings.Contains(out.String(), "would be refused: gate schema-old-color") {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
}
