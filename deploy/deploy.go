// Package deploy runs a migration-aware blue-green release: the database
// and the traffic move in the only safe order, and a failure at any step
// leaves users on a working color.
//
//	lock → plan → expand → deploy hook → readiness → smoke → warm-up →
//	gate → switch (at once or in steps) → confidence window (automatic
//	rollback) → drain → the old color stands by as the rollback target →
//	retire → contract
//
// Every command reads the facts once (the load balancer, the deployment
// state, the migrations and their history), asks the decision
// (gate.Decide) whether and how it may act, and records its intent before
// acting and its outcome after (state.Open, state.Close), so that a
// command killed anywhere leaves a state status names and deploy --resume
// or rollback finishes. The load balancer is the truth for where traffic
// goes; the record is reconciled with it first.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/user"
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
	// Migrate tunes the runner of the expand and contract migrations
	// (retries, lock waits); its lock and statement timeouts default to
	// the configuration's.
	Migrate runner.Options
	// Failpoint, set by fault tests, is called at the named points of
	// Failpoints; it may stop the process there.
	Failpoint func(name string)
}

// Failpoints are the points where a fault test may stop a command: before
// and after each step of a deploy ("deploy:before:<step>",
// "deploy:after:<step>") and these.
var Failpoints = []string{
	"deploy:after-begin",           // the deployment is recorded, nothing else
	"deploy:after-switch",          // the load balancer took the switch, not recorded
	"deploy:after-record",          // the switch is recorded
	"deploy:in-steps",              // part way through a gradual switch
	"rollback:after-intent",        // the rollback is recorded as intended
	"rollback:after-switch",        // the load balancer took the rollback, not recorded
	"switch:after-switch",          // a manual switch taken, not recorded
	"retire:after-record",          // retired in the record, scale-down hook not run
	"contract:after-intent",        // the contract is recorded as intended
	"migrate:after-migration",      // a migration recorded, the next not started
	"migrate:after-unit",           // part way through a file run statement by statement
	"migrate:after-statement",      // a statement ran outside a transaction, not recorded
	"gate:scratch-created",         // the gate's scratch database exists
	"drain:before-standby",         // the old color drained, not yet standing by
	"confidence:after-first-probe", // inside the confidence window
}

func (d *Deployer) failpoint(name string) {
	if d.Failpoint != nil {
		d.Failpoint(name)
	}
}

// RefusedError is a command that would be unsafe in the current state;
// nothing was changed.
type RefusedError struct {
	Action string // "deploy", "rollback", "switch", "retire", "contract"
	Reason string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("%s refused: %s", e.Action, e.Reason) }

func refused(action string, v gate.Verdict) *RefusedError {
	return &RefusedError{Action: action, Reason: v.Reason()}
}

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

// FailedError is a deploy that failed before its switch: traffic stayed
// where it was and the new color is left running for inspection.
type FailedError struct {
	Step  string
	Color switcher.Color
	Err   error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("%v\n(traffic stays where it was; %s is left running for inspection: bgmigrate retire --color %s stops it)", e.Err, e.Color, e.Color)
}

func (e *FailedError) Unwrap() error { return e.Err }

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
	if err := state.Log(context.WithoutCancel(ctx), d.Conn, d.Config.Service, d.actor(), action, outcome, detail); err != nil {
		d.report().Event(Event{Time: time.Now(), Service: d.Config.Service, Step: action, Outcome: Info, Message: "could not record the event: " + err.Error()})
	}
}

// moveTo moves dep to status to through the allowed transitions,
// updating dep.
func (d *Deployer) moveTo(ctx context.Context, dep *state.Deployment, to state.Status) error {
	path := state.Path(dep.Status, to)
	if path == nil {
		return &state.TransitionError{ID: dep.ID, Service: d.Config.Service, From: dep.Status, To: to}
	}
	for _, s := range path {
		if err := state.SetStatus(ctx, d.Conn, dep.ID, s, d.actor()); err != nil {
			return err
		}
		dep.Status = s
	}
	if to == state.Active {
		if fresh, err := state.Get(ctx, d.Conn, dep.ID); err == nil {
			dep.ActivatedAt = fresh.ActivatedAt
		}
	}
	return nil
}

// facts is what a command knows once it read the load balancer and the
// database: the decision's facts and the records behind them.
type facts struct {
	g      gate.Facts
	active switcher.Color // "" when the load balancer could not be read
	deps   map[int64]*state.Deployment
	op     *state.Operation // the operation left open, nil if none
	migs   []*runner.Migration
}

func (f *facts) dep(g *gate.Deployment) *state.Deployment {
	if g == nil {
		return nil
	}
	return f.deps[g.ID]
}

// decide asks the decision about an action.
func (f *facts) decide(a gate.Action) gate.Verdict { return gate.Decide(f.g, a) }

// start takes the deployment lock, makes sure the state tables exist,
// reconciles the record with the load balancer and gathers the facts.
func (d *Deployer) start(ctx context.Context, what string) (unlock func(), f *facts, err error) {
	release, err := d.lock(ctx, what)
	if err != nil {
		return nil, nil, err
	}
	if err := state.Ensure(ctx, d.Conn); err != nil {
		release()
		return nil, nil, err
	}
	t := d.reconcile(ctx)
	f, err = d.gather(ctx, t)
	if err != nil {
		release()
		return nil, nil, err
	}
	return release, f, nil
}

// gather reads the deployment state, the interrupted operation, the
// history and the retirements, beside the load balancer's traffic t.
func (d *Deployer) gather(ctx context.Context, t gate.Traffic) (*facts, error) {
	g, _, err := runner.ReadFacts(ctx, d.Conn, d.Migrations)
	if err != nil {
		return nil, err
	}
	f := &facts{g: g, active: switcher.Color(t.Active), deps: map[int64]*state.Deployment{}, migs: d.Migrations}
	st := &gate.State{Service: d.Config.Service, Now: time.Now(), RollbackWindow: *d.Config.RollbackWindow, Traffic: t}
	deps, err := state.List(ctx, d.Conn, d.Config.Service)
	if err != nil {
		return nil, err
	}
	for _, dep := range deps {
		f.deps[dep.ID] = dep
		st.Deployments = append(st.Deployments, live.GateDeployment(dep))
	}
	if f.op, err = state.OpenOperation(ctx, d.Conn, d.Config.Service); err != nil {
		return nil, err
	}
	st.Operation = live.GateOperation(f.op)
	f.g.State = st
	return f, nil
}

// reconcile reads where the load balancer sends traffic: every place it
// keeps the color (a disagreement is repaired from the place that routes
// traffic, and reported), the active color and, on a weighted one, the
// split. It corrects the recorded traffic rule when it differs. A load
// balancer that cannot be read is reported in the result; the decision
// then refuses every change.
func (d *Deployer) reconcile(ctx context.Context) gate.Traffic {
	s := d.begin("reconcile", "reading the load balancer")
	var t gate.Traffic
	w, weighted := d.Switcher.(switcher.Weighted)
	t.Weighted = weighted
	repaired := ""
	if in, ok := d.Switcher.(switcher.Inspector); ok {
		places, err := in.Places(ctx)
		if err != nil {
			t.Err = err.Error()
			s.fail(fmt.Errorf("read the load balancer: %w", err))
			return t
		}
		if dis := switcher.Disagreement(places); dis != "" {
			if err := in.Repair(ctx); err != nil {
				t.Disagreement = fmt.Sprintf("%s; making them agree failed: %v", dis, err)
			} else if again, err := in.Places(ctx); err != nil || switcher.Disagreement(again) != "" {
				t.Disagreement = dis + "; they still disagree after the repair"
			} else {
				repaired = dis
				d.log(ctx, "reconcile", "repaired", map[string]any{"disagreement": dis})
			}
		}
	}
	active, err := d.Switcher.Active(ctx)
	if err != nil {
		t.Err = err.Error()
		s.fail(fmt.Errorf("read the active color from the load balancer: %w", err))
		return t
	}
	t.Active = string(active)
	blue := 100
	if active == switcher.Green {
		blue = 0
	}
	if weighted {
		ws, err := w.Weights(ctx)
		if err != nil {
			t.Err = err.Error()
			s.fail(fmt.Errorf("read the weights from the load balancer: %w", err))
			return t
		}
		if ws[switcher.Blue] > 0 && ws[switcher.Green] > 0 {
			t.Split = map[string]int{"blue": ws[switcher.Blue], "green": ws[switcher.Green]}
			blue = ws[switcher.Blue]
		}
	}
	if t.Disagreement != "" {
		s.fail(errors.New(t.Disagreement))
		return t
	}
	note := ""
	if repaired != "" {
		note = fmt.Sprintf("; %s: made to agree", repaired)
	}
	rule, err := state.Traffic(ctx, d.Conn, d.Config.Service)
	recordedBlue := -1
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		s.fail(err)
		t.Err = err.Error()
		return t
	case rule.Color == switcher.Blue:
		recordedBlue = rule.Percent
	default:
		recordedBlue = 100 - rule.Percent
	}
	if recordedBlue == blue {
		s.ok(map[string]any{"active": active, "split": t.Split}, "%s, as recorded%s", trafficText(t), note)
		return t
	}
	color, percent := active, 100
	if t.Split != nil {
		percent = t.Split[string(active)]
	}
	if err := state.SetTraffic(ctx, d.Conn, d.Config.Service, color, percent, d.actor()); err != nil {
		s.fail(err)
		t.Err = err.Error()
		return t
	}
	was := "nothing recorded"
	if rule.Service != "" {
		was = fmt.Sprintf("the record said %d%% to %s", rule.Percent, rule.Color)
	}
	d.log(ctx, "reconcile", state.OutcomeOK, map[string]any{"active": active, "was": was})
	s.ok(map[string]any{"active": active, "split": t.Split}, "%s (%s; record corrected)%s", trafficText(t), was, note)
	return t
}

func trafficText(t gate.Traffic) string {
	if t.Split != nil {
		return fmt.Sprintf("traffic split blue %d%%, green %d%%", t.Split["blue"], t.Split["green"])
	}
	return "traffic on " + t.Active
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

// operation is the open operation of a command: its intent, recorded
// before it acts, and its outcome after.
type operation struct {
	d  *Deployer
	op *state.Operation
}

// open records the intent of a command, taking over the interrupted
// operation it finishes or undoes (supersede, nil if none).
func (d *Deployer) open(ctx context.Context, action string, dep, target *state.Deployment, from, to switcher.Color, supersede *state.Operation) (*operation, error) {
	var depID, targetID, sup int64
	if dep != nil {
		depID = dep.ID
	}
	if target != nil {
		targetID = target.ID
	}
	if supersede != nil {
		sup = supersede.ID
	}
	op, err := state.Open(ctx, d.Conn, d.Config.Service, d.actor(), action, depID, targetID, from, to, sup)
	if err != nil {
		return nil, err
	}
	return &operation{d: d, op: op}, nil
}

// step records that the operation reached a step.
func (o *operation) step(ctx context.Context, name string) error {
	if o == nil {
		return nil
	}
	o.op.Step = name
	return state.Step(ctx, o.d.Conn, o.op.ID, name)
}

// close records the outcome; a failure to record it is reported (status
// then shows the operation as interrupted, which a rerun clears).
func (o *operation) close(ctx context.Context, outcome string) {
	if o == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := state.Close(cctx, o.d.Conn, o.op.ID, o.d.actor(), outcome); err != nil {
		o.d.report().Event(Event{Time: time.Now(), Service: o.d.Config.Service, Step: o.op.Action, Outcome: Info, Message: "could not record the outcome: " + err.Error()})
	}
}

func lastVersion(migs []*runner.Migration) string {
	if len(migs) == 0 {
		return ""
	}
	return migs[len(migs)-1].Version
}

func names(migs []gate.Migration) []string {
	out := make([]string, 0, len(migs))
	for _, m := range migs {
		out = append(out, m.Path)
	}
	return out
}

func waitNames(ws []gate.Waiting) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Migration.Path)
	}
	return out
}

// colorOf reads a color name of the decision.
func colorOf(s string) switcher.Color { return switcher.Color(s) }
