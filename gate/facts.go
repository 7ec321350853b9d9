package gate

import (
	"time"
)

// The statuses of a deployment, as package state stores them.
const (
	StatusDeploying  = "deploying"   // being rolled out onto its color
	StatusReady      = "ready"       // up and checked, takes no traffic yet
	StatusActive     = "active"      // takes traffic
	StatusDraining   = "draining"    // traffic moved away, finishing requests
	StatusStandby    = "standby"     // idle, kept as the rollback target
	StatusRetired    = "retired"     // stopped for good
	StatusFailed     = "failed"      // never became active
	StatusRolledBack = "rolled_back" // was active, traffic went back to the previous one
)

// Final reports whether a deployment in status s is over: retired,
// failed or rolled back.
func Final(s string) bool {
	return s == StatusRetired || s == StatusFailed || s == StatusRolledBack
}

// Facts are everything Decide looks at, gathered once by the command that
// asks (package deploy, or the runner without deployment state).
type Facts struct {
	// Migrations are the directory's migrations in the order they apply,
	// History the runner's applied migrations and Retirements the times
	// old colors were recorded retired (bgmigrate retire without a deploy:
	// section).
	Migrations  []Migration
	History     []Applied
	Retirements []time.Time
	// State is the deployment state of the service; nil when the database
	// holds none for it (migrations run without bgmigrate deploy).
	State *State
	// Schemas, when set, are the catalogs both colors need and the live
	// catalog they will meet (replayed before anything changes, for a
	// deploy's plan); Decide refuses a deploy they show would break a
	// color.
	Schemas *Schemas
}

// State is the deployment state of one service and where its load
// balancer sends traffic.
type State struct {
	Service string
	Now     time.Time
	// RollbackWindow is how long the old color stays the rollback target
	// after the new one takes the traffic (deploy.rollback_window).
	RollbackWindow time.Duration
	// Deployments are the service's deployments, oldest first.
	Deployments []Deployment
	// Operation is an operation that started and never recorded its
	// outcome: its process was killed. nil when there is none.
	Operation *Operation
	Traffic   Traffic
}

// Deployment is one version of the service on one color.
type Deployment struct {
	ID      int64
	Version string
	Color   string
	Status  string
	// SchemaVersion is the last migration the deployment's code needs; ""
	// for none.
	SchemaVersion string
	DeployedAt    time.Time
	ActivatedAt   time.Time // zero: never took traffic
	RetiredAt     time.Time
	// StoppedAt is when its scale-down hook ran (retired, or a failed or
	// rolled back color cleaned up with retire --color); zero while it
	// may still run.
	StoppedAt time.Time
}

// Operation is a command that changes traffic or state: it records its
// intent before acting and its outcome after. One left open means its
// process died part way.
type Operation struct {
	ID     int64
	Action string // OpDeploy, OpRollback, OpSwitch, OpRetire, OpContract
	// Step is the last step it recorded reaching (StepSwitching: the load
	// balancer may or may not have taken the change).
	Step string
	// Deployment is the deployment it acts on (deploy: the new one;
	// rollback: the one rolled back; switch: the one traffic goes to;
	// retire: the one retired); Target is where a rollback sends
	// traffic. 0 when none.
	Deployment, Target int64
	From, To           string // colors, "" when none
	StartedAt          time.Time
	UpdatedAt          time.Time
	Actor              string
}

// Operations.
const (
	OpDeploy   = "deploy"
	OpRollback = "rollback"
	OpSwitch   = "switch"
	OpRetire   = "retire"
	OpContract = "contract"
)

// Steps an operation records. A deploy also records the names of its
// steps (expand, deploy-hook, readiness, …) as it reaches them.
const (
	StepStarted   = "started"
	StepSwitching = "switching" // the load balancer is being changed
	StepSwitched  = "switched"  // the load balancer took the change
	StepRecorded  = "recorded"  // the change is recorded
)

// Traffic is where the load balancer sends traffic, read from it.
type Traffic struct {
	// Err says why the load balancer could not be read; the rest is then
	// unknown.
	Err string
	// Active is the color taking all the traffic (the larger share while
	// it is split).
	Active string
	// Split is the share of each color while both take traffic; nil when
	// one takes it all.
	Split map[string]int
	// Weighted says the load balancer can split traffic (steps).
	Weighted bool
	// Disagreement describes places of the load balancer that named
	// different colors (the HAProxy runtime and its map file) and were
	// not brought back into agreement; "" when they agree.
	Disagreement string
}

// Known reports whether the load balancer answered.
func (t Traffic) Known() bool { return t.Err == "" && t.Active != "" }

// Schemas are catalogs for the schema comparison of a deploy's plan.
type Schemas struct {
	// Old is the schema the color taking traffic was built for, New the
	// one of the version being deployed, Live the live schema once the
	// pending expand migrations have run (a replay when Predicted).
	Old, New, Live *Catalog
	Predicted      bool
}

// Other returns the other color.
func Other(color string) string {
	if color == "blue" {
		return "green"
	}
	return "blue"
}
