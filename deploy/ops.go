package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

// Rollback sends traffic back to the rollback target at once. It refuses
// when there is none, when its window ended, or when a contract migration
// ran since the target last took traffic (the target may need what it
// removed). An unfinished deployment that never took traffic is abandoned
// (recorded as failed); one that took traffic unrecorded is rolled back.
func (d *Deployer) Rollback(ctx context.Context) error {
	unlock, active, lv, err := d.start(ctx, "rollback")
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	cur, target := lv[active], lv[active.Other()]
	if u := unfinishedOf(lv); u != nil && u.Color != active {
		// Traffic never reached it: give the deployment up.
		s := d.begin("rollback", "abandoning unfinished deployment %d (%s on %s)", u.ID, u.Version, u.Color)
		d.fail(u, fmt.Errorf("abandoned by bgmigrate rollback"))
		s.ok(map[string]any{"id": u.ID}, "deployment %d recorded as failed; traffic stays on %s", u.ID, active)
		return nil
	}
	if cur == nil {
		return &RefusedError{Action: "rollback", Reason: fmt.Sprintf("no deployment of %q is recorded on %s, where the load balancer sends traffic", d.Config.Service, active)}
	}
	if target == nil || (target.Status != state.Standby && target.Status != state.Draining && target.Status != state.Active) {
		return &RefusedError{Action: "rollback", Reason: fmt.Sprintf("%s holds no rollback target (it was retired or never deployed)", active.Other())}
	}
	if cur.Status == state.Active {
		if end := d.windowEnd(cur, target); time.Now().After(end) {
			return &RefusedError{Action: "rollback", Reason: fmt.Sprintf("the rollback window of %s (%s) ended at %s", target.Color, target.Version, end.Format(time.RFC3339))}
		}
	}
	if why, err := d.contractSince(ctx, cur); err != nil {
		return err
	} else if why != "" {
		return &RefusedError{Action: "rollback", Reason: why}
	}
	s := d.begin("rollback", "traffic back to %s (%s)", target.Color, target.Version)
	if err := d.Switcher.Switch(ctx, target.Color); err != nil {
		err = d.switchError(ctx, target.Color, err)
		d.log(ctx, "rollback", state.OutcomeFailed, map[string]any{"to": target.Color, "error": err.Error()})
		return s.fail(err)
	}
	took := time.Since(start)
	if err := d.recordRollback(ctx, cur, target); err != nil {
		return s.fail(fmt.Errorf("traffic is on %s but recording it failed (bgmigrate status repairs the traffic record): %w", target.Color, err))
	}
	d.log(ctx, "rollback", state.OutcomeOK, map[string]any{"from": cur.Color, "from_version": cur.Version, "to": target.Color, "to_version": target.Version, "seconds": took.Seconds()})
	s.ok(map[string]any{"to": target.Color, "version": target.Version}, "traffic on %s (%s); %s (%s) rolled back", target.Color, target.Version, cur.Color, cur.Version)
	return nil
}

// contractSince names the contract migrations applied since dep took the
// traffic: the color before it may depend on what they removed.
func (d *Deployer) contractSince(ctx context.Context, dep *state.Deployment) (string, error) {
	if dep.ActivatedAt.IsZero() {
		return "", nil
	}
	hist, err := runner.History(ctx, d.Conn)
	if err != nil {
		return "", fmt.Errorf("read history: %w", err)
	}
	var ran []string
	for _, a := range hist {
		if a.Phase == string(runner.PhaseContract) && a.FinishedAt.After(dep.ActivatedAt) {
			ran = append(ran, fmt.Sprintf("%s at %s", a.Version, a.FinishedAt.UTC().Format(time.RFC3339)))
		}
	}
	if len(ran) == 0 {
		return "", nil
	}
	return fmt.Sprintf("contract migration(s) %s ran after %s took the traffic; the old color may need what they removed", strings.Join(ran, ", "), dep.Color), nil
}

// Switch is the manual, gated switch to a color that holds a ready or
// standing-by deployment.
func (d *Deployer) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	unlock, active, lv, err := d.start(ctx, "switch")
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	target, cur := lv[to], lv[to.Other()]
	if target == nil {
		return &RefusedError{Action: "switch", Reason: fmt.Sprintf("%s holds no deployment to switch to", to)}
	}
	if active == to && target.Status == state.Active {
		d.begin("switch", "traffic to %s", to).skip("traffic is on %s (%s) already", to, target.Version)
		return nil
	}
	switch target.Status {
	case state.Ready, state.Standby, state.Draining, state.Active:
	default:
		return &RefusedError{Action: "switch", Reason: fmt.Sprintf("%s holds deployment %d in status %s", to, target.ID, target.Status)}
	}
	if cur != nil && cur.Status != state.Active && cur.Status != state.Ready {
		cur = nil
	}
	if err := d.gate(ctx, cur, target); err != nil {
		return err
	}
	if active != to {
		s := d.begin("switch", "all traffic to %s", to)
		if err := d.Switcher.Switch(ctx, to); err != nil {
			err = d.switchError(ctx, to, err)
			d.log(ctx, "switch", state.OutcomeFailed, map[string]any{"to": to, "error": err.Error()})
			return s.fail(err)
		}
		s.ok(map[string]any{"color": to}, "traffic on %s (%s)", to, target.Version)
	}
	if target.Status == state.Standby || target.Status == state.Draining {
		// Back to a color that stood by: the record is the one of a rollback.
		if err := d.setStatus(ctx, target, state.Active); err != nil {
			return err
		}
		if cur != nil {
			if err := d.setStatus(ctx, cur, state.Draining); err != nil {
				return err
			}
		}
		if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, to, 100, d.actor()); err != nil {
			return err
		}
	} else if err := d.recordSwitch(ctx, target, cur); err != nil {
		return err
	}
	d.log(ctx, "switch", state.OutcomeOK, map[string]any{"to": to, "version": target.Version, "manual": true})
	if cur == nil {
		return nil
	}
	s := d.begin("drain", "%s finishes its requests", cur.Color)
	select {
	case <-ctx.Done():
		return s.fail(ctx.Err())
	case <-time.After(d.Config.Drain - time.Since(start)):
	}
	if err := d.setStatus(ctx, cur, state.Standby); err != nil {
		return s.fail(err)
	}
	s.ok(nil, "%s (%s) stands by as the rollback target", cur.Color, cur.Version)
	return nil
}

// Retire records that the old color is no longer a rollback target, runs
// its scale-down hook and allows the contract migrations.
func (d *Deployer) Retire(ctx context.Context) error {
	unlock, active, lv, err := d.start(ctx, "retire")
	if err != nil {
		return err
	}
	defer unlock()
	old := lv[active.Other()]
	if old == nil || (old.Status != state.Standby && old.Status != state.Draining) {
		d.begin("retire", "retiring the old color").skip("%s holds no rollback target", active.Other())
		return nil
	}
	return d.retire(ctx, old, "bgmigrate retire")
}

// retire retires dep (Standby or Draining).
func (d *Deployer) retire(ctx context.Context, dep *state.Deployment, reason string) error {
	s := d.begin("retire", "retiring %s (%s): %s", dep.Color, dep.Version, reason)
	if err := d.setStatus(ctx, dep, state.Standby, state.Retired); err != nil {
		return s.fail(err)
	}
	if err := runner.Retire(ctx, d.Conn, string(dep.Color), d.actor(), reason); err != nil {
		return s.fail(fmt.Errorf("record the retirement for the runner: %w", err))
	}
	d.log(ctx, "retire", state.OutcomeOK, map[string]any{"id": dep.ID, "color": dep.Color, "version": dep.Version, "reason": reason})
	if argv := HookArgv(d.Config, dep.Color, "scale_down"); len(argv) > 0 {
		if err := RunCommand(ctx, "scale-down hook", argv, d.vars(dep), d.Config.Hooks.Timeout, d.out()); err != nil {
			d.log(ctx, "scale-down", state.OutcomeFailed, map[string]any{"id": dep.ID, "error": err.Error()})
			return s.fail(fmt.Errorf("%s is retired (no longer a rollback target) but its scale-down hook failed: %w", dep.Color, err))
		}
	}
	s.ok(map[string]any{"color": dep.Color, "version": dep.Version}, "%s (%s) retired; contract migrations may run", dep.Color, dep.Version)
	return nil
}

// expire retires the rollback target whose window has ended.
func (d *Deployer) expire(ctx context.Context, active switcher.Color, lv map[switcher.Color]*state.Deployment) error {
	old, cur := lv[active.Other()], lv[active]
	if old == nil || (old.Status != state.Standby && old.Status != state.Draining) || cur == nil || cur.Status != state.Active {
		return nil
	}
	if time.Now().Before(d.windowEnd(cur, old)) {
		return nil
	}
	if err := d.retire(ctx, old, "the rollback window ended"); err != nil {
		return err
	}
	lv[old.Color] = nil
	return nil
}

// ContractOptions say how to run the contract migrations.
type ContractOptions struct {
	// Force runs them while the old color is still a rollback target;
	// Reason is recorded with them.
	Force  bool
	Reason string
}

// Contract applies the contract migrations once the old color is retired
// (or its rollback window has ended).
func (d *Deployer) Contract(ctx context.Context, o ContractOptions) error {
	unlock, active, lv, err := d.start(ctx, "contract")
	if err != nil {
		return err
	}
	defer unlock()
	if err := d.expire(ctx, active, lv); err != nil {
		return err
	}
	if u := unfinishedOf(lv); u != nil {
		return &RefusedError{Action: "contract", Reason: fmt.Sprintf("deployment %d of version %q onto %s did not finish; run bgmigrate deploy --resume or bgmigrate rollback first", u.ID, u.Version, u.Color)}
	}
	why := ""
	if old := lv[active.Other()]; old != nil && (old.Status == state.Standby || old.Status == state.Draining) {
		why = fmt.Sprintf("%s (%s) is the rollback target until %s; run bgmigrate retire first", old.Color, old.Version, d.windowEnd(lv[active], old).Format(time.RFC3339))
		if !o.Force {
			d.log(ctx, "contract", state.OutcomeRejected, map[string]any{"reason": why})
			return &RefusedError{Action: "contract", Reason: why}
		}
	}
	s := d.begin("contract", "applying contract migrations")
	var applied []string
	res, err := runner.Migrate(ctx, d.Conn, d.Migrations, runner.Options{
		Phase: runner.PhaseContract, AppliedBy: d.actor(), LockTimeout: d.Config.LockTimeout, StatementTimeout: d.Config.StatementTimeout,
		Log: d.out(), Force: o.Force, Reason: o.Reason,
		Gate: func(context.Context, *pgx.Conn) (bool, string, error) { return why == "", why, nil },
	})
	if res != nil {
		applied = res.Applied
	}
	if err != nil {
		d.log(ctx, "contract", state.OutcomeFailed, map[string]any{"applied": applied, "error": err.Error()})
		return s.fail(err)
	}
	if len(applied) == 0 {
		s.skip("no pending contract migrations")
		return nil
	}
	d.log(ctx, "contract", state.OutcomeOK, map[string]any{"applied": applied, "forced": o.Force})
	s.ok(map[string]any{"applied": applied}, "applied %d: %s", len(applied), strings.Join(applied, ", "))
	return nil
}

// ContractGate is the runner's contract gate (runner.Options.Gate) for a
// service deployed with bgmigrate deploy: contract migrations wait while a
// color stands by as the rollback target or a deployment is unfinished.
// A database without deployment state falls back to the runner's own
// retirement records.
func ContractGate(service string) func(context.Context, *pgx.Conn) (bool, string, error) {
	return func(ctx context.Context, conn *pgx.Conn) (bool, string, error) {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass('bgmigrate.deployments') IS NOT NULL`).Scan(&exists); err != nil {
			return false, "", err
		}
		if !exists {
			return runner.RetirementGate(ctx, conn)
		}
		lv, err := state.Live(ctx, conn, service)
		if err != nil {
			return false, "", err
		}
		for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
			d := lv[c]
			if d == nil {
				continue
			}
			switch d.Status {
			case state.Standby, state.Draining:
				return false, fmt.Sprintf("%s (%s, deployment %d) is still the rollback target of %q; run bgmigrate retire first", d.Color, d.Version, d.ID, service), nil
			case state.Deploying, state.Ready:
				return false, fmt.Sprintf("deployment %d (%s onto %s) of %q did not finish", d.ID, d.Version, d.Color, service), nil
			}
		}
		return true, "", nil
	}
}

// Plan writes what Deploy would do, without the deployment lock and
// without changing anything: where traffic is, the color that would get
// the version, the migrations, the hooks and checks, and the reason it
// would be refused, if any. It returns that refusal.
func (d *Deployer) Plan(ctx context.Context, w io.Writer, o DeployOptions) error {
	active, err := d.Switcher.Active(ctx)
	if err != nil {
		return fmt.Errorf("read the active color from the load balancer: %w", err)
	}
	lv := map[switcher.Color]*state.Deployment{}
	var exists bool
	if err := d.Conn.QueryRow(ctx, `SELECT to_regclass('bgmigrate.deployments') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if exists {
		if lv, err = state.Live(ctx, d.Conn, d.Config.Service); err != nil {
			return err
		}
	}
	idle := active.Other()
	fmt.Fprintf(w, "service %s: traffic on %s (load balancer); version %s would go onto %s\n", d.Config.Service, active, orDash(o.Version), idle)
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if dep := lv[c]; dep != nil {
			fmt.Fprintf(w, "  %-5s %s (%s, deployment %d)\n", c, dep.Version, dep.Status, dep.ID)
		} else {
			fmt.Fprintf(w, "  %-5s no live deployment\n", c)
		}
	}
	var refusal error
	refuse := func(format string, args ...any) {
		if refusal == nil {
			refusal = &RefusedError{Action: "deploy", Reason: fmt.Sprintf(format, args...)}
		}
	}
	if u := unfinishedOf(lv); u != nil {
		refuse("deployment %d of version %q onto %s did not finish (%s); run bgmigrate deploy --resume or bgmigrate rollback", u.ID, u.Version, u.Color, u.Status)
	}
	if cur := lv[idle]; cur != nil && (cur.Status == state.Standby || cur.Status == state.Draining) {
		if end := d.windowEnd(lv[active], cur); time.Now().Before(end) {
			refuse("%s holds version %q, the rollback target until %s; run bgmigrate retire first", idle, cur.Version, end.Format(time.RFC3339))
		} else {
			fmt.Fprintf(w, "  %s (%s) would be retired first: its rollback window ended\n", idle, cur.Version)
		}
	}
	hist, err := runner.History(ctx, d.Conn)
	if err != nil {
		return err
	}
	pending, err := runner.Pending(d.Migrations, hist)
	if err != nil {
		return err
	}
	run, later, err := runner.Select(pending, runner.PhaseExpand)
	if err != nil {
		refuse("%v", err)
	}
	fmt.Fprintf(w, "expand migrations before the switch (%d):\n", len(run))
	for _, m := range run {
		fmt.Fprintf(w, "  %s\n", m.Path)
	}
	fmt.Fprintf(w, "contract migrations left for after retire (%d):\n", len(later))
	for _, m := range later {
		fmt.Fprintf(w, "  %s\n", m.Path)
	}
	v := Vars{Service: d.Config.Service, Color: string(idle), Version: o.Version, URL: ColorURL(d.Config, idle)}
	if argv := HookArgv(d.Config, idle, HookDeploy); len(argv) > 0 {
		fmt.Fprintf(w, "deploy hook: %s\n", strings.Join(v.Expand(argv), " "))
	}
	p := d.Config.Readiness
	fmt.Fprintf(w, "readiness: GET %s%s until %d × %d, every %s, within %s\n", v.URL, p.Path, p.Successes, p.Status, p.Interval, p.Deadline)
	for _, c := range d.Config.Smoke {
		fmt.Fprintf(w, "smoke: %s\n", c.Name)
	}
	if d.Config.WarmUp.Requests > 0 {
		fmt.Fprintf(w, "warm-up: %d requests at %d/s over %s\n", d.Config.WarmUp.Requests, d.Config.WarmUp.Rate, strings.Join(d.Config.WarmUp.Paths, ", "))
	}
	if d.Config.Gate.Skip {
		fmt.Fprintln(w, "gate: turned off (deploy.gate.skip)")
	} else {
		fmt.Fprintln(w, "gate: pre-switch, both colors' schemas replayed and compared with the live one")
	}
	steps := o.Steps
	if steps == nil {
		steps = d.Config.Steps
	}
	if err := d.checkSteps(steps); err != nil {
		refuse("%s", err.(*RefusedError).Reason)
	}
	if len(steps) > 1 {
		fmt.Fprintf(w, "switch: in steps %v, each watched for %s\n", steps, d.Config.StepPause)
	} else {
		fmt.Fprintln(w, "switch: all traffic at once")
	}
	fmt.Fprintf(w, "confidence window: %s, then %s drains and stands by for %s\n", *d.Config.Confidence.Window, active, d.Config.RollbackWindow)
	if refusal != nil {
		fmt.Fprintf(w, "would be refused: %s\n", refusal.(*RefusedError).Reason)
	}
	return refusal
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
