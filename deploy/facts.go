package deploy

import (
	"context"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// latest returns the newest deployment of each color.
func (f *facts) latest() map[switcher.Color]*state.Deployment {
	out := map[switcher.Color]*state.Deployment{}
	for _, d := range f.deps {
		if cur := out[d.Color]; cur == nil || d.ID > cur.ID {
			out[d.Color] = d
		}
	}
	return out
}

// live returns the newest deployment of each color that is not retired,
// failed or rolled back.
func (f *facts) live() map[switcher.Color]*state.Deployment {
	out := map[switcher.Color]*state.Deployment{}
	for _, d := range f.deps {
		if state.Final(d.Status) {
			continue
		}
		if cur := out[d.Color]; cur == nil || d.ID > cur.ID {
			out[d.Color] = d
		}
	}
	return out
}

// unfinished returns a live deployment being deployed (deploying or
// ready), nil if none.
func (f *facts) unfinished() *state.Deployment {
	lv := f.live()
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if d := lv[c]; d != nil && (d.Status == state.Deploying || d.Status == state.Ready) {
			return d
		}
	}
	return nil
}

// pending returns the migrations of the directory the history lacks.
func (f *facts) pending() []*runnerMigration {
	applied := map[string]bool{}
	for _, a := range f.g.History {
		applied[a.Version] = true
	}
	var out []*runnerMigration
	for _, m := range f.migs {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out
}

type runnerMigration = runner.Migration

func gateDep(d *state.Deployment) gate.Deployment { return live.GateDeployment(d) }

// readTraffic reads where the load balancer sends traffic without
// changing anything: a disagreement between its places is reported, not
// repaired, and the record is not corrected (a dry run, or status while
// another command holds the deployment lock).
func (d *Deployer) readTraffic(ctx context.Context) gate.Traffic {
	var t gate.Traffic
	w, weighted := d.Switcher.(switcher.Weighted)
	t.Weighted = weighted
	if in, ok := d.Switcher.(switcher.Inspector); ok {
		places, err := in.Places(ctx)
		if err != nil {
			t.Err = err.Error()
			return t
		}
		t.Disagreement = switcher.Disagreement(places)
	}
	active, err := d.Switcher.Active(ctx)
	if err != nil {
		t.Err = err.Error()
		return t
	}
	t.Active = string(active)
	if weighted {
		if ws, err := w.Weights(ctx); err == nil && ws[switcher.Blue] > 0 && ws[switcher.Green] > 0 {
			t.Split = map[string]int{"blue": ws[switcher.Blue], "green": ws[switcher.Green]}
		}
	}
	return t
}

// gatherEmpty is gather for a database without the state tables: no
// deployment was ever recorded.
func (d *Deployer) gatherEmpty(ctx context.Context, t gate.Traffic) (*facts, error) {
	g, _, err := runner.ReadFacts(ctx, d.Conn, d.Migrations)
	if err != nil {
		return nil, err
	}
	g.State = &gate.State{Service: d.Config.Service, Now: time.Now(), RollbackWindow: *d.Config.RollbackWindow, Traffic: t}
	return &facts{g: g, active: switcher.Color(t.Active), deps: map[int64]*state.Deployment{}, migs: d.Migrations}, nil
}
