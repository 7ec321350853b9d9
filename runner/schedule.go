package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/jackc/pgx/v5"
)

// GateMigrations returns the migrations as the gate's decision sees them:
// version, path, checksum, class, the tables they touch and what stops
// them from being scheduled (their unsuppressed error findings).
func GateMigrations(migs []*Migration) []gate.Migration {
	out := make([]gate.Migration, 0, len(migs))
	for _, m := range migs {
		g := gate.Migration{Version: m.Version, Path: m.Path, Checksum: m.Checksum, Class: m.Class, Neutral: m.Neutral}
		seen := map[string]bool{}
		for _, u := range m.Units {
			for _, s := range u.Steps {
				if s.Table != "" && !seen[s.Table] {
					seen[s.Table] = true
					g.Tables = append(g.Tables, gate.QualifyTable(s.Table))
				}
			}
		}
		for _, fd := range m.Findings {
			g.Problems = append(g.Problems, findingLine(fd))
		}
		for _, fd := range m.Sized {
			g.Sized = append(g.Sized, gate.SizedFinding{Severity: fd.Severity.String(), Message: findingLine(fd)})
		}
		out = append(out, g)
	}
	return out
}

// findingLine is a finding on one line: "path:line:col: message [rule]".
func findingLine(fd rules.Finding) string {
	return fmt.Sprintf("%s:%d:%d: %s [%s]", fd.Path, fd.Span.Start.Line, fd.Span.Start.Column, fd.Message, fd.Rule)
}

// GateHistory returns the history as the gate's decision sees it.
func GateHistory(hist []Applied) []gate.Applied {
	out := make([]gate.Applied, 0, len(hist))
	for _, a := range hist {
		out = append(out, gate.Applied{Version: a.Version, Checksum: a.Checksum, Phase: a.Phase, FinishedAt: a.FinishedAt, ForcedReason: a.ForcedReason, Deployment: a.Deployment})
	}
	return out
}

// ReadFacts reads what the scheduling decision looks at from the
// database: the history and the retirements recorded by bgmigrate retire.
func ReadFacts(ctx context.Context, conn *pgx.Conn, migs []*Migration) (gate.Facts, []Applied, error) {
	hist, err := History(ctx, conn)
	if err != nil {
		return gate.Facts{}, nil, fmt.Errorf("read history: %w", err)
	}
	rets, err := Retirements(ctx, conn)
	if err != nil {
		return gate.Facts{}, nil, err
	}
	return gate.Facts{Migrations: GateMigrations(migs), History: GateHistory(hist), Retirements: rets}, hist, nil
}

// Retirements returns the times old colors were recorded retired.
func Retirements(ctx context.Context, conn *pgx.Conn) ([]time.Time, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('bgmigrate.retirements') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read retirements: %w", err)
	}
	if !exists {
		return nil, nil
	}
	rows, err := conn.Query(ctx, `SELECT retired_at FROM bgmigrate.retirements ORDER BY retired_at`)
	if err != nil {
		return nil, fmt.Errorf("read retirements: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("read retirements: %w", err)
	}
	return out, nil
}

// Action is the decision's action for a run of a phase.
func (p Phase) Action(force bool, reason string) gate.Action {
	switch p {
	case PhaseExpand:
		return gate.Action{Kind: gate.MigrateExpand}
	case PhaseContract:
		return gate.Action{Kind: gate.Contract, Force: force, Reason: reason}
	}
	return gate.Action{Kind: gate.MigrateAll, Force: force, Reason: reason}
}

// Schedule asks the decision (gate.Decide) which of the migrations run
// now for a phase: run in order, later the pending ones that wait. A
// refusal is a *LintError (findings, breaking or mixed files, edited or
// misordered migrations) or a *ContractGateError.
func Schedule(f gate.Facts, migs []*Migration, phase Phase, force bool, reason string) (run, later []*Migration, v gate.Verdict, err error) {
	v = gate.Decide(f, phase.Action(force, reason))
	byVersion := map[string]*Migration{}
	for _, m := range migs {
		byVersion[m.Version] = m
	}
	for _, m := range v.Run {
		run = append(run, byVersion[m.Version])
	}
	for _, w := range v.Wait {
		later = append(later, byVersion[w.Migration.Version])
	}
	if v.Allow {
		return run, later, v, nil
	}
	if len(v.Problems) > 0 {
		return nil, nil, v, &LintError{Findings: v.Problems}
	}
	var pending []string
	for _, w := range v.Wait {
		pending = append(pending, w.Migration.Path)
	}
	return nil, nil, v, &ContractGateError{Reason: strings.Join(v.Reasons, "; "), Pending: pending}
}
