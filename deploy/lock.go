package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockClass is the first key of the deployment lock, a two-key advisory
// lock whose second key is a hash of the service; it differs from the
// state package's class, so the two never wait on each other.
const lockClass = 0x62676470 // "bgdp"

// LockedError is a deploy, rollback, switch, retire or contract refused
// because another one of the same service holds the deployment lock.
type LockedError struct {
	Service string
	Holder  string // pid, application, user, address and age of the holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another bgmigrate holds the deployment lock of %q: %s", e.Service, e.Holder)
}

// lock takes the deployment lock of the service on d.Conn, naming this run
// in application_name so that a refused second run can name it.
func (d *Deployer) lock(ctx context.Context, what string) (unlock func(), err error) {
	app := fmt.Sprintf("bgmigrate %s %s by %s", what, d.Config.Service, d.actor())
	if len(app) > 63 {
		app = app[:63]
	}
	if _, err := d.Conn.Exec(ctx, `SELECT set_config('application_name', $1, false)`, app); err != nil {
		return nil, fmt.Errorf("deployment lock: %w", err)
	}
	// A holder that is already gone from pg_stat_activity is a session
	// that ended (a killed run): its backend releases the lock as it
	// exits, which a loaded server may take a moment to do. The lock is
	// tried again for that long; a live holder is named at once.
	deadline := time.Now().Add(endedHolderWait)
	for {
		var ok bool
		if err := d.Conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClass, d.Config.Service).Scan(&ok); err != nil {
			return nil, fmt.Errorf("deployment lock of %q: %w", d.Config.Service, err)
		}
		if ok {
			break
		}
		holder, err := lockHolder(ctx, d.Conn, d.Config.Service)
		if err != nil {
			holder = "unknown (" + err.Error() + ")"
		}
		if holder != endedHolder || time.Now().After(deadline) {
			return nil, &LockedError{Service: d.Config.Service, Holder: holder}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClass, d.Config.Service)
	}, nil
}

// endedHolder is lockHolder's description of a holder no longer listed in
// pg_stat_activity, and endedHolderWait how long lock waits for its
// backend to release the lock.
const (
	endedHolder     = "a session that has just ended"
	endedHolderWait = 5 * time.Second
)

// lockHolder describes the session that holds the deployment lock.
func lockHolder(ctx context.Context, conn *pgx.Conn, service string) (string, error) {
	var pid int
	var app, user, addr string
	var age time.Duration
	err := conn.QueryRow(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename, ''),
			coalesce(host(a.client_addr), 'local socket'), now() - a.backend_start
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid
		  AND l.objid = (hashtext($2)::bigint & 4294967295)::oid AND l.objsubid = 2
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		LIMIT 1`, lockClass, service).Scan(&pid, &app, &user, &addr, &age)
	if errors.Is(err, pgx.ErrNoRows) {
		return endedHolder, nil
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pid %d (%s, user %s from %s, connected %s ago)", pid, app, user, addr, age.Round(time.Second)), nil
}
