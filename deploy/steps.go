package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// Step is one step of a deploy, as data: the run executes the list in
// order and --dry-run prints the same list, so the plan cannot drift from
// the run.
type Step struct {
	Name string
	// Plan says what the step will do, for --dry-run.
	Plan func(r *run) string
	// Skip says why the step has nothing to do this time; "" runs it.
	Skip func(r *run) string
	// Pre must hold before the step runs: the switch needs a new color
	// that passed its checks. Its error stops the deploy.
	Pre func(ctx context.Context, r *run) error
	// Do does the step.
	Do func(ctx context.Context, r *run) error
	// Undo takes the step back after a later step failed (the switch:
	// traffic back to the old color); it returns the deploy's outcome.
	Undo func(ctx context.Context, r *run, cause error) error
}

// run is one deploy as it goes.
type run struct {
	d       *Deployer
	f       *facts
	v       gate.Verdict // the plan's decision
	version string
	steps   []int
	color   switcher.Color    // where the version goes
	current *state.Deployment // the deployment taking traffic before, nil when none is recorded
	dep     *state.Deployment // the new deployment, once recorded
	op      *operation
	expand  []*runner.Migration
	later   []gate.Waiting
	start   time.Time
	// switchedAt is when the load balancer took the switch.
	switchedAt time.Time
	// oldCat and newCat are the colors' schemas replayed at the plan,
	// reused by the gate.
	oldCat, newCat *gate.Catalog
	// passed are the checks the new color passed in this run.
	passed map[string]bool
}

// DeployOptions say what to deploy.
type DeployOptions struct {
	Version string
	// Steps override the configured steps when not nil.
	Steps []int
	// Resume finishes the service's unfinished deployment.
	Resume bool
}

func (d *Deployer) steps() []Step {
	return []Step{
		{Name: "plan", Plan: planPlan, Do: method((*run).plan)},
		{Name: "retire", Plan: func(r *run) string { return fmt.Sprintf("retire %s first: %s", who(r.v.RetireFirst), r.v.RetireWhy) },
			Skip: func(r *run) string {
				if r.v.RetireFirst == nil {
					return "no stale rollback target"
				}
				return ""
			},
			Do: func(ctx context.Context, r *run) error {
				return r.d.retire(ctx, r.f.dep(r.v.RetireFirst), r.v.RetireWhy, nil)
			}},
		{Name: "begin", Plan: func(r *run) string { return fmt.Sprintf("record deployment of %s onto %s", orDash(r.version), r.color) },
			Skip: func(r *run) string {
				if r.dep != nil {
					return fmt.Sprintf("deployment %d is recorded", r.dep.ID)
				}
				return ""
			},
			Do: method((*run).begin)},
		{Name: "expand", Plan: func(r *run) string {
			if len(r.v.Run) == 0 {
				return "no pending expand migration"
			}
			return "apply " + strings.Join(names(r.v.Run), ", ")
		},
			Skip: func(r *run) string {
				if len(r.expand) == 0 {
					return "no pending expand migrations"
				}
				return ""
			},
			Do: method((*run).runExpand)},
		{Name: "deploy-hook", Plan: func(r *run) string {
			if argv := HookArgv(r.d.Config, r.color, HookDeploy); len(argv) > 0 {
				return strings.Join(r.planVars().Expand(argv), " ")
			}
			return "no deploy hook"
		},
			Skip: func(r *run) string {
				if len(HookArgv(r.d.Config, r.color, HookDeploy)) == 0 {
					return fmt.Sprintf("no deploy hook configured for %s", r.color)
				}
				return ""
			},
			Do: method((*run).hook)},
		{Name: "readiness", Plan: func(r *run) string {
			p := r.d.Config.Readiness
			return fmt.Sprintf("GET %s%s until %d × %d, every %s, within %s", ColorURL(r.d.Config, r.color), p.Path, p.Successes, p.Status, p.Interval, p.Deadline)
		}, Do: method((*run).readiness)},
		{Name: "smoke", Plan: func(r *run) string {
			var out []string
			for _, c := range r.d.Config.Smoke {
				out = append(out, c.Name)
			}
			return strings.Join(out, "; ")
		},
			Skip: func(r *run) string {
				if len(r.d.Config.Smoke) == 0 {
					return "no smoke checks configured"
				}
				return ""
			},
			Do: method((*run).smoke)},
		{Name: "warm-up", Plan: func(r *run) string {
			w := r.d.Config.WarmUp
			return fmt.Sprintf("%d requests at %d/s over %s", w.Requests, w.Rate, strings.Join(w.Paths, ", "))
		},
			Skip: func(r *run) string {
				if r.d.Config.WarmUp.Requests == 0 {
					return "no warm-up configured"
				}
				return ""
			},
			Do: method((*run).warmUp)},
		{Name: "gate", Plan: func(r *run) string {
			return "pre-switch: both colors' schemas replayed and compared with the live one, with the history and the live sessions"
		},
			Skip: func(r *run) string {
				if r.d.Config.Gate.Skip {
					return "turned off by deploy.gate.skip"
				}
				return ""
			},
			Do: method((*run).gate)},
		{Name: "switch", Plan: func(r *run) string {
			if len(r.steps) > 1 {
				return fmt.Sprintf("in steps %v, each watched for %s", r.steps, *r.d.Config.StepPause)
			}
			return "all traffic to " + string(r.color) + " at once"
		},
			Pre:  method((*run).checked),
			Do:   method((*run).cutover),
			Undo: undo((*run).rollBack)},
		{Name: "confidence", Plan: func(r *run) string {
			c := r.d.Config.Confidence
			return fmt.Sprintf("watch %s for %s (a probe every %s; rollback above %.0f%% failed probes of the last %d)", r.color, *c.Window, c.Interval, *c.MaxErrorRate*100, c.Probes)
		},
			Skip: func(r *run) string {
				if *r.d.Config.Confidence.Window == 0 {
					return "confidence window turned off"
				}
				return ""
			},
			Do: method((*run).confidence)},
		{Name: "drain", Plan: func(r *run) string {
			if r.current == nil {
				return "nothing to drain"
			}
			return fmt.Sprintf("%s finishes its requests (until none is in flight, at most %s from the switch), then stands by for %s", r.current.Color, *r.d.Config.Drain, *r.d.Config.RollbackWindow)
		},
			Skip: func(r *run) string {
				if r.current == nil {
					return "no old color recorded"
				}
				return ""
			},
			Do: method((*run).drain)},
	}
}

// method turns a method expression of run into a step's func.
func method(f func(*run, context.Context) error) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error { return f(r, ctx) }
}

func undo(f func(*run, context.Context, error) error) func(context.Context, *run, error) error {
	return func(ctx context.Context, r *run, cause error) error { return f(r, ctx, cause) }
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func who(d *gate.Deployment) string {
	if d == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%s, deployment %d)", d.Color, d.Version, d.ID)
}

func (r *run) planVars() Vars {
	return Vars{Service: r.d.Config.Service, Color: string(r.color), Version: r.version, URL: ColorURL(r.d.Config, r.color)}
}

// Deploy releases a version onto the idle color and moves traffic to it,
// or (Resume) finishes the deployment an earlier run left unfinished.
func (d *Deployer) Deploy(ctx context.Context, o DeployOptions) error {
	unlock, f, err := d.start(ctx, "deploy")
	if err != nil {
		return err
	}
	defer unlock()
	steps := o.Steps
	if steps == nil {
		steps = d.Config.Steps
	}
	r := &run{d: d, f: f, version: o.Version, steps: steps, start: time.Now(), passed: map[string]bool{}}
	if o.Resume {
		return d.resume(ctx, r)
	}
	return d.execute(ctx, r, "plan")
}

// execute runs the steps from the one named from.
func (d *Deployer) execute(ctx context.Context, r *run, from string) error {
	all := d.steps()
	i := 0
	for i < len(all) && all[i].Name != from {
		i++
	}
	var done []Step
	for _, st := range all[i:] {
		if st.Skip != nil {
			if why := st.Skip(r); why != "" {
				d.begin(st.Name, "%s", st.Name).skip("%s", why)
				continue
			}
		}
		if st.Pre != nil {
			if err := st.Pre(ctx, r); err != nil {
				return r.failed(ctx, st.Name, err)
			}
		}
		if err := r.op.step(ctx, st.Name); err != nil {
			return r.failed(ctx, st.Name, err)
		}
		d.failpoint("deploy:before:" + st.Name)
		if err := st.Do(ctx, r); err != nil {
			var rb *RolledBackError
			if errors.As(err, &rb) {
				return err
			}
			for k := len(done) - 1; k >= 0; k-- {
				if done[k].Undo != nil {
					return done[k].Undo(ctx, r, err)
				}
			}
			return r.failed(ctx, st.Name, err)
		}
		d.failpoint("deploy:after:" + st.Name)
		done = append(done, st)
	}
	return r.finish(ctx)
}

// failed ends a deploy that failed at step before its switch: the
// deployment is recorded as failed and its color left running for
// inspection. A refusal changed nothing and is returned as it is.
func (r *run) failed(ctx context.Context, step string, cause error) error {
	var ref *RefusedError
	if errors.As(cause, &ref) || r.dep == nil {
		if r.op != nil {
			r.op.close(ctx, "refused: "+cause.Error())
		}
		return cause
	}
	var se *SwitchError
	if errors.As(cause, &se) {
		if se.Active != r.color && se.Active != "" {
			// The load balancer kept the old color: the deployment stays
			// ready, for deploy --resume once the load balancer is back.
			r.op.close(ctx, "switch failed: "+cause.Error())
			return fmt.Errorf("%w\n(traffic stays on %s; %s is ready: bgmigrate deploy --resume switches once the load balancer answers, bgmigrate rollback gives the deployment up)", cause, se.Active, r.color)
		}
		// Where the traffic is is unknown: the operation stays open, and
		// the next command reconciles with the load balancer first.
		return fmt.Errorf("%w\n(run bgmigrate status once the load balancer answers; deploy --resume or rollback then finishes)", cause)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if r.dep.Status == state.Deploying || r.dep.Status == state.Ready {
		if err := r.d.moveTo(fctx, r.dep, state.Failed); err != nil {
			r.d.report().Event(Event{Time: time.Now(), Service: r.d.Config.Service, Step: "deploy", Outcome: Info, Message: "could not record the failure: " + err.Error()})
		}
	}
	r.d.log(fctx, "deploy", state.OutcomeFailed, map[string]any{"id": r.dep.ID, "version": r.dep.Version, "color": r.dep.Color, "step": step, "error": cause.Error()})
	r.op.close(fctx, fmt.Sprintf("failed at %s", step))
	return &FailedError{Step: step, Color: r.dep.Color, Err: cause}
}

// finish records the deploy's success.
func (r *run) finish(ctx context.Context) error {
	d := r.d
	took := time.Since(r.start)
	if r.dep != nil {
		d.log(ctx, "deploy", state.OutcomeOK, map[string]any{"id": r.dep.ID, "version": r.dep.Version, "color": r.dep.Color, "seconds": took.Seconds()})
		r.op.close(ctx, state.OutcomeOK)
		d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: OK, Duration: took.Seconds(),
			Message: fmt.Sprintf("version %s live on %s", r.dep.Version, r.dep.Color)})
	}
	return nil
}

// plan asks the decision whether the deploy may start: the lint verdicts
// of the pending migrations, the state of both colors, the steps and the
// gate's schema comparison of both colors against the schema the live
// database will have once the expand migrations ran (replayed on the dev
// database before anything changes).
func (r *run) plan(ctx context.Context) error {
	s := r.d.begin("plan", "linting and planning the pending migrations")
	if err := r.decide(ctx); err != nil {
		return s.fail(err)
	}
	if !r.v.Allow {
		r.d.log(ctx, "deploy", state.OutcomeRejected, map[string]any{"version": r.version, "reasons": r.v.Reasons})
		return s.fail(refused("deploy", r.v))
	}
	pred := ""
	if r.f.g.Schemas != nil {
		pred = "; both colors' schemas fit the live one after them"
	}
	s.ok(map[string]any{"expand": names(r.v.Run), "contract": waitNames(r.v.Wait)}, "%d expand migration(s) to apply before the switch, %d contract migration(s) left for later%s", len(r.v.Run), len(r.v.Wait), pred)
	return nil
}

// decide asks the decision for the deploy, with the predicted schemas.
func (r *run) decide(ctx context.Context) error {
	a := gate.Action{Kind: gate.Deploy, Version: r.version, Steps: r.steps}
	r.v = r.f.decide(a)
	if !r.v.Allow {
		return nil
	}
	r.color = colorOf(r.v.Color)
	r.current = r.f.dep(r.v.Current)
	byVersion := map[string]*runner.Migration{}
	for _, m := range r.d.Migrations {
		byVersion[m.Version] = m
	}
	r.expand = nil
	for _, m := range r.v.Run {
		r.expand = append(r.expand, byVersion[m.Version])
	}
	r.later = r.v.Wait
	if r.d.Config.Gate.Skip {
		return nil
	}
	old, pred, newer, err := r.predict(ctx)
	if err != nil {
		return fmt.Errorf("predict the schemas: %w", err)
	}
	r.oldCat, r.newCat = old, newer
	r.f.g.Schemas = &gate.Schemas{Old: old, New: newer, Live: pred, Predicted: true}
	r.v = r.f.decide(a)
	return nil
}

// predict replays, on the dev database, the schema the color taking
// traffic was built for, the live schema once the pending expand
// migrations ran, and the schema of the version being deployed.
func (r *run) predict(ctx context.Context) (old, pred, newer *gate.Catalog, err error) {
	migs := r.d.Migrations
	pos := map[string]int{}
	for i, m := range migs {
		pos[m.Version] = i
	}
	applied := map[string]bool{}
	for _, a := range r.f.g.History {
		applied[a.Version] = true
	}
	var appliedSet, predSet []int
	for i, m := range migs {
		if applied[m.Version] {
			appliedSet = append(appliedSet, i)
		}
	}
	expand := map[string]bool{}
	for _, m := range r.v.Run {
		expand[m.Version] = true
	}
	for i, m := range migs {
		if applied[m.Version] || expand[m.Version] {
			predSet = append(predSet, i)
		}
	}
	oldSet := appliedSet
	if r.current != nil {
		oldSet = nil
		if i, ok := pos[r.current.SchemaVersion]; ok {
			oldSet = live.Prefix(i + 1)
		} else if r.current.SchemaVersion != "" {
			oldSet = appliedSet
		}
	}
	cats, err := live.Replayer{DevURL: r.d.devURL(), Schemas: r.d.Config.Gate.Schemas, Log: r.d.out(), Failpoint: r.d.Failpoint}.
		Sets(ctx, migs, [][]int{oldSet, predSet, live.Prefix(len(migs))})
	if err != nil {
		return nil, nil, nil, err
	}
	return cats[0], cats[1], cats[2], nil
}

func (d *Deployer) devURL() string {
	if d.Config.Gate.DevURL != "" {
		return d.Config.Gate.DevURL
	}
	return d.Config.DatabaseURL
}

// begin records the deployment (status deploying, with the schema
// version its code needs) and opens the deploy operation.
func (r *run) begin(ctx context.Context) error {
	d := r.d
	dep, err := state.Begin(ctx, d.Conn, d.Config.Service, r.version, r.color, d.actor())
	if err != nil {
		return err
	}
	r.dep = dep
	if v := lastVersion(d.Migrations); v != "" {
		if err := state.SetSchemaVersion(ctx, d.Conn, dep.ID, v, d.actor()); err != nil {
			return err
		}
		dep.SchemaVersion = v
	}
	from := switcher.Color(r.f.active)
	if r.op, err = d.open(ctx, gate.OpDeploy, dep, r.current, from, r.color, nil); err != nil {
		return err
	}
	d.failpoint("deploy:after-begin")
	d.log(ctx, "deploy", "started", map[string]any{"id": dep.ID, "version": r.version, "color": r.color, "expand": len(r.expand), "contract_later": len(r.later), "operation": r.op.op.ID})
	d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: Info,
		Message: fmt.Sprintf("deployment %d: version %s onto %s", dep.ID, r.version, r.color), Fields: map[string]any{"id": dep.ID, "version": r.version, "color": r.color}})
	return nil
}

func (r *run) runOptions(phase runner.Phase) runner.Options {
	o := r.d.Migrate
	o.Phase = phase
	if r.dep != nil {
		o.Deployment = strconv.FormatInt(r.dep.ID, 10)
	}
	o.AppliedBy = r.d.actor()
	if o.LockTimeout == 0 {
		o.LockTimeout = r.d.Config.LockTimeout
	}
	if o.StatementTimeout == 0 {
		o.StatementTimeout = r.d.Config.StatementTimeout
	}
	if o.Log == nil {
		o.Log = r.d.out()
	}
	o.Failpoint = r.d.Failpoint
	return o
}

func (r *run) runExpand(ctx context.Context) error {
	s := r.d.begin("expand", "applying expand migrations")
	res, err := runner.Migrate(ctx, r.d.Conn, r.d.Migrations, r.runOptions(runner.PhaseExpand))
	if err != nil {
		return s.fail(err)
	}
	s.ok(map[string]any{"applied": res.Applied}, "applied %d: %s", len(res.Applied), strings.Join(res.Applied, ", "))
	return nil
}

func (r *run) hook(ctx context.Context) error {
	v := r.d.vars(r.dep)
	argv := HookArgv(r.d.Config, r.dep.Color, HookDeploy)
	s := r.d.begin("deploy-hook", "deploying %s onto %s", r.dep.Version, r.dep.Color)
	if err := RunCommand(ctx, "deploy hook", argv, v, r.d.Config.Hooks.Timeout, r.d.out()); err != nil {
		return s.fail(err)
	}
	s.ok(nil, "%s", strings.Join(v.Expand(argv), " "))
	return nil
}

func (r *run) readiness(ctx context.Context) error {
	url := ColorURL(r.d.Config, r.color)
	s := r.d.begin("readiness", "waiting for %s%s", url, r.d.Config.Readiness.Path)
	n := 0
	err := WaitReady(ctx, r.d.client(), url, r.d.Config.Readiness, func(p ProbeResult) {
		n++
		s.progress("probe %d: %s", n, p.Reason)
	})
	if err != nil {
		return s.fail(err)
	}
	r.passed["readiness"] = true
	s.ok(map[string]any{"probes": n}, "%s ready after %d probe(s)", r.color, n)
	return nil
}

func (r *run) smoke(ctx context.Context) error {
	s := r.d.begin("smoke", "running %d smoke check(s)", len(r.d.Config.Smoke))
	res, err := Smoke(ctx, r.d.client(), ColorURL(r.d.Config, r.color), r.d.Config.Smoke, r.d.vars(r.dep), r.d.out())
	if err != nil {
		return s.fail(err)
	}
	s.ok(nil, "%d check(s) passed", len(res))
	return nil
}

func (r *run) warmUp(ctx context.Context) error {
	s := r.d.begin("warm-up", "sending %d request(s)", r.d.Config.WarmUp.Requests)
	res, err := WarmUp(ctx, r.d.client(), ColorURL(r.d.Config, r.color), r.d.Config.WarmUp)
	if err != nil {
		return s.fail(err)
	}
	s.ok(map[string]any{"sent": res.Sent, "p50_ms": res.P50.Milliseconds(), "p99_ms": res.P99.Milliseconds()},
		"%d request(s), p50 %s, p99 %s", res.Sent, formatDuration(res.P50), formatDuration(res.P99))
	return nil
}

// gate runs the pre-switch checks on the live database: is it right for
// the old color (current, the rollback target) and for the new one?
func (r *run) gate(ctx context.Context) error {
	d := r.d
	s := d.begin("gate", "checking the live schema for both colors")
	oldV := r.oldVersion()
	// The operation open now is this command's own.
	st := *r.f.g.State
	st.Operation = nil
	st.Now = time.Now()
	var queries [2][]gate.Query
	for i, src := range []string{d.Config.Gate.Queries, d.Config.Gate.NewQueries} {
		if src == "" {
			continue
		}
		q, err := live.ReadQueries(ctx, d.Conn, src, "")
		if err != nil {
			return s.fail(fmt.Errorf("gate: %w", err))
		}
		queries[i] = q
	}
	in, tm, err := live.Collect(ctx, d.Conn, live.CollectOptions{
		Stage: gate.PreSwitch, Migrations: d.Migrations, OldVersion: oldV, NewVersion: orNoVersion(r.dep.SchemaVersion),
		DevURL: d.devURL(), Schemas: d.Config.Gate.Schemas, MaxTransactionAge: d.Config.Gate.MaxTransactionAge, Log: d.out(),
		State: &st, Deployment: r.dep.ID, Old: r.oldCat, New: r.newCat, Failpoint: d.Failpoint,
		OldQueries: queries[0], NewQueries: queries[1], Data: d.Migrate.DataChecks,
	})
	if err != nil {
		return s.fail(fmt.Errorf("gate: %w", err))
	}
	dec := gate.Evaluate(in)
	detail := map[string]any{"id": r.dep.ID, "allow": dec.Allow, "checks": dec.Checks}
	if !dec.Allow {
		d.log(ctx, "gate", "blocked", detail)
		return s.fail(&GateError{Blocks: dec.Blocks()})
	}
	r.passed["gate"] = true
	d.log(ctx, "gate", state.OutcomeOK, detail)
	s.ok(map[string]any{"checks": len(dec.Checks), "replay_s": tm.Replay.Seconds()}, "allow: %d checks passed (replays %s)", len(dec.Checks), tm.Replay.Round(time.Millisecond))
	return nil
}

// oldVersion is the schema version of the color taking traffic: its
// deployment's, or, when none is recorded (the code from before the first
// bgmigrate deploy), the last migration applied before this deployment.
func (r *run) oldVersion() string {
	if r.current != nil {
		return orNoVersion(r.current.SchemaVersion)
	}
	mine := ""
	if r.dep != nil {
		mine = strconv.FormatInt(r.dep.ID, 10)
	}
	applied := map[string]bool{}
	for _, a := range r.f.g.History {
		if mine == "" || a.Deployment != mine {
			applied[a.Version] = true
		}
	}
	last := live.NoVersion
	for _, m := range r.d.Migrations {
		if applied[m.Version] {
			last = m.Version
		}
	}
	return last
}

func orNoVersion(v string) string {
	if v == "" {
		return live.NoVersion
	}
	return v
}

// checked is the switch's precondition, as the decision (gate.Cutover)
// gives it: traffic only moves to a color that passed its checks in this
// run.
func (r *run) checked(ctx context.Context) error {
	if r.dep == nil {
		return fmt.Errorf("no deployment is ready to take the traffic")
	}
	var passed []string
	for p := range r.passed {
		passed = append(passed, p)
	}
	st := *r.f.g.State
	st.Deployments = append([]gate.Deployment(nil), st.Deployments...)
	found := false
	for i := range st.Deployments {
		if st.Deployments[i].ID == r.dep.ID {
			st.Deployments[i] = live.GateDeployment(r.dep)
			found = true
		}
	}
	if !found {
		st.Deployments = append(st.Deployments, live.GateDeployment(r.dep))
	}
	f := r.f.g
	f.State = &st
	v := gate.Decide(f, gate.Action{Kind: gate.Cutover, Deployment: r.dep.ID, Passed: passed, GateSkipped: r.d.Config.Gate.Skip})
	if !v.Allow {
		return errors.New(v.Reason())
	}
	return r.d.moveTo(ctx, r.dep, state.Ready)
}

// cutover moves the traffic to the new color, in steps when asked, and
// records it. A failing step sends all traffic back.
func (r *run) cutover(ctx context.Context) error {
	d := r.d
	if len(r.steps) > 1 {
		w := d.Switcher.(switcher.Weighted) // the decision checked
		for _, p := range r.steps[:len(r.steps)-1] {
			s := d.begin("switch", "%d%% of the traffic to %s", p, r.color)
			if err := r.op.step(ctx, fmt.Sprintf("step %d%%", p)); err != nil {
				return s.fail(err)
			}
			if err := w.SetWeights(ctx, r.color, p); err != nil {
				return s.fail(d.switchError(ctx, r.color, err))
			}
			if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, r.color, p, d.actor()); err != nil {
				return s.fail(err)
			}
			s.ok(map[string]any{"percent": p, "color": r.color}, "%d%% of the traffic on %s", p, r.color)
			d.failpoint("deploy:in-steps")
			if err := r.watchStep(ctx, p); err != nil {
				return err
			}
		}
	}
	s := d.begin("switch", "all traffic to %s", r.color)
	if err := r.op.step(ctx, gate.StepSwitching); err != nil {
		return s.fail(err)
	}
	if err := d.Switcher.Switch(ctx, r.color); err != nil {
		err = d.switchError(ctx, r.color, err)
		d.log(ctx, "switch", state.OutcomeFailed, map[string]any{"id": r.dep.ID, "to": r.color, "error": err.Error()})
		return s.fail(err)
	}
	r.switchedAt = time.Now()
	if err := r.op.step(ctx, gate.StepSwitched); err != nil {
		return s.fail(fmt.Errorf("traffic is on %s but recording it failed (bgmigrate deploy --resume records it): %w", r.color, err))
	}
	s.progress("the load balancer sends traffic to %s; recording it", r.color)
	d.failpoint("deploy:after-switch")
	if err := r.recordSwitch(ctx); err != nil {
		return s.fail(fmt.Errorf("traffic is on %s but recording it failed (bgmigrate deploy --resume records it): %w", r.color, err))
	}
	d.failpoint("deploy:after-record")
	s.ok(map[string]any{"color": r.color, "version": r.dep.Version}, "traffic on %s (%s)", r.color, r.dep.Version)
	return nil
}

// recordSwitch records that the new deployment takes all traffic and the
// old one drains.
func (r *run) recordSwitch(ctx context.Context) error {
	d := r.d
	if err := d.moveTo(ctx, r.dep, state.Active); err != nil {
		return err
	}
	if r.current != nil && r.current.Status == state.Active {
		if err := d.moveTo(ctx, r.current, state.Draining); err != nil {
			return err
		}
	}
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, r.dep.Color, 100, d.actor()); err != nil {
		return err
	}
	return r.op.step(ctx, gate.StepRecorded)
}

// watchStep watches the new color for the step pause while it takes
// percent of the traffic; on failure all traffic goes back.
func (r *run) watchStep(ctx context.Context, percent int) error {
	d := r.d
	c := d.Config.Confidence
	c.Window = d.Config.StepPause
	s := d.begin("step-watch", "watching %s at %d%% for %s", r.color, percent, *c.Window)
	if *c.Window == 0 {
		s.skip("step_pause is 0s")
		return nil
	}
	n := 0
	err := Watch(ctx, d.client(), ColorURL(d.Config, r.color), c, d.vars(r.dep), func(p ProbeResult) {
		n++
		s.progress("probe %d: %s", n, p.Reason)
	})
	var ce *ConfidenceError
	if errors.As(err, &ce) {
		s.fail(err)
		return r.abortSteps(ctx, ce)
	}
	if err != nil {
		return s.fail(err)
	}
	s.ok(map[string]any{"probes": n}, "%d probe(s) passed", n)
	return nil
}

// abortSteps sends all traffic back to the old color during a gradual
// switch; the new deployment never took all the traffic, so it is
// recorded as failed.
func (r *run) abortSteps(ctx context.Context, ce *ConfidenceError) error {
	d := r.d
	back := r.color.Other()
	s := d.begin("rollback", "traffic back to %s", back)
	if err := r.op.step(ctx, "aborting steps"); err != nil {
		return s.fail(err)
	}
	if err := d.Switcher.Switch(ctx, back); err != nil {
		return s.fail(d.switchError(ctx, back, err))
	}
	at := time.Now()
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, back, 100, d.actor()); err != nil {
		return s.fail(err)
	}
	if err := d.moveTo(ctx, r.dep, state.Failed); err != nil {
		return s.fail(err)
	}
	d.log(ctx, "deploy", state.OutcomeFailed, map[string]any{"id": r.dep.ID, "step": "step-watch", "error": ce.Error()})
	r.op.close(ctx, "rolled back at a step")
	s.ok(map[string]any{"first_failure_to_rollback_s": at.Sub(ce.FirstFailure).Seconds()}, "traffic back on %s %s after the first failing probe", back, at.Sub(ce.FirstFailure).Round(time.Millisecond))
	return &RolledBackError{Cause: ce, FirstFailure: ce.FirstFailure, Back: at, To: back}
}

// confidence watches the new color after the switch; a failure rolls the
// traffic back (the switch's Undo).
func (r *run) confidence(ctx context.Context) error {
	d := r.d
	c := d.Config.Confidence
	s := d.begin("confidence", "watching %s for %s", r.color, *c.Window)
	n, failed := 0, 0
	err := Watch(ctx, d.client(), ColorURL(d.Config, r.color), c, d.vars(r.dep), func(p ProbeResult) {
		n++
		if p.Err != nil {
			failed++
		}
		if n == 1 {
			d.failpoint("confidence:after-first-probe")
		}
		s.progress("probe %d: %s (%d failed)", n, p.Reason, failed)
	})
	if err != nil {
		return s.fail(err)
	}
	s.ok(map[string]any{"probes": n, "failed": failed}, "%d probe(s), %d failed", n, failed)
	return nil
}

// rollBack is the switch's Undo: the new color failed after it took the
// traffic (its confidence window), so the traffic goes back at once to
// the color that served before, recorded or not.
func (r *run) rollBack(ctx context.Context, cause error) error {
	d := r.d
	var ce *ConfidenceError
	if !errors.As(cause, &ce) {
		// Not the new color's fault (the drain's record, a cancelled
		// context): the deploy stays as it is, for deploy --resume.
		return fmt.Errorf("%w\n(traffic is on %s; run bgmigrate deploy --resume to finish or bgmigrate rollback to go back)", cause, r.color)
	}
	s := d.begin("rollback", "automatic rollback")
	to, what := r.color.Other(), "the code from before the first bgmigrate deploy"
	if r.current != nil {
		to, what = r.current.Color, r.current.Version
	}
	op, err := d.open(ctx, gate.OpRollback, r.dep, r.current, r.color, to, r.op.op)
	if err != nil {
		return s.fail(err)
	}
	r.op = op
	if err := op.step(ctx, gate.StepSwitching); err != nil {
		return s.fail(err)
	}
	if err := d.Switcher.Switch(ctx, to); err != nil {
		err = d.switchError(ctx, to, err)
		d.log(ctx, "rollback", state.OutcomeFailed, map[string]any{"id": r.dep.ID, "automatic": true, "error": err.Error()})
		return s.fail(err)
	}
	back := time.Now()
	if err := op.step(ctx, gate.StepSwitched); err != nil {
		return s.fail(err)
	}
	d.failpoint("rollback:after-switch")
	if err := d.recordRollback(ctx, r.dep, r.current, to); err != nil {
		return s.fail(fmt.Errorf("traffic is back on %s but recording it failed (bgmigrate rollback finishes it): %w", to, err))
	}
	took := back.Sub(ce.FirstFailure)
	d.log(ctx, "rollback", state.OutcomeOK, map[string]any{"id": r.dep.ID, "to": to, "automatic": true, "first_failure_to_rollback_s": took.Seconds(), "cause": ce.Error()})
	op.close(ctx, "ok (automatic)")
	s.ok(map[string]any{"first_failure_to_rollback_s": took.Seconds(), "to": to},
		"traffic back on %s (%s) %s after the first failing probe; %s is left running for inspection", to, what, took.Round(time.Millisecond), r.color)
	return &RolledBackError{Cause: ce, FirstFailure: ce.FirstFailure, Back: back, To: to}
}

// recordRollback records that traffic went from dep back to target (nil
// when the color to had no recorded deployment).
func (d *Deployer) recordRollback(ctx context.Context, dep, target *state.Deployment, to switcher.Color) error {
	if dep != nil {
		switch dep.Status {
		case state.Active, state.Ready, state.Draining:
			if err := d.moveTo(ctx, dep, state.RolledBack); err != nil {
				return err
			}
		case state.Deploying:
			if err := d.moveTo(ctx, dep, state.Failed); err != nil {
				return err
			}
		}
	}
	if target != nil {
		if err := d.moveTo(ctx, target, state.Active); err != nil {
			return err
		}
	}
	return state.SetTraffic(ctx, d.Conn, d.Config.Service, to, 100, d.actor())
}

// drain lets the old color finish its requests, then records it standing
// by as the rollback target. A switcher that reads the requests in flight
// (switcher.InFlightReader) is watched until the old color has none or
// deploy.drain has passed since the switch; one that cannot tell is given
// the whole drain, a timer. The step's time is counted from the switch,
// as the drain is. A drain of 0s does not wait. With a rollback window of
// 0s the old color is retired at once.
func (r *run) drain(ctx context.Context) error {
	d := r.d
	s := d.begin("drain", "%s finishes its requests", r.current.Color)
	drain := *d.Config.Drain
	from := r.switchedAt
	if from.IsZero() {
		from = time.Now()
	}
	s.start = from
	w, err := watchDrain(ctx, d.Switcher, r.current.Color, from.Add(drain))
	if err != nil {
		return s.fail(err)
	}
	d.failpoint("drain:before-standby")
	if err := d.moveTo(ctx, r.current, state.Standby); err != nil {
		return s.fail(err)
	}
	since := w.at.Sub(from)
	saw := w.describe(r.current.Color, r.current.Version, since, drain)
	fields := map[string]any{"drained_s": since.Seconds()}
	if w.ok {
		fields["in_flight"] = w.n
	}
	if *d.Config.RollbackWindow == 0 {
		s.ok(fields, "%s; no rollback window", saw)
		return d.retire(ctx, r.current, "deploy.rollback_window is 0s", nil, r.op)
	}
	end := gate.WindowEnd(&gate.Deployment{ActivatedAt: r.dep.ActivatedAt}, nil, *d.Config.RollbackWindow, time.Now())
	fields["rollback_until"] = end
	s.ok(fields, "%s; it stands by as the rollback target until %s", saw, end.UTC().Format(time.RFC3339))
	return nil
}

// drainPoll is how often a drain reads the old color's requests in
// flight; a reading may take until the drain's end, and at least
// drainRead.
const (
	drainPoll = 50 * time.Millisecond
	drainRead = time.Second
)

// drained is what a drain saw: ok when the load balancer counted the
// requests in flight (n at the last reading, at), else the drain was a
// timer that ended at at; why says what the load balancer could not tell.
type drained struct {
	n   int
	ok  bool
	at  time.Time
	why string
}

// watchDrain reads color's requests in flight from sw, when it can tell,
// until there are none or deadline passes; a switcher that cannot tell
// is waited for until deadline. Only the context's end is an error: a
// failed reading is retried, and reported if it never succeeds.
func watchDrain(ctx context.Context, sw switcher.Switcher, color switcher.Color, deadline time.Time) (drained, error) {
	reader, _ := sw.(switcher.InFlightReader)
	w := drained{why: "the switcher counts no requests in flight"}
	for {
		if reader != nil {
			// A load balancer slow to answer does not hold the drain past
			// its end.
			rctx, cancel := context.WithDeadline(ctx, later(deadline, time.Now().Add(drainRead)))
			n, ok, err := reader.InFlight(rctx, color)
			timedOut := rctx.Err() != nil
			cancel()
			switch {
			case ctx.Err() != nil:
				return w, ctx.Err()
			case timedOut:
				w.why = "the load balancer did not say how many requests were in flight in time"
			case err != nil:
				w.why = fmt.Sprintf("reading the requests in flight failed: %v", err)
			case !ok:
				w.why = "the load balancer could not count the requests in flight"
			default:
				w.n, w.ok = n, true
			}
		}
		w.at = time.Now()
		if w.ok && w.n == 0 || !w.at.Before(deadline) {
			return w, nil
		}
		wait := time.Until(deadline)
		if reader != nil {
			wait = min(wait, drainPoll)
			w.ok = false
		}
		select {
		case <-ctx.Done():
			return w, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// describe says what the drain saw: "green (v1): 0 in flight after 1.3s
// (drain 10s)".
func (w drained) describe(color switcher.Color, version string, since, drain time.Duration) string {
	switch {
	case w.ok && w.n == 0:
		return fmt.Sprintf("%s (%s): 0 in flight after %s (drain %s)", color, version, formatDuration(since), drain)
	case w.ok:
		return fmt.Sprintf("%s (%s): %d still in flight after %s, the drain has passed (drain %s)", color, version, w.n, formatDuration(since), drain)
	}
	return fmt.Sprintf("%s (%s) drained for %s since the switch (drain %s; %s)", color, version, formatDuration(since), drain, w.why)
}

// resume finishes the deployment an earlier run left unfinished, from
// where the decision says it stopped.
func (d *Deployer) resume(ctx context.Context, r *run) error {
	v := r.f.decide(gate.Action{Kind: gate.Resume, Version: r.version, Steps: r.steps})
	if !v.Allow {
		return refused("deploy --resume", v)
	}
	r.dep, r.current = r.f.dep(v.Deployment), r.f.dep(v.Current)
	r.color = r.dep.Color
	r.version = r.dep.Version
	if v.Stage == "switch" {
		// A manual switch was interrupted: finish it.
		sv := r.f.decide(gate.Action{Kind: gate.Switch, Color: v.Finish.To})
		if !sv.Allow {
			return refused("deploy --resume", sv)
		}
		return d.finishSwitch(ctx, r.f, sv)
	}
	d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: "deploy", Outcome: Info,
		Message: fmt.Sprintf("resuming deployment %d: version %s onto %s (%s)", r.dep.ID, r.dep.Version, r.dep.Color, r.dep.Status)})
	var err error
	if r.op, err = d.open(ctx, gate.OpDeploy, r.dep, r.current, r.color.Other(), r.color, r.f.op); err != nil {
		return err
	}
	switch v.Stage {
	case "settle":
		s := d.begin("switch", "recording the switch the load balancer made")
		r.switchedAt = time.Now()
		if err := r.recordSwitch(ctx); err != nil {
			return s.fail(err)
		}
		s.ok(map[string]any{"color": r.color}, "traffic on %s (%s), as the load balancer says", r.color, r.dep.Version)
		return d.execute(ctx, r, "confidence")
	case "prepare":
		ev := r.f.decide(gate.Action{Kind: gate.MigrateExpand})
		byVersion := map[string]*runner.Migration{}
		for _, m := range d.Migrations {
			byVersion[m.Version] = m
		}
		for _, m := range ev.Run {
			r.expand = append(r.expand, byVersion[m.Version])
		}
		return d.execute(ctx, r, "expand")
	}
	return d.execute(ctx, r, "readiness")
}

// Plan writes what Deploy would do, changing nothing: where traffic is,
// the color that would get the version, then each step of the deploy (the
// same list the deploy runs) with what it would do, and the reason the
// decision gives for refusing it, if any; it returns that refusal. It
// replays the schemas on the dev database for the gate's prediction, as
// the deploy does.
func (d *Deployer) Plan(ctx context.Context, w io.Writer, o DeployOptions) error {
	t := d.readTraffic(ctx)
	if t.Err != "" {
		fmt.Fprintf(w, "service %s: the load balancer cannot be read: %s\n", d.Config.Service, t.Err)
	}
	var exists bool
	if err := d.Conn.QueryRow(ctx, `SELECT to_regclass('bgmigrate.operations') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	var f *facts
	var err error
	if exists {
		f, err = d.gather(ctx, t)
	} else {
		f, err = d.gatherEmpty(ctx, t)
	}
	if err != nil {
		return err
	}
	steps := o.Steps
	if steps == nil {
		steps = d.Config.Steps
	}
	r := &run{d: d, f: f, version: o.Version, steps: steps, passed: map[string]bool{}}
	if err := r.decide(ctx); err != nil {
		return err
	}
	if t.Err == "" {
		fmt.Fprintf(w, "service %s: traffic on %s (load balancer); version %s would go onto %s\n", d.Config.Service, trafficOn(t), orDash(o.Version), orDash(r.v.Color))
	}
	lv := f.live()
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if dep := lv[c]; dep != nil {
			fmt.Fprintf(w, "  %-5s %s (%s, deployment %d, schema %s)\n", c, dep.Version, dep.Status, dep.ID, orDash(dep.SchemaVersion))
		} else {
			fmt.Fprintf(w, "  %-5s no live deployment\n", c)
		}
	}
	if r.v.Color == "" {
		r.color = colorOf(gate.Other(t.Active))
	}
	fmt.Fprintf(w, "expand migrations before the switch (%d):\n", len(r.v.Run))
	for _, m := range r.v.Run {
		fmt.Fprintf(w, "  %s\n", m.Path)
	}
	fmt.Fprintf(w, "contract migrations left for later (%d):\n", len(r.v.Wait))
	for _, m := range r.v.Wait {
		fmt.Fprintf(w, "  %s\n", m.Migration.Path)
	}
	fmt.Fprintln(w, "steps:")
	for _, st := range d.steps() {
		line := ""
		if st.Skip != nil {
			if why := st.Skip(r); why != "" && st.Name != "begin" {
				line = "skipped: " + why
			}
		}
		if line == "" && st.Plan != nil {
			line = st.Plan(r)
		}
		fmt.Fprintf(w, "  %-12s %s\n", st.Name, line)
	}
	if !r.v.Allow {
		fmt.Fprintf(w, "would be refused: %s\n", r.v.Reason())
		return refused("deploy", r.v)
	}
	fmt.Fprintf(w, "confidence window: %s, then %s drains and stands by for %s\n", *d.Config.Confidence.Window, orDash(t.Active), *d.Config.RollbackWindow)
	return nil
}

func trafficOn(t gate.Traffic) string {
	if t.Split != nil {
		return fmt.Sprintf("blue %d%%, green %d%%", t.Split["blue"], t.Split["green"])
	}
	return t.Active
}

func planPlan(r *run) string {
	if len(r.v.Reasons) > 0 {
		return "refuses: " + r.v.Reason()
	}
	s := "lint, plan and the gate's schema prediction allow the deploy"
	if r.d.Config.Gate.Skip {
		s = "lint and plan allow the deploy (gate turned off)"
	}
	return s
}
