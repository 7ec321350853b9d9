package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
)

// Operation is a row of bgmigrate.operations: a command that changes
// traffic or state, recorded before it acts (its intent) and closed with
// its outcome after. An operation left open was interrupted: its process
// died part way, and status names it until deploy --resume, rollback or
// the command itself finishes it.
type Operation struct {
	ID      int64
	Service string
	Action  string // deploy, rollback, switch, retire, contract
	Step    string // the last step it recorded reaching
	// Deployment is the deployment it acts on and Target the deployment
	// traffic goes to (rollback, a deploy's old color); 0 for none.
	Deployment, Target int64
	From, To           switcher.Color
	Actor              string
	StartedAt          time.Time
	UpdatedAt          time.Time
	FinishedAt         time.Time // zero while open
	Outcome            string
}

// Operation outcomes.
const (
	OutcomeSuperseded = "superseded" // another command took it over
)

// ActionOperation is the action of operation events.
const ActionOperation = "operation"

// OperationBusyError is an operation opened while another one of the
// service is open and not taken over.
type OperationBusyError struct {
	Service string
	Open    *Operation
}

func (e *OperationBusyError) Error() string {
	return fmt.Sprintf("operation %d (%s) of %q is still open", e.Open.ID, e.Open.Action, e.Service)
}

const operationCols = `id, service, action, step, coalesce(deployment, 0), coalesce(target, 0), coalesce(from_color, ''), coalesce(to_color, ''),
	actor, started_at, updated_at, finished_at, coalesce(outcome, '')`

func scanOperation(row pgx.Row) (*Operation, error) {
	var o Operation
	var finished *time.Time
	if err := row.Scan(&o.ID, &o.Service, &o.Action, &o.Step, &o.Deployment, &o.Target, &o.From, &o.To, &o.Actor, &o.StartedAt, &o.UpdatedAt, &finished, &o.Outcome); err != nil {
		return nil, err
	}
	if finished != nil {
		o.FinishedAt = *finished
	}
	return &o, nil
}

// Open records that a command is about to act: its action, the
// deployments and colors involved. The caller must hold the service's
// deployment lock. An operation of the service still open fails with an
// *OperationBusyError unless its id is supersede: that one is closed as
// superseded by the new one, in the same transaction, so that exactly one
// of them is open at any moment.
func Open(ctx context.Context, conn *pgx.Conn, service, actor, action string, deployment, target int64, from, to switcher.Color, supersede int64) (*Operation, error) {
	if err := checkArgs(service, actor); err != nil {
		return nil, err
	}
	var op *Operation
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockService(ctx, tx, service); err != nil {
			return err
		}
		open, err := scanOperation(tx.QueryRow(ctx, `SELECT `+operationCols+` FROM bgmigrate.operations WHERE service = $1 AND finished_at IS NULL`, service))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case open.ID != supersede:
			return &OperationBusyError{Service: service, Open: open}
		}
		if open != nil {
			if _, err := tx.Exec(ctx, `UPDATE bgmigrate.operations SET finished_at = now(), updated_at = now(), outcome = $2 WHERE id = $1`,
				open.ID, OutcomeSuperseded); err != nil {
				return err
			}
		}
		op, err = scanOperation(tx.QueryRow(ctx, `INSERT INTO bgmigrate.operations (service, action, step, deployment, target, from_color, to_color, actor)
			VALUES ($1, $2, 'started', nullif($3, 0), nullif($4, 0), nullif($5, ''), nullif($6, ''), $7) RETURNING `+operationCols,
			service, action, deployment, target, string(from), string(to), actor))
		if err != nil {
			return err
		}
		if open != nil {
			if _, err := tx.Exec(ctx, `UPDATE bgmigrate.operations SET outcome = $2 WHERE id = $1`,
				open.ID, fmt.Sprintf("%s by operation %d (%s)", OutcomeSuperseded, op.ID, action)); err != nil {
				return err
			}
		}
		detail := map[string]any{"id": op.ID, "action": action, "deployment": deployment, "target": target, "from": from, "to": to}
		if open != nil {
			detail["supersedes"] = open.ID
		}
		return appendEvent(ctx, tx, service, actor, ActionOperation, "open", detail)
	})
	if err != nil {
		var busy *OperationBusyError
		if errors.As(err, &busy) {
			return nil, err
		}
		return nil, fmt.Errorf("record the intent of %s of %q: %w", action, service, err)
	}
	return op, nil
}

// Step records that an open operation reached a step.
func Step(ctx context.Context, conn *pgx.Conn, id int64, step string) error {
	tag, err := conn.Exec(ctx, `UPDATE bgmigrate.operations SET step = $2, updated_at = now() WHERE id = $1 AND finished_at IS NULL`, id, step)
	if err != nil {
		return fmt.Errorf("record step %s of operation %d: %w", step, id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("record step %s of operation %d: %w (or closed)", step, id, ErrNotFound)
	}
	return nil
}

// Retarget records where an open operation now sends traffic (a deploy
// that is rolled back part way).
func Retarget(ctx context.Context, conn *pgx.Conn, id int64, target int64, to switcher.Color) error {
	_, err := conn.Exec(ctx, `UPDATE bgmigrate.operations SET target = nullif($2, 0), to_color = nullif($3, ''), updated_at = now() WHERE id = $1`, id, target, string(to))
	if err != nil {
		return fmt.Errorf("record the target of operation %d: %w", id, err)
	}
	return nil
}

// Close records the outcome of an open operation.
func Close(ctx context.Context, conn *pgx.Conn, id int64, actor, outcome string) error {
	if outcome == "" {
		return &ArgumentError{Name: "outcome", Reason: "must not be empty"}
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var service, action string
		err := tx.QueryRow(ctx, `UPDATE bgmigrate.operations SET finished_at = now(), updated_at = now(), outcome = $2
			WHERE id = $1 AND finished_at IS NULL RETURNING service, action`, id, outcome).Scan(&service, &action)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("operation %d: %w (or closed already)", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		return appendEvent(ctx, tx, service, actor, ActionOperation, "close", map[string]any{"id": id, "action": action, "outcome": outcome})
	})
	if err != nil {
		return fmt.Errorf("record the outcome of operation %d: %w", id, err)
	}
	return nil
}

// OpenOperation returns the open operation of service, nil when there is
// none.
func OpenOperation(ctx context.Context, conn *pgx.Conn, service string) (*Operation, error) {
	op, err := scanOperation(conn.QueryRow(ctx, `SELECT `+operationCols+` FROM bgmigrate.operations WHERE service = $1 AND finished_at IS NULL`, service))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("open operation of %q: %w", service, err)
	}
	return op, nil
}

// List returns every deployment of service, oldest first.
func List(ctx context.Context, conn *pgx.Conn, service string) ([]*Deployment, error) {
	rows, err := conn.Query(ctx, `SELECT `+deploymentCols+` FROM bgmigrate.deployments WHERE service = $1 ORDER BY id`, service)
	if err != nil {
		return nil, fmt.Errorf("deployments of %q: %w", service, err)
	}
	defer rows.Close()
	var out []*Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("deployments of %q: %w", service, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deployments of %q: %w", service, err)
	}
	return out, nil
}

// SetStopped records that the scale-down hook of deployment id ran: the
// color no longer runs it.
func SetStopped(ctx context.Context, conn *pgx.Conn, id int64, actor string) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var service string
		err := tx.QueryRow(ctx, `UPDATE bgmigrate.deployments SET stopped_at = now() WHERE id = $1 RETURNING service`, id).Scan(&service)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("deployment %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		return appendEvent(ctx, tx, service, actor, "stopped", OutcomeOK, map[string]any{"id": id})
	})
	if err != nil {
		return fmt.Errorf("record that deployment %d stopped: %w", id, err)
	}
	return nil
}
