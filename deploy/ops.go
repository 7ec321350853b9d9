package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

// Rollback sends traffic back to the rollback target at once, as the
// decision allows: to the color standing by while its window lasts and no
// contract migration removed what it needs; a rerun of an interrupted
// rollback finishes that rollback; a deploy interrupted after its switch
// is undone; one interrupted before its switch is given up (recorded as
// failed, its color left running for inspection).
func (d *Deployer) Rollback(ctx context.Context) error {
	unlock, f, err := d.start(ctx, "rollback")
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	v := f.decide(gate.Action{Kind: gate.Rollback})
	if !v.Allow {
		d.log(ctx, "rollback", state.OutcomeRejected, map[string]any{"reasons": v.Reasons})
		return refused("rollback", v)
	}
	dep := f.dep(v.Deployment)
	if v.Abandon {
		// Traffic never moved: give the command up. A deployment it was
		// bringing up is recorded as failed; one that stood by stays so.
		s := d.begin("rollback", "giving up the interrupted %s of deployment %d (%s on %s)", opAction(f.op, "deploy"), dep.ID, dep.Version, dep.Color)
		op, err := d.open(ctx, gate.OpRollback, dep, nil, dep.Color, f.active, f.op)
		if err != nil {
			return s.fail(err)
		}
		if dep.Status == state.Deploying || dep.Status == state.Ready {
			if err := d.moveTo(ctx, dep, state.Failed); err != nil {
				return s.fail(err)
			}
			d.log(ctx, "rollback", state.OutcomeOK, map[string]any{"abandoned": dep.ID})
			op.close(ctx, "ok: abandoned")
			s.ok(map[string]any{"id": dep.ID}, "deployment %d recorded as failed; traffic stays on %s; %s is left running for inspection (bgmigrate retire --color %s stops it)",
				dep.ID, f.active, dep.Color, dep.Color)
			return nil
		}
		d.log(ctx, "rollback", state.OutcomeOK, map[string]any{"gave_up": opAction(f.op, "")})
		op.close(ctx, "ok: nothing had moved")
		s.ok(map[string]any{"id": dep.ID}, "traffic stays on %s; deployment %d (%s) stays %s", f.active, dep.ID, dep.Version, dep.Status)
		return nil
	}
	target, to := f.dep(v.Target), colorOf(v.TargetColor)
	what := "the code from before the first bgmigrate deploy"
	if target != nil {
		what = target.Version
	}
	s := d.begin("rollback", "traffic back to %s (%s)", to, what)
	from := switcher.Color("")
	if dep != nil {
		from = dep.Color
	}
	op, err := d.open(ctx, gate.OpRollback, dep, target, from, to, f.op)
	if err != nil {
		return s.fail(err)
	}
	d.failpoint("rollback:after-intent")
	if f.active != to {
		if err := d.probe(ctx, to); err != nil {
			op.close(ctx, "refused: "+err.Error())
			return s.fail(&RefusedError{Action: "rollback", Reason: fmt.Sprintf("%s does not answer its readiness probe (%v); traffic stays on %s", to, err, f.active)})
		}
	}
	if err := d.move(ctx, op, to); err != nil {
		return s.fail(err)
	}
	took := time.Since(start)
	d.failpoint("rollback:after-switch")
	if err := d.recordRollback(ctx, dep, target, to); err != nil {
		return s.fail(fmt.Errorf("traffic is on %s but recording it failed (a rerun of bgmigrate rollback finishes it): %w", to, err))
	}
	detail := map[string]any{"to": to, "to_version": what, "seconds": took.Seconds()}
	if dep != nil {
		detail["from"], detail["from_version"] = dep.Color, dep.Version
	}
	d.log(ctx, "rollback", state.OutcomeOK, detail)
	op.close(ctx, state.OutcomeOK)
	msg := fmt.Sprintf("traffic on %s (%s)", to, what)
	if dep != nil {
		msg += fmt.Sprintf("; %s (%s) rolled back and left running for inspection", dep.Color, dep.Version)
	}
	s.ok(map[string]any{"to": to, "version": what}, "%s", msg)
	return nil
}

func opAction(op *state.Operation, def string) string {
	if op == nil {
		return def
	}
	return op.Action
}

// move sends all traffic to color for the open operation op, recording
// the steps around the load balancer's change. When the change fails and
// the load balancer says traffic stayed, the operation is closed as
// failed; when it cannot say, the operation stays open for the next
// command to reconcile.
func (d *Deployer) move(ctx context.Context, op *operation, to switcher.Color) error {
	if err := op.step(ctx, gate.StepSwitching); err != nil {
		return err
	}
	if err := d.Switcher.Switch(ctx, to); err != nil {
		err = d.switchError(ctx, to, err)
		var se *SwitchError
		if errors.As(err, &se) && se.Active != "" && se.Active != to {
			op.close(ctx, "failed: "+err.Error())
		}
		d.log(ctx, op.op.Action, state.OutcomeFailed, map[string]any{"to": to, "error": err.Error()})
		return err
	}
	return op.step(ctx, gate.StepSwitched)
}

// probe checks once, with the readiness probe, that color answers before
// traffic goes to it.
func (d *Deployer) probe(ctx context.Context, color switcher.Color) error {
	p := d.Config.Readiness
	p.Successes = 1
	if p.Deadline > 3*p.Timeout {
		p.Deadline = 3 * p.Timeout
	}
	return WaitReady(ctx, d.client(), ColorURL(d.Config, color), p, nil)
}

// Switch is the manual, gated switch to a color that holds a ready or
// standing-by deployment.
func (d *Deployer) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	unlock, f, err := d.start(ctx, "switch")
	if err != nil {
		return err
	}
	defer unlock()
	v := f.decide(gate.Action{Kind: gate.Switch, Color: string(to)})
	if !v.Allow {
		d.log(ctx, "switch", state.OutcomeRejected, map[string]any{"to": to, "reasons": v.Reasons})
		return refused("switch", v)
	}
	if v.Noop {
		d.begin("switch", "traffic to %s", to).skip("%s", strings.Join(v.Notes, "; "))
		return nil
	}
	return d.finishSwitch(ctx, f, v)
}

// finishSwitch moves traffic to the switch's target (after the gate and a
// probe, unless the load balancer is there already), records it and lets
// the other color drain into standby.
func (d *Deployer) finishSwitch(ctx context.Context, f *facts, v gate.Verdict) error {
	to := colorOf(v.TargetColor)
	target := f.dep(v.Target)
	cur := f.dep(v.Current)
	if cur != nil && cur.Status != state.Active && cur.Status != state.Draining {
		cur = nil
	}
	op, err := d.open(ctx, gate.OpSwitch, target, cur, f.active, to, opOf(v.Finish, f.op))
	if err != nil {
		return err
	}
	r := &run{d: d, f: f, dep: target, current: cur, color: to, passed: map[string]bool{}, op: op}
	if f.active != to {
		if err := r.gateSwitch(ctx); err != nil {
			op.close(ctx, "blocked: "+err.Error())
			return err
		}
		s := d.begin("switch", "all traffic to %s", to)
		if err := d.probe(ctx, to); err != nil {
			op.close(ctx, "refused: "+err.Error())
			return s.fail(&RefusedError{Action: "switch", Reason: fmt.Sprintf("%s does not answer its readiness probe (%v); traffic stays on %s", to, err, f.active)})
		}
		if err := d.move(ctx, op, to); err != nil {
			return s.fail(err)
		}
		r.switchedAt = time.Now()
		d.failpoint("switch:after-switch")
		s.ok(map[string]any{"color": to}, "traffic on %s (%s)", to, target.Version)
	}
	if err := d.moveTo(ctx, target, state.Active); err != nil {
		return err
	}
	if cur != nil && cur.Status == state.Active {
		if err := d.moveTo(ctx, cur, state.Draining); err != nil {
			return err
		}
	}
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, to, 100, d.actor()); err != nil {
		return err
	}
	if err := op.step(ctx, gate.StepRecorded); err != nil {
		return err
	}
	d.log(ctx, "switch", state.OutcomeOK, map[string]any{"to": to, "version": target.Version, "manual": true})
	if cur != nil {
		if err := r.drain(ctx); err != nil {
			return err
		}
	}
	op.close(ctx, state.OutcomeOK)
	return nil
}

// gateSwitch runs the gate for a manual switch: the target's schema as the
// new color's, the color taking traffic as the old one.
func (r *run) gateSwitch(ctx context.Context) error {
	if r.d.Config.Gate.Skip {
		r.d.begin("gate", "checking the live schema for both colors").skip("turned off by deploy.gate.skip")
		return nil
	}
	return r.gate(ctx)
}

// Retire stops the old color: by default the one standing by as the
// rollback target, or (color) a failed or rolled-back color left running
// for inspection. Its scale-down hook runs and, for a rollback target, the
// contract migrations it held back may run.
func (d *Deployer) Retire(ctx context.Context, color switcher.Color) error {
	unlock, f, err := d.start(ctx, "retire")
	if err != nil {
		return err
	}
	defer unlock()
	v := f.decide(gate.Action{Kind: gate.Retire, Color: string(color)})
	if !v.Allow {
		d.log(ctx, "retire", state.OutcomeRejected, map[string]any{"color": color, "reasons": v.Reasons})
		return refused("retire", v)
	}
	if v.Noop {
		d.begin("retire", "retiring the old color").skip("%s", strings.Join(v.Notes, "; "))
		return nil
	}
	return d.retire(ctx, f.dep(v.Deployment), "bgmigrate retire", opOf(v.Finish, f.op))
}

// retire retires dep (standing by, or draining) or, for a failed or
// rolled-back deployment left running, stops it; its scale-down hook runs.
// It records its own operation (taking over supersede), unless within, an
// operation of the command it is part of, is given.
func (d *Deployer) retire(ctx context.Context, dep *state.Deployment, reason string, supersede *state.Operation, within ...*operation) error {
	s := d.begin("retire", "retiring %s (%s): %s", dep.Color, dep.Version, reason)
	var op *operation
	if len(within) > 0 && within[0] != nil {
		if err := within[0].step(ctx, "retire"); err != nil {
			return s.fail(err)
		}
	} else {
		var err error
		if op, err = d.open(ctx, gate.OpRetire, dep, nil, dep.Color, "", supersede); err != nil {
			return s.fail(err)
		}
	}
	target := dep.Status == state.Standby || dep.Status == state.Draining
	if !state.Final(dep.Status) {
		if err := d.moveTo(ctx, dep, state.Retired); err != nil {
			return s.fail(err)
		}
	}
	if target || dep.Status == state.Retired {
		if err := runner.Retire(ctx, d.Conn, string(dep.Color), d.actor(), reason); err != nil {
			return s.fail(fmt.Errorf("record the retirement for the runner: %w", err))
		}
	}
	d.log(ctx, "retire", state.OutcomeOK, map[string]any{"id": dep.ID, "color": dep.Color, "version": dep.Version, "reason": reason})
	d.failpoint("retire:after-record")
	if argv := HookArgv(d.Config, dep.Color, HookScaleDown); len(argv) > 0 {
		if err := RunCommand(ctx, "scale-down hook", argv, d.vars(dep), d.Config.Hooks.Timeout, d.out()); err != nil {
			d.log(ctx, "scale-down", state.OutcomeFailed, map[string]any{"id": dep.ID, "error": err.Error()})
			op.close(ctx, "scale-down failed: "+err.Error())
			return s.fail(fmt.Errorf("%s is retired (no longer a rollback target) but its scale-down hook failed: %w", dep.Color, err))
		}
	}
	if err := state.SetStopped(ctx, d.Conn, dep.ID, d.actor()); err != nil {
		return s.fail(err)
	}
	op.close(ctx, state.OutcomeOK)
	if dep.Status == state.Retired {
		s.ok(map[string]any{"color": dep.Color, "version": dep.Version}, "%s (%s) retired; contract migrations that waited for it may run", dep.Color, dep.Version)
	} else {
		s.ok(map[string]any{"color": dep.Color, "version": dep.Version}, "%s (%s, %s) stopped", dep.Color, dep.Version, strings.ReplaceAll(string(dep.Status), "_", " "))
	}
	return nil
}

// opOf returns op when the verdict finishes it (finish is the verdict's
// Finish), nil otherwise.
func opOf(finish *gate.Operation, op *state.Operation) *state.Operation {
	if finish == nil || op == nil || finish.ID != op.ID {
		return nil
	}
	return op
}

// ContractOptions say how to run the contract migrations.
type ContractOptions struct {
	// Force runs them while the old color is still a rollback target;
	// Reason is recorded with them.
	Force  bool
	Reason string
	// Phase is runner.PhaseContract (the default) or runner.PhaseAll
	// (bgmigrate migrate all: the pending expand migrations too).
	Phase runner.Phase
}

// Contract applies the contract migrations the decision allows: those of
// the release the color serving all traffic runs, once no other color
// that may take traffic needs what they remove. Later ones wait, named. A
// rollback target whose window ended is retired first.
func (d *Deployer) Contract(ctx context.Context, o ContractOptions) (*runner.Result, error) {
	unlock, f, err := d.start(ctx, "contract")
	if err != nil {
		return nil, err
	}
	defer unlock()
	phase := o.Phase
	if phase == "" {
		phase = runner.PhaseContract
	}
	a := phase.Action(o.Force, o.Reason)
	v := f.decide(a)
	if v.RetireFirst != nil {
		if err := d.retire(ctx, f.dep(v.RetireFirst), v.RetireWhy, nil); err != nil {
			return nil, err
		}
		if f, err = d.gather(ctx, f.g.State.Traffic); err != nil {
			return nil, err
		}
		v = f.decide(a)
	}
	var sup *state.Operation
	if f.op != nil && f.op.Action == gate.OpContract {
		sup = f.op
	}
	if !v.Allow {
		d.log(ctx, "contract", state.OutcomeRejected, map[string]any{"reasons": v.Reasons})
		if sup != nil {
			// The interrupted contract applied what it could; the rest
			// waits, as decided now.
			if op, err := d.open(ctx, gate.OpContract, nil, nil, "", "", sup); err == nil {
				op.close(ctx, "refused: "+v.Reason())
			}
		}
		return nil, refused("contract", v)
	}
	s := d.begin("contract", "applying contract migrations")
	if len(v.Run) == 0 && sup == nil {
		s.skip("no pending contract migrations")
		return &runner.Result{}, nil
	}
	op, err := d.open(ctx, gate.OpContract, nil, nil, "", "", sup)
	if err != nil {
		return nil, s.fail(err)
	}
	if len(v.Run) == 0 {
		// The interrupted contract had applied everything it was to.
		op.close(ctx, "ok: nothing was left to apply")
		s.skip("no pending contract migrations; the interrupted contract is finished")
		return &runner.Result{}, nil
	}
	d.failpoint("contract:after-intent")
	ro := (&run{d: d}).runOptions(phase)
	ro.Force, ro.Reason = o.Force, o.Reason
	ro.State = func(context.Context, *pgx.Conn) (*gate.State, error) {
		st := *f.g.State
		st.Now = time.Now()
		st.Operation = nil // this operation
		return &st, nil
	}
	res, err := runner.Migrate(ctx, d.Conn, d.Migrations, ro)
	var applied []string
	if res != nil {
		applied = res.Applied
	}
	if err != nil {
		d.log(ctx, "contract", state.OutcomeFailed, map[string]any{"applied": applied, "error": err.Error()})
		op.close(ctx, "failed: "+err.Error())
		return res, s.fail(err)
	}
	d.log(ctx, "contract", state.OutcomeOK, map[string]any{"applied": applied, "forced": v.Forced, "reason": o.Reason})
	op.close(ctx, state.OutcomeOK)
	s.ok(map[string]any{"applied": applied}, "applied %d: %s", len(applied), strings.Join(applied, ", "))
	for _, w := range v.Wait {
		d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "contract", Outcome: Info,
			Message: fmt.Sprintf("%s waits: %s", w.Migration.Path, w.Reason)})
	}
	return res, nil
}
