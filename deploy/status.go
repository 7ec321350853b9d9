package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

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
	// Unfinished describes a deployment that did not finish, with what to do.
	Unfinished      string        `json:"unfinished,omitempty"`
	PendingExpand   []string      `json:"pending_expand"`
	PendingContract []string      `json:"pending_contract"`
	ContractAllowed bool          `json:"contract_allowed"`
	ContractReason  string        `json:"contract_reason,omitempty"`
	MigrationLock   string        `json:"migration_lock,omitempty"`
	Events          []EventReport `json:"events"`
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
}

// EventReport is an entry of the state's event log.
type EventReport struct {
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Outcome string          `json:"outcome"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// Status reads both colors, the traffic and the migrations. It reconciles
// the traffic record with the load balancer and retires a rollback target
// whose window has ended, when no other command holds the deployment lock.
// events bounds the events shown.
func (d *Deployer) Status(ctx context.Context, events int) (*Report, error) {
	r := &Report{Service: d.Config.Service, Colors: map[switcher.Color]*ColorReport{}, PendingExpand: []string{}, PendingContract: []string{}, Events: []EventReport{}}
	unlock, active, lv, err := d.start(ctx, "status")
	var locked *LockedError
	switch {
	case err == nil:
		defer unlock()
		r.Active = active
		if err := d.expire(ctx, active, lv); err != nil {
			return nil, err
		}
	case errors.As(err, &locked):
		r.Unfinished = locked.Error()
		if a, err := d.Switcher.Active(ctx); err == nil {
			r.Active = a
		} else {
			r.ActiveError = err.Error()
		}
	default:
		var aerr error
		if r.Active, aerr = d.Switcher.Active(ctx); aerr != nil {
			r.ActiveError = aerr.Error()
		} else {
			return nil, err
		}
	}
	if w, ok := d.Switcher.(switcher.Weighted); ok {
		if ws, err := w.Weights(ctx); err == nil {
			r.Weights = ws
		}
	}
	if rule, err := state.Traffic(ctx, d.Conn, d.Config.Service); err == nil {
		r.Traffic = &Traffic{Color: rule.Color, Percent: rule.Percent, UpdatedAt: rule.UpdatedAt}
	} else if !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	latest, err := state.Latest(ctx, d.Conn, d.Config.Service)
	if err != nil {
		return nil, err
	}
	for c, dep := range latest {
		cr := &ColorReport{ID: dep.ID, Version: dep.Version, Status: string(dep.Status), SchemaVersion: dep.SchemaVersion, DeployedAt: dep.DeployedAt}
		if !dep.ActivatedAt.IsZero() {
			t := dep.ActivatedAt
			cr.ActivatedAt = &t
		}
		if !dep.RetiredAt.IsZero() {
			t := dep.RetiredAt
			cr.RetiredAt = &t
		}
		r.Colors[c] = cr
	}
	if r.Active != "" {
		cur, old := latest[r.Active], latest[r.Active.Other()]
		if old != nil && (old.Status == state.Standby || old.Status == state.Draining) && cur != nil && cur.Status == state.Active {
			r.RollbackTarget = old.Color
			end := d.windowEnd(cur, old)
			r.RollbackUntil = &end
		}
		if u := unfinishedOf(latest); u != nil && r.Unfinished == "" {
			if u.Color == r.Active {
				r.Unfinished = fmt.Sprintf("the load balancer sends traffic to %s (deployment %d, %s) but the switch was not recorded: run bgmigrate deploy --resume to finish or bgmigrate rollback to go back", u.Color, u.ID, u.Version)
			} else {
				r.Unfinished = fmt.Sprintf("deployment %d (%s onto %s) did not finish (%s); traffic is on %s: run bgmigrate deploy --resume or bgmigrate rollback", u.ID, u.Version, u.Color, u.Status, r.Active)
			}
		}
	}
	st, err := runner.ReadStatus(ctx, d.Conn, d.Migrations, runner.Options{})
	if err != nil {
		return nil, err
	}
	for _, m := range st.Pending {
		if m.Phase() == runner.PhaseContract {
			r.PendingContract = append(r.PendingContract, m.Path)
		} else {
			r.PendingExpand = append(r.PendingExpand, m.Path)
		}
	}
	r.MigrationLock = st.LockHolder
	r.ContractAllowed = r.RollbackTarget == "" && r.Unfinished == ""
	switch {
	case r.RollbackTarget != "":
		r.ContractReason = fmt.Sprintf("%s is the rollback target until %s; run bgmigrate retire first", r.RollbackTarget, r.RollbackUntil.Format(time.RFC3339))
	case r.Unfinished != "":
		r.ContractReason = "a deployment did not finish"
	}
	evs, err := state.Events(ctx, d.Conn, d.Config.Service, events)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		r.Events = append(r.Events, EventReport{At: e.At, Actor: e.Actor, Action: e.Action, Outcome: e.Outcome, Detail: e.Detail})
	}
	return r, nil
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
		fmt.Fprintln(w, line)
	}
	if r.RollbackTarget != "" {
		left := time.Until(*r.RollbackUntil).Round(time.Second)
		fmt.Fprintf(w, "rollback target: %s until %s (%s left)\n", r.RollbackTarget, r.RollbackUntil.UTC().Format(time.RFC3339), left)
	} else {
		fmt.Fprintln(w, "rollback target: none")
	}
	if r.Unfinished != "" {
		fmt.Fprintf(w, "attention: %s\n", r.Unfinished)
	}
	fmt.Fprintf(w, "pending expand (%d):\n", len(r.PendingExpand))
	for _, p := range r.PendingExpand {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fmt.Fprintf(w, "pending contract (%d):\n", len(r.PendingContract))
	for _, p := range r.PendingContract {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if len(r.PendingContract) > 0 {
		if r.ContractAllowed {
			fmt.Fprintln(w, "contract: allowed (bgmigrate contract)")
		} else {
			fmt.Fprintf(w, "contract: waiting: %s\n", r.ContractReason)
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
