// Package state keeps the deployment state of services in PostgreSQL, in
// schema bgmigrate beside the runner's history: which version runs on which
// color and in what status, where traffic goes, and an append-only log of
// every change.
//
// Call Ensure once before the rest. Every change runs in one transaction
// that also appends its event, and changes to one service are serialized
// by a transaction-scoped advisory lock, so two deploys of the same service
// cannot interleave.
package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// schemaSQL creates the state tables. The events table is append-only: a
// trigger rejects UPDATE, DELETE and TRUNCATE.
const schemaSQL = `
CREATE SCHEMA IF NOT EXISTS bgmigrate;
CREATE TABLE IF NOT EXISTS bgmigrate.deployments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service        text NOT NULL,
    version        text NOT NULL,
    color          text NOT NULL CHECK (color IN ('blue', 'green')),
    status         text NOT NULL CHECK (status IN ('deploying', 'ready', 'active', 'draining', 'standby', 'retired', 'failed', 'rolled_back')),
    schema_version text,
    deployed_at    timestamptz NOT NULL DEFAULT now(),
    activated_at   timestamptz,
    retired_at     timestamptz,
    stopped_at     timestamptz
);
ALTER TABLE bgmigrate.deployments ADD COLUMN IF NOT EXISTS stopped_at timestamptz;
-- A color holds at most one live deployment of a service: deploying onto a
-- color that still runs (or stands by with) another version is refused.
CREATE UNIQUE INDEX IF NOT EXISTS deployments_live_color
    ON bgmigrate.deployments (service, color)
    WHERE status NOT IN ('retired', 'failed', 'rolled_back');
CREATE INDEX IF NOT EXISTS deployments_service ON bgmigrate.deployments (service, id);
CREATE TABLE IF NOT EXISTS bgmigrate.traffic_rules (
    service         text PRIMARY KEY,
    active_color    text NOT NULL CHECK (active_color IN ('blue', 'green')),
    cutover_percent int NOT NULL CHECK (cutover_percent BETWEEN 0 AND 100),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bgmigrate.events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    outcome text NOT NULL,
    detail  jsonb
);
CREATE INDEX IF NOT EXISTS events_service ON bgmigrate.events (service, id);
-- Every command that changes traffic or state opens an operation (its
-- intent) before acting and closes it with its outcome after; one left
-- open was interrupted. A service has at most one open operation.
CREATE TABLE IF NOT EXISTS bgmigrate.operations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service     text NOT NULL,
    action      text NOT NULL,
    step        text NOT NULL,
    deployment  bigint,
    target      bigint,
    from_color  text,
    to_color    text,
    actor       text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text
);
CREATE UNIQUE INDEX IF NOT EXISTS operations_open ON bgmigrate.operations (service) WHERE finished_at IS NULL;
CREATE OR REPLACE FUNCTION bgmigrate.events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bgmigrate.events is append-only: % rejected', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'events_append_only'
                   AND tgrelid = 'bgmigrate.events'::regclass) THEN
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON bgmigrate.events
            FOR EACH ROW EXECUTE FUNCTION bgmigrate.events_append_only();
    END IF;
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'events_no_truncate'
                   AND tgrelid = 'bgmigrate.events'::regclass) THEN
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON bgmigrate.events
            FOR EACH STATEMENT EXECUTE FUNCTION bgmigrate.events_append_only();
    END IF;
END
$$;
`

// lockClass is the first half of the two-key advisory locks this package
// takes (the second is a hash of the service). The runner's lock uses the
// one-key form, a separate key space, so the two never collide.
const lockClass = 0x62677374 // "bgst"

// Ensure creates schema bgmigrate and the state tables if they are missing.
// It is idempotent and safe to run concurrently.
func Ensure(ctx context.Context, conn *pgx.Conn) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClass); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schemaSQL)
		return err
	})
	if err != nil {
		return fmt.Errorf("create state tables in schema bgmigrate: %w", err)
	}
	return nil
}

// Status is where a deployment is in its life.
type Status string

// The statuses of a deployment. Retired, Failed and RolledBack are final.
const (
	Deploying  Status = "deploying"   // being rolled out onto its color
	Ready      Status = "ready"       // up and checked, takes no traffic yet
	Active     Status = "active"      // takes traffic
	Draining   Status = "draining"    // traffic moved away, finishing requests
	Standby    Status = "standby"     // idle, kept as the rollback target
	Retired    Status = "retired"     // stopped for good
	Failed     Status = "failed"      // never became active
	RolledBack Status = "rolled_back" // was active, traffic went back to the previous one
)

// transitions lists the statuses each status may move to. Ready goes to
// RolledBack when it took traffic without the switch being recorded (its
// deploy was killed) and traffic went back.
var transitions = map[Status][]Status{
	Deploying: {Ready, Failed},
	Ready:     {Active, Failed, RolledBack},
	Active:    {Draining, RolledBack},
	Draining:  {Standby, Active, RolledBack},
	Standby:   {Retired, Active},
}

// Path returns the statuses a deployment moves through from one status to
// another, to excluded, along the allowed transitions (the shortest
// path); nil when to cannot be reached, empty when from is to.
func Path(from, to Status) []Status {
	if from == to {
		return []Status{}
	}
	prev := map[Status]Status{from: ""}
	queue := []Status{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range transitions[s] {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = s
			if n == to {
				var out []Status
				for c := to; c != from; c = prev[c] {
					out = append([]Status{c}, out...)
				}
				return out
			}
			queue = append(queue, n)
		}
	}
	return nil
}

// CanTransition reports whether a deployment may move from one status to
// another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Deployment is a row of bgmigrate.deployments: one version of a service
// on one color. Zero times were never reached.
type Deployment struct {
	ID            int64
	Service       string
	Version       string
	Color         switcher.Color
	Status        Status
	SchemaVersion string
	DeployedAt    time.Time
	ActivatedAt   time.Time
	RetiredAt     time.Time
	StoppedAt     time.Time // its scale-down hook ran
}

// TrafficRule is where a service's traffic goes: Percent of it to Color,
// the rest to the other color.
type TrafficRule struct {
	Service   string
	Color     switcher.Color
	Percent   int
	UpdatedAt time.Time
}

// Event is an entry of the append-only log bgmigrate.events.
type Event struct {
	ID      int64
	Service string
	At      time.Time
	Actor   string
	Action  string // ActionBegin, ActionSetStatus or ActionSetTraffic
	Outcome string // OutcomeOK or OutcomeRejected
	Detail  json.RawMessage
}

// Actions and outcomes of events.
const (
	ActionBegin      = "begin"
	ActionSetStatus  = "set-status"
	ActionSetTraffic = "set-traffic"
	ActionSetSchema  = "set-schema-version"

	OutcomeOK       = "ok"
	OutcomeRejected = "rejected"
	OutcomeFailed   = "failed"
)

// ErrNotFound is matched (errors.Is) by errors about a deployment or
// traffic rule that does not exist.
var ErrNotFound = errors.New("not found")

// TransitionError is a status change the lifecycle does not allow.
type TransitionError struct {
	ID       int64
	Service  string
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("deployment %d of %q cannot go from %q to %q", e.ID, e.Service, e.From, e.To)
}

// ColorBusyError is a deploy onto a color that still holds a live
// deployment of the same service; retire it first.
type ColorBusyError struct {
	Service string
	Color   switcher.Color
	ID      int64  // the live deployment, 0 if unknown
	Status  Status // its status, "" if unknown
}

func (e *ColorBusyError) Error() string {
	if e.ID == 0 {
		return fmt.Sprintf("color %q of %q still holds a live deployment; retire it first", e.Color, e.Service)
	}
	return fmt.Sprintf("color %q of %q still holds deployment %d (%s); retire it first", e.Color, e.Service, e.ID, e.Status)
}

// ArgumentError is an argument that cannot be stored.
type ArgumentError struct {
	Name, Value, Reason string
}

func (e *ArgumentError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Name, e.Value, e.Reason)
}

func checkArgs(service, actor string) error {
	if service == "" {
		return &ArgumentError{Name: "service", Reason: "must not be empty"}
	}
	if actor == "" {
		return &ArgumentError{Name: "actor", Reason: "must not be empty"}
	}
	return nil
}

func checkColor(c switcher.Color) error {
	if _, err := switcher.ParseColor(string(c)); err != nil {
		return &ArgumentError{Name: "color", Value: string(c), Reason: "want blue or green"}
	}
	return nil
}

// lockService serializes changes to one service until tx ends.
func lockService(ctx context.Context, tx pgx.Tx, service string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, service)
	return err
}

// appendEvent writes an event; q is a transaction or the connection.
func appendEvent(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, service, actor, action, outcome string, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO bgmigrate.events (service, actor, action, outcome, detail) VALUES ($1, $2, $3, $4, $5)`,
		service, actor, action, outcome, b)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}

const deploymentCols = `id, service, version, color, status, coalesce(schema_version, ''), deployed_at, activated_at, retired_at, stopped_at`

func scanDeployment(row pgx.Row) (*Deployment, error) {
	var d Deployment
	var activated, retired, stopped *time.Time
	if err := row.Scan(&d.ID, &d.Service, &d.Version, &d.Color, &d.Status, &d.SchemaVersion, &d.DeployedAt, &activated, &retired, &stopped); err != nil {
		return nil, err
	}
	if activated != nil {
		d.ActivatedAt = *activated
	}
	if retired != nil {
		d.RetiredAt = *retired
	}
	if stopped != nil {
		d.StoppedAt = *stopped
	}
	return &d, nil
}

// Begin records that version of service is being deployed onto color, in
// status Deploying. It fails with a *ColorBusyError while color still holds
// a deployment of service that is not retired, failed or rolled back.
func Begin(ctx context.Context, conn *pgx.Conn, service, version string, color switcher.Color, actor string) (*Deployment, error) {
	if err := checkArgs(service, actor); err != nil {
		return nil, err
	}
	if version == "" {
		return nil, &ArgumentError{Name: "version", Reason: "must not be empty"}
	}
	if err := checkColor(color); err != nil {
		return nil, err
	}
	var d *Deployment
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockService(ctx, tx, service); err != nil {
			return err
		}
		busy := &ColorBusyError{Service: service, Color: color}
		err := tx.QueryRow(ctx, `SELECT id, status FROM bgmigrate.deployments
			WHERE service = $1 AND color = $2 AND status NOT IN ('retired', 'failed', 'rolled_back')
			ORDER BY id DESC LIMIT 1`, service, color).Scan(&busy.ID, &busy.Status)
		switch {
		case err == nil:
			return busy
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		d, err = scanDeployment(tx.QueryRow(ctx, `INSERT INTO bgmigrate.deployments (service, version, color, status)
			VALUES ($1, $2, $3, $4) RETURNING `+deploymentCols, service, version, color, Deploying))
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return &ColorBusyError{Service: service, Color: color}
			}
			return err
		}
		return appendEvent(ctx, tx, service, actor, ActionBegin, OutcomeOK, map[string]any{
			"id": d.ID, "version": version, "color": color, "status": Deploying,
		})
	})
	if err != nil {
		var busy *ColorBusyError
		if errors.As(err, &busy) {
			return nil, err
		}
		return nil, fmt.Errorf("begin deployment of %q %s on %s: %w", service, version, color, err)
	}
	return d, nil
}

// SetStatus moves deployment id to status to, stamping activated_at when it
// becomes active and retired_at when it retires. A move the lifecycle does
// not allow fails with a *TransitionError and is logged as a rejected event.
func SetStatus(ctx context.Context, conn *pgx.Conn, id int64, to Status, actor string) error {
	if actor == "" {
		return &ArgumentError{Name: "actor", Reason: "must not be empty"}
	}
	var rejected *TransitionError
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var service string
		if err := tx.QueryRow(ctx, `SELECT service FROM bgmigrate.deployments WHERE id = $1`, id).Scan(&service); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("deployment %d: %w", id, ErrNotFound)
			}
			return err
		}
		if err := lockService(ctx, tx, service); err != nil {
			return err
		}
		d, err := scanDeployment(tx.QueryRow(ctx, `SELECT `+deploymentCols+` FROM bgmigrate.deployments WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if !CanTransition(d.Status, to) {
			rejected = &TransitionError{ID: id, Service: service, From: d.Status, To: to}
			return rejected
		}
		if _, err := tx.Exec(ctx, `UPDATE bgmigrate.deployments SET status = $2,
			activated_at = CASE WHEN $2 = 'active' THEN now() ELSE activated_at END,
			retired_at = CASE WHEN $2 = 'retired' THEN now() ELSE retired_at END
			WHERE id = $1`, id, to); err != nil {
			return err
		}
		return appendEvent(ctx, tx, service, actor, ActionSetStatus, OutcomeOK, map[string]any{
			"id": id, "version": d.Version, "color": d.Color, "from": d.Status, "to": to,
		})
	})
	if rejected != nil {
		// The refusal is part of the audit trail too; it is written after
		// the rollback, so a failure to write it must not hide the refusal.
		_ = appendEvent(ctx, conn, rejected.Service, actor, ActionSetStatus, OutcomeRejected, map[string]any{
			"id": id, "from": rejected.From, "to": rejected.To,
		})
		return rejected
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("set status of deployment %d to %q: %w", id, to, err)
	}
	return nil
}

// Current returns the active deployment of service (the most recently
// activated one in status Active) and the one that was active before it,
// whatever its status now. Either is nil when there is none.
func Current(ctx context.Context, conn *pgx.Conn, service string) (active, previous *Deployment, err error) {
	rows, err := conn.Query(ctx, `SELECT `+deploymentCols+` FROM bgmigrate.deployments
		WHERE service = $1 AND activated_at IS NOT NULL
		ORDER BY activated_at DESC, id DESC`, service)
	if err != nil {
		return nil, nil, fmt.Errorf("current deployment of %q: %w", service, err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("current deployment of %q: %w", service, err)
		}
		switch {
		case active == nil && d.Status == Active:
			active = d
		case active != nil:
			previous = d
		}
		if previous != nil {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("current deployment of %q: %w", service, err)
	}
	return active, previous, nil
}

// RollbackTarget returns the deployment of service that traffic can go back
// to: the most recently activated one in status Standby. ok is false when
// there is none.
func RollbackTarget(ctx context.Context, conn *pgx.Conn, service string) (d *Deployment, ok bool, err error) {
	d, err = scanDeployment(conn.QueryRow(ctx, `SELECT `+deploymentCols+` FROM bgmigrate.deployments
		WHERE service = $1 AND status = 'standby'
		ORDER BY activated_at DESC NULLS LAST, id DESC LIMIT 1`, service))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("rollback target of %q: %w", service, err)
	}
	return d, true, nil
}

// Traffic returns the traffic rule of service; an error matching
// ErrNotFound when none was ever set.
func Traffic(ctx context.Context, conn *pgx.Conn, service string) (TrafficRule, error) {
	r := TrafficRule{Service: service}
	err := conn.QueryRow(ctx, `SELECT active_color, cutover_percent, updated_at FROM bgmigrate.traffic_rules WHERE service = $1`,
		service).Scan(&r.Color, &r.Percent, &r.UpdatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return TrafficRule{}, fmt.Errorf("traffic rule of %q: %w", service, ErrNotFound)
	case err != nil:
		return TrafficRule{}, fmt.Errorf("traffic rule of %q: %w", service, err)
	}
	return r, nil
}

// SetTraffic records that percent of the traffic of service goes to color
// and the rest to the other color.
func SetTraffic(ctx context.Context, conn *pgx.Conn, service string, color switcher.Color, percent int, actor string) error {
	if err := checkArgs(service, actor); err != nil {
		return err
	}
	if err := checkColor(color); err != nil {
		return err
	}
	if percent < 0 || percent > 100 {
		return &ArgumentError{Name: "percent", Value: fmt.Sprint(percent), Reason: "want 0 to 100"}
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockService(ctx, tx, service); err != nil {
			return err
		}
		detail := map[string]any{"color": color, "percent": percent}
		var fromColor string
		var fromPercent int
		err := tx.QueryRow(ctx, `SELECT active_color, cutover_percent FROM bgmigrate.traffic_rules WHERE service = $1`,
			service).Scan(&fromColor, &fromPercent)
		switch {
		case err == nil:
			detail["from_color"], detail["from_percent"] = fromColor, fromPercent
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bgmigrate.traffic_rules (service, active_color, cutover_percent, updated_at)
			VALUES ($1, $2, $3, now())
			ON CONFLICT (service) DO UPDATE SET active_color = excluded.active_color,
				cutover_percent = excluded.cutover_percent, updated_at = excluded.updated_at`,
			service, color, percent); err != nil {
			return err
		}
		return appendEvent(ctx, tx, service, actor, ActionSetTraffic, OutcomeOK, detail)
	})
	if err != nil {
		return fmt.Errorf("set traffic of %q to %d%% %s: %w", service, percent, color, err)
	}
	return nil
}

// Events returns the events of service, newest first, at most limit of
// them (all when limit ≤ 0).
func Events(ctx context.Context, conn *pgx.Conn, service string, limit int) ([]Event, error) {
	q := `SELECT id, service, at, actor, action, outcome, coalesce(detail, 'null'::jsonb)
		FROM bgmigrate.events WHERE service = $1 ORDER BY id DESC`
	args := []any{service}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("events of %q: %w", service, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var detail []byte
		if err := rows.Scan(&e.ID, &e.Service, &e.At, &e.Actor, &e.Action, &e.Outcome, &detail); err != nil {
			return nil, fmt.Errorf("events of %q: %w", service, err)
		}
		e.Detail = json.RawMessage(detail)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of %q: %w", service, err)
	}
	return out, nil
}

// Log appends an event of the caller's own (a deploy step, a gate
// decision, a rollback) to the log of service.
func Log(ctx context.Context, conn *pgx.Conn, service, actor, action, outcome string, detail map[string]any) error {
	if err := checkArgs(service, actor); err != nil {
		return err
	}
	if action == "" || outcome == "" {
		return &ArgumentError{Name: "action", Value: action + "/" + outcome, Reason: "action and outcome must not be empty"}
	}
	return appendEvent(ctx, conn, service, actor, action, outcome, detail)
}

// SetSchemaVersion records the last migration the code of deployment id
// needs: the schema version the gate replays for its color.
func SetSchemaVersion(ctx context.Context, conn *pgx.Conn, id int64, version, actor string) error {
	if actor == "" {
		return &ArgumentError{Name: "actor", Reason: "must not be empty"}
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var service string
		err := tx.QueryRow(ctx, `UPDATE bgmigrate.deployments SET schema_version = nullif($2, '') WHERE id = $1 RETURNING service`,
			id, version).Scan(&service)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("deployment %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		return appendEvent(ctx, tx, service, actor, ActionSetSchema, OutcomeOK, map[string]any{"id": id, "schema_version": version})
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("set schema version of deployment %d: %w", id, err)
	}
	return nil
}

// Get returns deployment id.
func Get(ctx context.Context, conn *pgx.Conn, id int64) (*Deployment, error) {
	d, err := scanDeployment(conn.QueryRow(ctx, `SELECT `+deploymentCols+` FROM bgmigrate.deployments WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("deployment %d: %w", id, ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("deployment %d: %w", id, err)
	}
	return d, nil
}

// Live returns the live deployment of each color of service: the newest
// one that is not retired, failed or rolled back. A color without one is
// absent from the map.
func Live(ctx context.Context, conn *pgx.Conn, service string) (map[switcher.Color]*Deployment, error) {
	return byColor(ctx, conn, "live", `SELECT DISTINCT ON (color) `+deploymentCols+` FROM bgmigrate.deployments
		WHERE service = $1 AND status NOT IN ('retired', 'failed', 'rolled_back')
		ORDER BY color, id DESC`, service)
}

// Latest returns the newest deployment of each color of service, whatever
// its status. A color never deployed is absent from the map.
func Latest(ctx context.Context, conn *pgx.Conn, service string) (map[switcher.Color]*Deployment, error) {
	return byColor(ctx, conn, "latest", `SELECT DISTINCT ON (color) `+deploymentCols+` FROM bgmigrate.deployments
		WHERE service = $1 ORDER BY color, id DESC`, service)
}

// byColor runs query (one deployment row per color, for service) and
// returns the deployments by color; which names them in errors.
func byColor(ctx context.Context, conn *pgx.Conn, which, query, service string) (map[switcher.Color]*Deployment, error) {
	rows, err := conn.Query(ctx, query, service)
	if err != nil {
		return nil, fmt.Errorf("%s deployments of %q: %w", which, service, err)
	}
	defer rows.Close()
	out := map[switcher.Color]*Deployment{}
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("%s deployments of %q: %w", which, service, err)
		}
		out[d.Color] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s deployments of %q: %w", which, service, err)
	}
	return out, nil
}

// Final reports whether a deployment in status s is over: retired, failed
// or rolled back.
func Final(s Status) bool { return s == Retired || s == Failed || s == RolledBack }
