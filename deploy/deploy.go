// Package deploy runs a migration-aware blue-green release: the database
// and the traffic move in the only safe order, and a failure at any step
// leaves users on a working color.
//
//	lock → plan → expand → deploy hook → readiness → smoke → warm-up →
//	gate → switch (at once or in steps) → confidence window (automatic
//	rollback) → drain → the old color stands by as the rollback target →
//	retire → contract
//
// The load balancer (the switcher) is the truth for where traffic goes;
// every command reads it first and reconciles the deployment state
// (package state) with it. The state records each deployment's status, so
// a run killed part way can be resumed (deploy --resume) or undone
// (rollback).
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

// Deployer runs the commands of one service. Config must have its defaults
// applied (ApplyDefaults) and its ${VAR}s expanded.
type Deployer struct {
	Config     *config.Deploy
	Conn       *pgx.Conn // the service's database: migrations and state
	Switcher   switcher.Switcher
	Migrations []*runner.Migration // the directory, as runner.Load reads it
	// Actor names who runs the command in the state's events; default the
	// OS user.
	Actor string
	// Report receives the events; nil discards them.
	Report Reporter
	// HTTP is the client of probes, smoke checks and warm-up; nil means a
	// default client.
	HTTP *http.Client
	// Out receives the output of hooks and the runner; nil discards it.
	Out io.Writer
	// AfterSwitch, when set, is called once the load balancer took a
	// deploy's switch and before the switch is recorded: the one moment
	// where the record and the load balancer disagree. Fault tests stop
	// the process there.
	AfterSwitch func()
}

// RefusedError is a command that would be unsafe in the current state;
// nothing was changed.
type RefusedError struct {
	Action string // "deploy", "rollback", "switch", "contract"
	Reason string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("%s refused: %s", e.Action, e.Reason) }

// GateError is a switch the gate blocked.
type GateError struct {
	Blocks []gate.Check
}

func (e *GateError) Error() string {
	var parts []string
	for _, c := range e.Blocks {
		parts = append(parts, fmt.Sprintf("%s: %s", c.Name, c.Reason))
	}
	return "the gate blocked the switch: " + strings.Join(parts, "; ")
}

// RolledBackError is a deploy whose new color failed after the switch and
// whose traffic went back to the old color.
type RolledBackError struct {
	Cause error
	// FirstFailure is when the first failing probe was seen; Back when the
	// load balancer reported traffic on the old color again.
	FirstFailure, Back time.Time
	To                 switcher.Color
}

func (e *RolledBackError) Error() string {
	return fmt.Sprintf("rolled back to %s %s after the first failing probe: %v", e.To, e.Back.Sub(e.FirstFailure).Round(time.Millisecond), e.Cause)
}

func (e *RolledBackError) Unwrap() error { return e.Cause }

// SwitchError is a load balancer that did not take the change.
type SwitchError struct {
	To  switcher.Color
	Err error
	// Active is where the load balancer says traffic is after the failure
	// ("" if it cannot say either).
	Active switcher.Color
}

func (e *SwitchError) Error() string {
	where := "the load balancer cannot say where traffic is"
	if e.Active != "" {
		where = "traffic is on " + string(e.Active)
	}
	return fmt.Sprintf("switch to %s failed (%s): %v", e.To, where, e.Err)
}

func (e *SwitchError) Unwrap() error { return e.Err }

func (d *Deployer) report() Reporter {
	if d.Report == nil {
		return Discard
	}
	return d.Report
}

func (d *Deployer) out() io.Writer {
	if d.Out == nil {
		return io.Discard
	}
	return d.Out
}

func (d *Deployer) actor() string {
	if d.Actor != "" {
		return d.Actor
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "bgmigrate"
}

func (d *Deployer) client() *http.Client {
	if d.HTTP != nil {
		return d.HTTP
	}
	return http.DefaultClient
}

func (d *Deployer) vars(dep *state.Deployment) Vars {
	return Vars{Service: d.Config.Service, Color: string(dep.Color), Version: dep.Version, URL: ColorURL(d.Config, dep.Color)}
}

// log appends an event to the state's log; the log is an audit trail, so a
// failure to write it is reported but does not stop the command.
func (d *Deployer) log(ctx context.Context, action, outcome string, detail map[string]any) {
	if err := state.Log(ctx, d.Conn, d.Config.Service, d.actor(), action, outcome, detail); err != nil {
		d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: action, Outcome: Info, Message: "could not record the event: " + err.Error()})
	}
}

// setStatus moves dep through the given statuses, updating dep.
func (d *Deployer) setStatus(ctx context.Context, dep *state.Deployment, to ...state.Status) error {
	for _, s := range to {
		if dep.Status == s {
			continue
		}
		if err := state.SetStatus(ctx, d.Conn, dep.ID, s, d.actor()); err != nil {
			return err
		}
		dep.Status = s
	}
	return nil
}

// start takes the deployment lock, makes sure the state tables exist and
// reconciles the record with the load balancer. It returns where the load
// balancer sends traffic and the live deployment of each color.
func (d *Deployer) start(ctx context.Context, what string) (unlock func(), active switcher.Color, lv map[switcher.Color]*state.Deployment, err error) {
	unlock, err = d.lock(ctx, what)
	if err != nil {
		return nil, "", nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	if err = state.Ensure(ctx, d.Conn); err != nil {
		return nil, "", nil, err
	}
	if active, err = d.reconcile(ctx); err != nil {
		return nil, "", nil, err
	}
	lv, err = state.Live(ctx, d.Conn, d.Config.Service)
	return unlock, active, lv, err
}

// reconcile reads the active color from the load balancer and corrects
// the recorded traffic rule when it differs.
func (d *Deployer) reconcile(ctx context.Context) (switcher.Color, error) {
	s := d.begin("reconcile", "reading the load balancer")
	active, err := d.Switcher.Active(ctx)
	if err != nil {
		return "", s.fail(fmt.Errorf("read the active color from the load balancer: %w", err))
	}
	rule, err := state.Traffic(ctx, d.Conn, d.Config.Service)
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		return "", s.fail(err)
	case rule.Color == active && rule.Percent == 100:
		s.ok(map[string]any{"active": active}, "traffic on %s, as recorded", active)
		return active, nil
	}
	if _, weighted := d.Switcher.(switcher.Weighted); weighted && err == nil && rule.Percent < 100 {
		// A gradual switch part way: the record holds the split.
		s.ok(map[string]any{"active": active}, "traffic split %d%% to %s, as recorded", rule.Percent, rule.Color)
		return active, nil
	}
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, active, 100, d.actor()); err != nil {
		return "", s.fail(err)
	}
	was := "nothing recorded"
	if rule.Service != "" {
		was = fmt.Sprintf("the record said %d%% to %s", rule.Percent, rule.Color)
	}
	d.log(ctx, "reconcile", state.OutcomeOK, map[string]any{"active": active, "was": was})
	s.ok(map[string]any{"active": active}, "traffic on %s (%s; record corrected)", active, was)
	return active, nil
}

// DeployOptions say what to deploy.
type DeployOptions struct {
	Version string
	// Steps override the configured steps when not nil.
	Steps []int
	// Resume finishes the service's unfinished deployment.
	Resume bool
}

// Deploy releases a version onto the idle color and moves traffic to it.
func (d *Deployer) Deploy(ctx context.Context, o DeployOptions) error {
	unlock, active, lv, err := d.start(ctx, "deploy")
	if err != nil {
		return err
	}
	defer unlock()
	steps := o.Steps
	if steps == nil {
		steps = d.Config.Steps
	}
	if err := d.checkSteps(steps); err != nil {
		return err
	}
	unfinished := unfinishedOf(lv)
	if o.Resume {
		if unfinished == nil {
			return &RefusedError{Action: "deploy --resume", Reason: fmt.Sprintf("no deployment of %q is unfinished", d.Config.Service)}
		}
		if o.Version != "" && o.Version != unfinished.Version {
			return &RefusedError{Action: "deploy --resume", Reason: fmt.Sprintf("the unfinished deployment is version %q on %s, not %q", unfinished.Version, unfinished.Color, o.Version)}
		}
		return d.resume(ctx, unfinished, active, lv, steps)
	}
	if o.Version == "" {
		return &RefusedError{Action: "deploy", Reason: "no version given"}
	}
	if unfinished != nil {
		return &RefusedError{Action: "deploy", Reason: fmt.Sprintf("deployment %d of version %q onto %s did not finish (%s); run bgmigrate deploy --resume or bgmigrate rollback",
			unfinished.ID, unfinished.Version, unfinished.Color, unfinished.Status)}
	}
	idle := active.Other()
	current := lv[active]
	if cur := lv[idle]; cur != nil {
		switch cur.Status {
		case state.Standby, state.Draining:
			end := d.windowEnd(current, cur)
			if time.Now().Before(end) {
				return &RefusedError{Action: "deploy", Reason: fmt.Sprintf("%s holds version %q, the rollback target until %s; run bgmigrate retire first",
					idle, cur.Version, end.Format(time.RFC3339))}
			}
			if err := d.retire(ctx, cur, "the rollback window ended"); err != nil {
				return err
			}
		case state.Active:
			return &RefusedError{Action: "deploy", Reason: fmt.Sprintf("the record says %s (version %q) is active but the load balancer sends traffic to %s; run bgmigrate switch --to %s or bgmigrate rollback",
				idle, cur.Version, active, idle)}
		}
	}
	if current != nil && current.Status != state.Active {
		current = nil // traffic on a color whose record is not active: nothing to go back to
	}
	return d.release(ctx, o.Version, idle, current, steps)
}

// release runs the flow from the plan to the end.
func (d *Deployer) release(ctx context.Context, version string, idle switcher.Color, current *state.Deployment, steps []int) error {
	start := time.Now()
	run, later, err := d.plan(ctx)
	if err != nil {
		return err
	}
	dep, err := state.Begin(ctx, d.Conn, d.Config.Service, version, idle, d.actor())
	if err != nil {
		return err
	}
	if v := lastVersion(d.Migrations); v != "" {
		if err := state.SetSchemaVersion(ctx, d.Conn, dep.ID, v, d.actor()); err != nil {
			return err
		}
		dep.SchemaVersion = v
	}
	d.log(ctx, "deploy", "started", map[string]any{"id": dep.ID, "version": version, "color": idle, "expand": len(run), "contract_later": len(later)})
	d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: Info,
		Message: fmt.Sprintf("deployment %d: version %s onto %s", dep.ID, version, idle), Fields: map[string]any{"id": dep.ID, "version": version, "color": idle}})
	if err := d.prepare(ctx, dep, current, len(run) > 0); err != nil {
		return err
	}
	return d.finish(ctx, dep, current, steps, start)
}

// plan checks the pending migrations: error findings, breaking and mixed
// files refuse the deploy before anything changes.
func (d *Deployer) plan(ctx context.Context) (run, later []*runner.Migration, err error) {
	s := d.begin("plan", "linting and planning the pending migrations")
	hist, err := runner.History(ctx, d.Conn)
	if err != nil {
		return nil, nil, s.fail(fmt.Errorf("read history: %w", err))
	}
	pending, err := runner.Pending(d.Migrations, hist)
	if err != nil {
		return nil, nil, s.fail(err)
	}
	run, later, err = runner.Select(pending, runner.PhaseExpand)
	if err != nil {
		return nil, nil, s.fail(&RefusedError{Action: "deploy", Reason: err.Error()})
	}
	s.ok(map[string]any{"expand": names(run), "contract": names(later)}, "%d expand migration(s) to apply before the switch, %d contract migration(s) left for after retire", len(run), len(later))
	return run, later, nil
}

// prepare brings dep from Deploying to Ready: expand migrations, the deploy
// hook, readiness, smoke, warm-up and the gate. On failure dep is recorded
// as failed and the color is left running for inspection.
func (d *Deployer) prepare(ctx context.Context, dep, current *state.Deployment, expand bool) (err error) {
	defer func() {
		if err != nil {
			d.fail(dep, err)
		}
	}()
	s := d.begin("expand", "applying expand migrations")
	if !expand {
		s.skip("no pending expand migrations")
	} else {
		res, err := runner.Migrate(ctx, d.Conn, d.Migrations, runner.Options{
			Phase: runner.PhaseExpand, Deployment: strconv.FormatInt(dep.ID, 10), AppliedBy: d.actor(),
			LockTimeout: d.Config.LockTimeout, StatementTimeout: d.Config.StatementTimeout, Log: d.out(),
		})
		if err != nil {
			return s.fail(err)
		}
		s.ok(map[string]any{"applied": res.Applied}, "applied %d: %s", len(res.Applied), strings.Join(res.Applied, ", "))
	}
	if err := d.rollout(ctx, dep); err != nil {
		return err
	}
	if err := d.gate(ctx, current, dep); err != nil {
		return err
	}
	return d.setStatus(ctx, dep, state.Ready)
}

// fail records dep as failed after err; the color is left as it is.
func (d *Deployer) fail(dep *state.Deployment, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if dep.Status == state.Deploying || dep.Status == state.Ready {
		if err := d.setStatus(ctx, dep, state.Failed); err != nil {
			d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: Info, Message: "could not record the failure: " + err.Error()})
		}
	}
	d.log(ctx, "deploy", state.OutcomeFailed, map[string]any{"id": dep.ID, "version": dep.Version, "color": dep.Color, "error": cause.Error()})
}

// rollout runs the deploy hook, then waits for readiness, runs the smoke
// checks and the warm-up.
func (d *Deployer) rollout(ctx context.Context, dep *state.Deployment) error {
	v := d.vars(dep)
	url := ColorURL(d.Config, dep.Color)
	s := d.begin("deploy-hook", "deploying %s onto %s", dep.Version, dep.Color)
	if argv := HookArgv(d.Config, dep.Color, "deploy"); len(argv) == 0 {
		s.skip("no deploy hook configured for %s", dep.Color)
	} else {
		if err := RunCommand(ctx, "deploy hook", argv, v, d.Config.Hooks.Timeout, d.out()); err != nil {
			return s.fail(err)
		}
		s.ok(nil, "%s", strings.Join(v.Expand(argv), " "))
	}

	s = d.begin("readiness", "waiting for %s%s", url, d.Config.Readiness.Path)
	n := 0
	err := WaitReady(ctx, d.client(), url, d.Config.Readiness, func(r ProbeResult) {
		n++
		s.progress("probe %d: %s", n, r.Reason)
	})
	if err != nil {
		return s.fail(err)
	}
	s.ok(map[string]any{"probes": n}, "%s ready after %d probe(s)", dep.Color, n)

	s = d.begin("smoke", "running %d smoke check(s)", len(d.Config.Smoke))
	if len(d.Config.Smoke) == 0 {
		s.skip("no smoke checks configured")
	} else {
		res, err := Smoke(ctx, d.client(), url, d.Config.Smoke, v, d.out())
		if err != nil {
			return s.fail(err)
		}
		s.ok(nil, "%d check(s) passed", len(res))
	}

	s = d.begin("warm-up", "sending %d request(s)", d.Config.WarmUp.Requests)
	if d.Config.WarmUp.Requests == 0 {
		s.skip("no warm-up configured")
	} else {
		res, err := WarmUp(ctx, d.client(), url, d.Config.WarmUp)
		if err != nil {
			return s.fail(err)
		}
		s.ok(map[string]any{"sent": res.Sent, "p50_ms": res.P50.Milliseconds(), "p99_ms": res.P99.Milliseconds()},
			"%d request(s), p50 %s, p99 %s", res.Sent, formatDuration(res.P50), formatDuration(res.P99))
	}
	return nil
}

// gate runs the pre-switch checks: is the live schema right for the old
// color (current, the rollback target) and for the new one (dep)?
func (d *Deployer) gate(ctx context.Context, current, dep *state.Deployment) error {
	s := d.begin("gate", "checking the live schema for both colors")
	if d.Config.Gate.Skip {
		d.log(ctx, "gate", "skipped", map[string]any{"id": dep.ID, "reason": "deploy.gate.skip"})
		s.skip("turned off by deploy.gate.skip")
		return nil
	}
	oldV := ""
	if current != nil && current.SchemaVersion != "" {
		oldV = current.SchemaVersion
	}
	devURL := d.Config.Gate.DevURL
	if devURL == "" {
		devURL = d.Config.DatabaseURL
	}
	in, tm, err := live.Collect(ctx, d.Conn, live.CollectOptions{
		Stage: gate.PreSwitch, Migrations: d.Migrations, OldVersion: oldV, NewVersion: dep.SchemaVersion,
		DevURL: devURL, Schemas: d.Config.Gate.Schemas, MaxTransactionAge: d.Config.Gate.MaxTransactionAge, Log: d.out(),
		Service: d.Config.Service, Deployment: dep.ID,
	})
	if err != nil {
		return s.fail(fmt.Errorf("gate: %w", err))
	}
	dec := gate.Evaluate(in)
	detail := map[string]any{"id": dep.ID, "allow": dec.Allow, "checks": dec.Checks}
	if !dec.Allow {
		d.log(ctx, "gate", "blocked", detail)
		return s.fail(&GateError{Blocks: dec.Blocks()})
	}
	d.log(ctx, "gate", state.OutcomeOK, detail)
	s.ok(map[string]any{"checks": len(dec.Checks), "replay_s": tm.Replay.Seconds()}, "allow: %d checks passed (replays %s)", len(dec.Checks), tm.Replay.Round(time.Millisecond))
	return nil
}

// finish switches traffic to dep (Ready), records it, watches the
// confidence window and lets the old color drain into standby.
func (d *Deployer) finish(ctx context.Context, dep, current *state.Deployment, steps []int, start time.Time) error {
	if err := d.cutover(ctx, dep, current, steps); err != nil {
		return err
	}
	return d.settle(ctx, dep, current, time.Now(), start)
}

// cutover moves the traffic to dep, in steps when asked, and records it.
func (d *Deployer) cutover(ctx context.Context, dep, current *state.Deployment, steps []int) error {
	if len(steps) > 1 {
		w := d.Switcher.(switcher.Weighted) // checkSteps made sure
		for _, p := range steps[:len(steps)-1] {
			s := d.begin("switch", "%d%% of the traffic to %s", p, dep.Color)
			if err := w.SetWeights(ctx, dep.Color, p); err != nil {
				err = d.switchError(ctx, dep.Color, err)
				return s.fail(err)
			}
			if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, dep.Color, p, d.actor()); err != nil {
				return s.fail(err)
			}
			s.ok(map[string]any{"percent": p, "color": dep.Color}, "%d%% of the traffic on %s", p, dep.Color)
			if err := d.watchStep(ctx, dep, current, p); err != nil {
				return err
			}
		}
	}
	s := d.begin("switch", "all traffic to %s", dep.Color)
	if err := d.Switcher.Switch(ctx, dep.Color); err != nil {
		err = d.switchError(ctx, dep.Color, err)
		d.log(ctx, "switch", state.OutcomeFailed, map[string]any{"id": dep.ID, "to": dep.Color, "error": err.Error()})
		return s.fail(err)
	}
	s.progress("the load balancer sends traffic to %s; recording it", dep.Color)
	if d.AfterSwitch != nil {
		d.AfterSwitch()
	}
	if err := d.recordSwitch(ctx, dep, current); err != nil {
		return s.fail(fmt.Errorf("traffic is on %s but recording it failed (bgmigrate status and deploy --resume repair it): %w", dep.Color, err))
	}
	s.ok(map[string]any{"color": dep.Color, "version": dep.Version}, "traffic on %s (%s)", dep.Color, dep.Version)
	return nil
}

// watchStep watches dep for the step pause while it takes percent of the
// traffic; on failure the traffic goes back to the old color.
func (d *Deployer) watchStep(ctx context.Context, dep, current *state.Deployment, percent int) error {
	c := d.Config.Confidence
	w := d.Config.StepPause
	c.Window = &w
	s := d.begin("step-watch", "watching %s at %d%% for %s", dep.Color, percent, w)
	n := 0
	err := Watch(ctx, d.client(), ColorURL(d.Config, dep.Color), c, d.vars(dep), func(r ProbeResult) {
		n++
		s.progress("probe %d: %s", n, r.Reason)
	})
	var ce *ConfidenceError
	if errors.As(err, &ce) {
		s.fail(err)
		return d.abortSteps(ctx, dep, current, ce)
	}
	if err != nil {
		return s.fail(err)
	}
	s.ok(map[string]any{"probes": n}, "%d probe(s) passed", n)
	return nil
}

// abortSteps sends all traffic back to the old color during a gradual
// switch; dep never became active, so it is recorded as failed.
func (d *Deployer) abortSteps(ctx context.Context, dep, current *state.Deployment, ce *ConfidenceError) error {
	back := dep.Color.Other()
	if current != nil {
		back = current.Color
	}
	s := d.begin("rollback", "traffic back to %s", back)
	if err := d.Switcher.Switch(ctx, back); err != nil {
		return s.fail(d.switchError(ctx, back, err))
	}
	at := time.Now()
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, back, 100, d.actor()); err != nil {
		return s.fail(err)
	}
	d.fail(dep, ce)
	s.ok(map[string]any{"first_failure_to_rollback_s": at.Sub(ce.FirstFailure).Seconds()}, "traffic back on %s %s after the first failing probe", back, at.Sub(ce.FirstFailure).Round(time.Millisecond))
	return &RolledBackError{Cause: ce, FirstFailure: ce.FirstFailure, Back: at, To: back}
}

// switchError wraps a switcher failure with where the traffic is now.
func (d *Deployer) switchError(ctx context.Context, to switcher.Color, err error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	active, aerr := d.Switcher.Active(rctx)
	if aerr != nil {
		active = ""
	}
	return &SwitchError{To: to, Err: err, Active: active}
}

// recordSwitch records that dep takes all traffic and current drains.
func (d *Deployer) recordSwitch(ctx context.Context, dep, current *state.Deployment) error {
	if err := d.setStatus(ctx, dep, state.Ready, state.Active); err != nil {
		return err
	}
	if current != nil && current.Status == state.Active {
		if err := d.setStatus(ctx, current, state.Draining); err != nil {
			return err
		}
	}
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, dep.Color, 100, d.actor()); err != nil {
		return err
	}
	if fresh, err := state.Get(ctx, d.Conn, dep.ID); err == nil {
		dep.ActivatedAt = fresh.ActivatedAt
	}
	return nil
}

// settle watches the confidence window after the switch (rolling back on
// failure), then lets the old color drain into standby.
func (d *Deployer) settle(ctx context.Context, dep, current *state.Deployment, switchedAt, start time.Time) error {
	c := d.Config.Confidence
	s := d.begin("confidence", "watching %s for %s", dep.Color, *c.Window)
	if *c.Window == 0 {
		s.skip("confidence window turned off")
	} else {
		n, failed := 0, 0
		err := Watch(ctx, d.client(), ColorURL(d.Config, dep.Color), c, d.vars(dep), func(r ProbeResult) {
			n++
			if r.Err != nil {
				failed++
			}
			s.progress("probe %d: %s (%d failed)", n, r.Reason, failed)
		})
		var ce *ConfidenceError
		if errors.As(err, &ce) {
			s.fail(err)
			return d.rollbackAfterFailure(ctx, dep, current, ce)
		}
		if err != nil {
			return s.fail(err)
		}
		s.ok(map[string]any{"probes": n, "failed": failed}, "%d probe(s), %d failed", n, failed)
	}
	if current != nil {
		s := d.begin("drain", "%s finishes its requests", current.Color)
		if wait := d.Config.Drain - time.Since(switchedAt); wait > 0 {
			select {
			case <-ctx.Done():
				return s.fail(ctx.Err())
			case <-time.After(wait):
			}
		}
		if err := d.setStatus(ctx, current, state.Standby); err != nil {
			return s.fail(err)
		}
		s.ok(map[string]any{"rollback_until": d.windowEnd(dep, current)}, "%s (%s) stands by as the rollback target until %s",
			current.Color, current.Version, d.windowEnd(dep, current).Format(time.RFC3339))
	}
	d.log(ctx, "deploy", state.OutcomeOK, map[string]any{"id": dep.ID, "version": dep.Version, "color": dep.Color, "seconds": time.Since(start).Seconds()})
	d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: OK, Duration: time.Since(start).Seconds(),
		Message: fmt.Sprintf("version %s live on %s", dep.Version, dep.Color)})
	return nil
}

// rollbackAfterFailure sends traffic back to the old color when the new one
// failed its confidence window.
func (d *Deployer) rollbackAfterFailure(ctx context.Context, dep, current *state.Deployment, ce *ConfidenceError) error {
	s := d.begin("rollback", "automatic rollback")
	// The color that served before the switch; with no record of it (the
	// first deploy with bgmigrate) it is still the one to go back to: it
	// answered a moment ago.
	to, what := dep.Color.Other(), "the code from before the first bgmigrate deploy"
	if current != nil {
		to, what = current.Color, current.Version
	}
	if err := d.Switcher.Switch(ctx, to); err != nil {
		err = d.switchError(ctx, to, err)
		d.log(ctx, "rollback", state.OutcomeFailed, map[string]any{"id": dep.ID, "automatic": true, "error": err.Error()})
		return s.fail(err)
	}
	back := time.Now()
	var err error
	if current != nil {
		err = d.recordRollback(ctx, dep, current)
	} else if err = d.setStatus(ctx, dep, state.RolledBack); err == nil {
		err = state.SetTraffic(ctx, d.Conn, d.Config.Service, to, 100, d.actor())
	}
	if err != nil {
		return s.fail(fmt.Errorf("traffic is back on %s but recording it failed (bgmigrate status repairs the traffic record): %w", to, err))
	}
	took := back.Sub(ce.FirstFailure)
	d.log(ctx, "rollback", state.OutcomeOK, map[string]any{"id": dep.ID, "to": to, "automatic": true, "first_failure_to_rollback_s": took.Seconds(), "cause": ce.Error()})
	s.ok(map[string]any{"first_failure_to_rollback_s": took.Seconds(), "to": to},
		"traffic back on %s (%s) %s after the first failing probe", to, what, took.Round(time.Millisecond))
	return &RolledBackError{Cause: ce, FirstFailure: ce.FirstFailure, Back: back, To: to}
}

// recordRollback records that traffic went from dep back to target.
func (d *Deployer) recordRollback(ctx context.Context, dep, target *state.Deployment) error {
	switch dep.Status {
	case state.Active:
		if err := d.setStatus(ctx, dep, state.RolledBack); err != nil {
			return err
		}
	case state.Deploying, state.Ready:
		if err := d.setStatus(ctx, dep, state.Failed); err != nil {
			return err
		}
	}
	if err := d.setStatus(ctx, target, state.Active); err != nil {
		return err
	}
	return state.SetTraffic(ctx, d.Conn, d.Config.Service, target.Color, 100, d.actor())
}

// resume finishes an unfinished deployment from where it stopped.
func (d *Deployer) resume(ctx context.Context, dep *state.Deployment, active switcher.Color, lv map[switcher.Color]*state.Deployment, steps []int) error {
	start := time.Now()
	current := lv[dep.Color.Other()]
	if current != nil && current.Status != state.Active {
		current = nil
	}
	d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: Info,
		Message: fmt.Sprintf("resuming deployment %d: version %s onto %s (%s)", dep.ID, dep.Version, dep.Color, dep.Status)})
	if active == dep.Color {
		// The switch happened; recording it did not.
		s := d.begin("switch", "recording the switch the load balancer already made")
		if err := d.recordSwitch(ctx, dep, current); err != nil {
			return s.fail(err)
		}
		s.ok(map[string]any{"color": dep.Color}, "traffic on %s (%s), as the load balancer says", dep.Color, dep.Version)
		return d.settle(ctx, dep, current, time.Now(), start)
	}
	if dep.Status == state.Deploying {
		run, _, err := d.plan(ctx)
		if err != nil {
			return err
		}
		if err := d.prepare(ctx, dep, current, len(run) > 0); err != nil {
			return err
		}
	} else if err := d.gate(ctx, current, dep); err != nil {
		d.fail(dep, err)
		return err
	}
	return d.finish(ctx, dep, current, steps, start)
}

// windowEnd is when old stops being the rollback target of dep: the
// rollback window after dep took the traffic.
func (d *Deployer) windowEnd(dep, old *state.Deployment) time.Time {
	from := time.Time{}
	if dep != nil {
		from = dep.ActivatedAt
	}
	if from.IsZero() && old != nil {
		from = old.DeployedAt
	}
	if from.IsZero() {
		from = time.Now()
	}
	return from.Add(d.Config.RollbackWindow)
}

func (d *Deployer) checkSteps(steps []int) error {
	if len(steps) == 0 {
		return nil
	}
	if _, ok := d.Switcher.(switcher.Weighted); !ok && len(steps) > 1 {
		return &RefusedError{Action: "deploy", Reason: fmt.Sprintf("steps %v need a load balancer that splits traffic; this switcher only switches at once", steps)}
	}
	prev := 0
	for _, p := range steps {
		if p <= prev || p > 100 {
			return &RefusedError{Action: "deploy", Reason: fmt.Sprintf("steps %v: want ascending percentages from 1 to 100", steps)}
		}
		prev = p
	}
	if prev != 100 {
		return &RefusedError{Action: "deploy", Reason: fmt.Sprintf("steps %v: the last step must be 100", steps)}
	}
	return nil
}

func unfinishedOf(lv map[switcher.Color]*state.Deployment) *state.Deployment {
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if dep := lv[c]; dep != nil && (dep.Status == state.Deploying || dep.Status == state.Ready) {
			return dep
		}
	}
	return nil
}

func lastVersion(migs []*runner.Migration) string {
	if len(migs) == 0 {
		return ""
	}
	return migs[len(migs)-1].Version
}

func names(migs []*runner.Migration) []string {
	out := make([]string, 0, len(migs))
	for _, m := range migs {
		out = append(out, m.Path)
	}
	return out
}
