package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/state"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// Report is what bgmigrate status shows. Its JSON form is stable.
type Report struct {
	Service string `json:"service"`
	// Active is where the load balancer sends traffic; ActiveError says why
	// it could not be read.
	Active      switcher.Color                  `json:"active,omitempty"`
	ActiveError string                          `json:"active_error,omitempty"`
	Weights     map[switcher.Color]int          `json:"weights,omitempty"`
	Traffic     *Traffic                        `json:"traffic,omitempty"`
	Colors      map[switcher.Color]*ColorReport `json:"colors"`
	// RollbackTarget is the color traffic can go back to, until
	// RollbackUntil.
	RollbackTarget switcher.Color `json:"rollback_target,omitempty"`
	RollbackUntil  *time.Time     `json:"rollback_until,omitempty"`
	// Unfinished describes what did not finish (an interrupted operation,
	// an unfinished deployment, a command still running), with what to do;
	// Attention lists everything that needs a person.
	Unfinished string   `json:"unfinished,omitempty"`
	Attention  []string `json:"attention"`
	// Interrupted is the operation left open by a command that was
	// killed, nil when there is none.
	Interrupted *OperationReport `json:"interrupted,omitempty"`
	// LeftRunning are the colors whose failed or rolled-back deployment
	// still runs (left for inspection).
	LeftRunning     []switcher.Color `json:"left_running"`
	PendingExpand   []string         `json:"pending_expand"`
	PendingContract []string         `json:"pending_contract"`
	// Decisions are the decision's answers for the commands a person may
	// run next, as gate.Decide gives them.
	Decisions map[string]DecisionReport `json:"decisions"`
	// ContractAllowed and ContractReason repeat Decisions["contract"].
	ContractAllowed bool                 `json:"contract_allowed"`
	ContractReason  string               `json:"contract_reason,omitempty"`
	ContractWaits   []ContractWaitReport `json:"contract_waits"`
	MigrationLock   string               `json:"migration_lock,omitempty"`
	Events          []EventReport        `json:"events"`
}

// Traffic is the recorded traffic rule.
type Traffic struct {
	Color     switcher.Color `json:"color"`
	Percent   int            `json:"percent"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ColorReport is the newest deployment of a color.
type ColorReport struct {
	ID            int64      `json:"id"`
	Version       string     `json:"version"`
	Status        string     `json:"status"`
	SchemaVersion string     `json:"schema_version,omitempty"`
	DeployedAt    time.Time  `json:"deployed_at"`
	ActivatedAt   *time.Time `json:"activated_at,omitempty"`
	RetiredAt     *time.Time `json:"retired_at,omitempty"`
	StoppedAt     *time.Time `json:"stopped_at,omitempty"`
}

// OperationReport is an interrupted operation.
type OperationReport struct {
	ID         int64          `json:"id"`
	Action     string         `json:"action"`
	Step       string         `json:"step"`
	Deployment int64          `json:"deployment,omitempty"`
	To         switcher.Color `json:"to,omitempty"`
	Actor      string         `json:"actor"`
	StartedAt  time.Time      `json:"started_at"`
	Recovery   string         `json:"recovery"`
}

// DecisionReport is the decision's answer for one command.
type DecisionReport struct {
	Allow  bool   `json:"allow"`
	Reason string `json:"reason,omitempty"`
}

// ContractWaitReport is a pending contract migration that waits.
type ContractWaitReport struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// EventReport is an entry of the state's event log.
type EventReport struct {
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Outcome string          `json:"outcome"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// Status reads both colors, the traffic and the migrations, and asks the
// decision what may run next. When no other command holds the deployment
// lock it reconciles the record with the load balancer (repairing a load
// balancer that disagrees with itself) and retires a rollback target
// whose window has ended; otherwise it only reads, and says which command
// is running. events bounds the events shown.
func (d *Deployer) Status(ctx context.Context, events int) (*Report, error) {
	r := &Report{Service: d.Config.Service, Colors: map[switcher.Color]*ColorReport{}, PendingExpand: []string{}, PendingContract: []string{},
		Events: []EventReport{}, Attention: []string{}, LeftRunning: []switcher.Color{}, Decisions: map[string]DecisionReport{}, ContractWaits: []ContractWaitReport{}}
	unlock, f, err := d.start(ctx, "status")
	var locked *LockedError
	switch {
	case err == nil:
		defer unlock()
		if v := f.decide(gate.Action{Kind: gate.Expire}); v.RetireFirst != nil {
			if err := d.retire(ctx, f.dep(v.RetireFirst), v.RetireWhy, nil); err != nil {
				return nil, err
			}
			if f, err = d.gather(ctx, f.g.State.Traffic); err != nil {
				return nil, err
			}
		}
	case errors.As(err, &locked):
		r.Unfinished = locked.Error()
		r.Attention = append(r.Attention, locked.Error()+" (in progress)")
		if err := state.Ensure(ctx, d.Conn); err != nil {
			return nil, err
		}
		if f, err = d.gather(ctx, d.readTraffic(ctx)); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	t := f.g.State.Traffic
	r.Active, r.ActiveError = switcher.Color(t.Active), t.Err
	if t.Disagreement != "" {
		r.Attention = append(r.Attention, "the load balancer disagrees with itself: "+t.Disagreement)
	}
	if t.Split != nil {
		r.Weights = map[switcher.Color]int{switcher.Blue: t.Split["blue"], switcher.Green: t.Split["green"]}
	}
	if rule, err := state.Traffic(ctx, d.Conn, d.Config.Service); err == nil {
		r.Traffic = &Traffic{Color: rule.Color, Percent: rule.Percent, UpdatedAt: rule.UpdatedAt}
	} else if !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	for c, dep := range f.latest() {
		r.Colors[c] = colorReport(dep)
	}
	if target, _, _ := gate.RollbackTarget(f.g); target != nil {
		r.RollbackTarget = colorOf(target.Color)
		var cur *gate.Deployment
		if a := f.live()[f.active]; a != nil {
			g := gateDep(a)
			cur = &g
		}
		end := gate.WindowEnd(cur, target, *d.Config.RollbackWindow, time.Now())
		r.RollbackUntil = &end
	}
	if op := f.op; op != nil {
		g := f.g.State.Operation
		r.Interrupted = &OperationReport{ID: op.ID, Action: op.Action, Step: op.Step, Deployment: op.Deployment, To: op.To, Actor: op.Actor, StartedAt: op.StartedAt, Recovery: gate.Recovery(g)}
		msg := gate.Interrupted(g)
		if dep := f.deps[op.Deployment]; op.Action == gate.OpDeploy && dep != nil && f.active == dep.Color && dep.Status != state.Active {
			msg += fmt.Sprintf(": the load balancer sends traffic to %s (deployment %d, %s) but the switch was not recorded", dep.Color, dep.ID, dep.Version)
		}
		msg += ": " + gate.Recovery(g)
		if r.Unfinished == "" {
			r.Unfinished = msg
		}
		r.Attention = append(r.Attention, msg)
	} else if u := f.unfinished(); u != nil && r.Unfinished == "" {
		if u.Color == f.active {
			r.Unfinished = fmt.Sprintf("the load balancer sends traffic to %s (deployment %d, %s) but the switch was not recorded: run bgmigrate deploy --resume to finish or bgmigrate rollback to go back", u.Color, u.ID, u.Version)
		} else {
			r.Unfinished = fmt.Sprintf("deployment %d (%s onto %s) did not finish (%s); traffic is on %s: run bgmigrate deploy --resume or bgmigrate rollback", u.ID, u.Version, u.Color, u.Status, f.active)
		}
		r.Attention = append(r.Attention, r.Unfinished)
	}
	for _, dep := range gate.LeftRunning(f.g.State) {
		c := colorOf(dep.Color)
		r.LeftRunning = append(r.LeftRunning, c)
		r.Attention = append(r.Attention, fmt.Sprintf("%s still runs %s (deployment %d, %s), left for inspection: bgmigrate retire --color %s stops it",
			c, dep.Version, dep.ID, strings.ReplaceAll(dep.Status, "_", " "), c))
	}
	if _, stale, why := gate.RollbackTarget(f.g); stale != nil {
		r.Attention = append(r.Attention, fmt.Sprintf("%s stands by but is no longer a rollback target (%s): bgmigrate retire stops it", who(stale), why))
	}
	for _, m := range f.pending() {
		if m.Phase() == runner.PhaseContract {
			r.PendingContract = append(r.PendingContract, m.Path)
		} else {
			r.PendingExpand = append(r.PendingExpand, m.Path)
		}
	}
	for name, a := range map[string]gate.Action{
		"deploy":   {Kind: gate.Deploy, Version: "next"},
		"resume":   {Kind: gate.Resume},
		"rollback": {Kind: gate.Rollback},
		"retire":   {Kind: gate.Retire},
		"contract": {Kind: gate.ContractStatus},
	} {
		v := f.decide(a)
		dr := DecisionReport{Allow: v.Allow && !v.Noop, Reason: v.Reason()}
		if v.Allow && v.Noop {
			dr.Reason = strings.Join(v.Notes, "; ")
		}
		r.Decisions[name] = dr
		if name == "contract" {
			r.ContractAllowed = v.Allow && len(v.Run) > 0
			r.ContractReason = v.Reason()
			for _, w := range v.Wait {
				r.ContractWaits = append(r.ContractWaits, ContractWaitReport{Path: w.Migration.Path, Reason: w.Reason})
			}
			if !v.Allow && len(v.Wait) > 0 {
				r.ContractReason = v.Wait[0].Reason
			}
		}
	}
	holder, err := runner.LockHolder(ctx, d.Conn)
	if err != nil {
		return nil, err
	}
	r.MigrationLock = holder
	evs, err := state.Events(ctx, d.Conn, d.Config.Service, events)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		r.Events = append(r.Events, EventReport{At: e.At, Actor: e.Actor, Action: e.Action, Outcome: e.Outcome, Detail: e.Detail})
	}
	return r, nil
}

func colorReport(dep *state.Deployment) *ColorReport {
	cr := &ColorReport{ID: dep.ID, Version: dep.Version, Status: string(dep.Status), SchemaVersion: dep.SchemaVersion, DeployedAt: dep.DeployedAt}
	for _, p := range []struct {
		t   time.Time
		dst **time.Time
	}{{dep.ActivatedAt, &cr.ActivatedAt}, {dep.RetiredAt, &cr.RetiredAt}, {dep.StoppedAt, &cr.StoppedAt}} {
		if !p.t.IsZero() {
			t := p.t
			*p.dst = &t
		}
	}
	return cr
}

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "service %s\n", r.Service)
	switch {
	case r.ActiveError != "":
		fmt.Fprintf(w, "traffic: unknown, the load balancer did not answer: %s\n", r.ActiveError)
	case len(r.Weights) > 0 && r.Weights[switcher.Blue] != 0 && r.Weights[switcher.Green] != 0:
		fmt.Fprintf(w, "traffic: blue %d%%, green %d%% (load balancer)\n", r.Weights[switcher.Blue], r.Weights[switcher.Green])
	default:
		fmt.Fprintf(w, "traffic: %s (load balancer)\n", r.Active)
	}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		cr := r.Colors[c]
		if cr == nil {
			fmt.Fprintf(w, "  %-5s  never deployed\n", c)
			continue
		}
		line := fmt.Sprintf("  %-5s  %-12s %-11s deployment %d, deployed %s", c, cr.Version, cr.Status, cr.ID, cr.DeployedAt.UTC().Format(time.RFC3339))
		if cr.ActivatedAt != nil {
			line += ", activated " + cr.ActivatedAt.UTC().Format(time.RFC3339)
		}
		if cr.SchemaVersion != "" {
			line += ", schema " + cr.SchemaVersion
		}
		if cr.StoppedAt != nil {
			line += ", stopped"
		}
		fmt.Fprintln(w, line)
	}
	if r.RollbackTarget != "" {
		left := time.Until(*r.RollbackUntil).Round(time.Second)
		fmt.Fprintf(w, "rollback target: %s until %s (%s left)\n", r.RollbackTarget, r.RollbackUntil.UTC().Format(time.RFC3339), left)
	} else {
		fmt.Fprintln(w, "rollback target: none")
	}
	for _, a := range r.Attention {
		fmt.Fprintf(w, "attention: %s\n", a)
	}
	fmt.Fprintf(w, "pending expand (%d):\n", len(r.PendingExpand))
	for _, p := range r.PendingExpand {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fmt.Fprintf(w, "pending contract (%d):\n", len(r.PendingContract))
	waits := map[string]string{}
	for _, cw := range r.ContractWaits {
		waits[cw.Path] = cw.Reason
	}
	for _, p := range r.PendingContract {
		if why, ok := waits[p]; ok {
			fmt.Fprintf(w, "  %s  waits: %s\n", p, why)
		} else {
			fmt.Fprintf(w, "  %s  may run\n", p)
		}
	}
	if len(r.PendingContract) > 0 {
		if r.ContractAllowed {
			fmt.Fprintln(w, "contract: allowed (bgmigrate contract)")
		} else {
			fmt.Fprintf(w, "contract: waiting: %s\n", r.ContractReason)
		}
	}
	for _, name := range []string{"deploy", "rollback"} {
		dr := r.Decisions[name]
		if dr.Allow {
			fmt.Fprintf(w, "%s: allowed\n", name)
		} else if dr.Reason != "" {
			fmt.Fprintf(w, "%s: refused: %s\n", name, dr.Reason)
		}
	}
	if r.MigrationLock != "" {
		fmt.Fprintf(w, "migration lock held by %s\n", r.MigrationLock)
	}
	fmt.Fprintf(w, "last events:\n")
	for _, e := range r.Events {
		fmt.Fprintf(w, "  %s  %-18s %-8s by %-10s %s\n", e.At.UTC().Format(time.RFC3339), e.Action, e.Outcome, e.Actor, string(e.Detail))
	}
}
