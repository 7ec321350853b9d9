package gate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/phases"
)

// Kind names an action a command asks Decide about.
type Kind string

// The actions.
const (
	Deploy         Kind = "deploy"          // bgmigrate deploy --version V
	Resume         Kind = "resume"          // bgmigrate deploy --resume
	Rollback       Kind = "rollback"        // bgmigrate rollback
	Switch         Kind = "switch"          // bgmigrate switch --to COLOR
	Retire         Kind = "retire"          // bgmigrate retire [--color COLOR]
	Contract       Kind = "contract"        // bgmigrate contract, migrate contract
	MigrateExpand  Kind = "migrate-expand"  // bgmigrate migrate expand (and a deploy's expand step)
	MigrateAll     Kind = "migrate-all"     // bgmigrate migrate all
	ContractStatus Kind = "contract-status" // what status shows: Contract without retiring anything
	Expire         Kind = "expire"          // status: retire a rollback target whose window ended
	Cutover        Kind = "cutover"         // a deploy's switch step: may traffic move to its deployment now?
)

// Action is what a command is about to do.
type Action struct {
	Kind Kind
	// Color is the color of switch --to and retire --color.
	Color string
	// Version is the version a deploy releases.
	Version string
	// Steps are the percentages of a gradual switch (deploy).
	Steps []int
	// Force runs contract migrations while the old color is still the
	// rollback target; Reason says why (recorded).
	Force  bool
	Reason string
	// Deployment is the deployment a cutover moves traffic to, and Passed
	// the checks it passed in this run ("readiness", "gate"); GateSkipped
	// says the configuration turned the gate off.
	Deployment  int64
	Passed      []string
	GateSkipped bool
}

// Verdict is the answer to one action.
type Verdict struct {
	Action Action
	Allow  bool
	// Reasons say why the action is refused; Allow is true when there
	// are none. Notes say what an allowed action will do that is worth
	// telling.
	Reasons []string
	Notes   []string
	// Problems are the reasons that come from the migrations themselves
	// (lint errors, breaking or mixed files, edited or misordered
	// migrations); they are in Reasons too.
	Problems []string
	// Run are the pending migrations that run, in order; Wait the pending
	// ones that must wait, with why.
	Run  []Migration
	Wait []Waiting
	// Forced says the contract migrations in Run override a rollback
	// target (Action.Force); the rollback target is then no longer one.
	Forced bool
	// RetireFirst is a rollback target that is no longer one (its window
	// ended, or a contract removed what it needs): the command retires it
	// before anything else; RetireWhy says why.
	RetireFirst *Deployment
	RetireWhy   string
	// Color is where a deploy puts the version; Current the deployment
	// taking traffic (nil when none is recorded).
	Color   string
	Current *Deployment
	// Target is where rollback or switch sends traffic (nil for the
	// code that served before the first bgmigrate deploy), Deployment the
	// deployment rollback rolls back, resume finishes, switch records or
	// retire stops.
	Target     *Deployment
	Deployment *Deployment
	// TargetColor is the color traffic goes to (rollback, switch).
	TargetColor string
	// Finish is the interrupted operation the action finishes or undoes.
	Finish *Operation
	// Abandon: the action gives up an unfinished deployment that never
	// took traffic (rollback) instead of moving traffic.
	Abandon bool
	// Noop: there is nothing to do (switch to the color that has the
	// traffic, retire with no rollback target).
	Noop bool
	// Stage is where a resumed deploy goes on: "prepare" (from the expand
	// migrations), "checks" (readiness and on), "settle" (the switch
	// happened: record it, the confidence window, the drain).
	Stage string
}

// Waiting is a pending migration that may not run yet.
type Waiting struct {
	Migration Migration
	Reason    string
	// Forceable: only a rollback target holds it back, which --force
	// overrides.
	Forceable bool
}

// Reason returns the reasons joined for one line.
func (v Verdict) Reason() string { return strings.Join(v.Reasons, "; ") }

// Decide answers whether an action may run now, and what it does, from
// facts gathered once. It is the only place bgmigrate decides such
// things, and it never does I/O.
func Decide(f Facts, a Action) Verdict {
	v := newView(&f)
	out := Verdict{Action: a}
	switch a.Kind {
	case Deploy:
		v.deploy(&out)
	case Resume:
		v.resume(&out)
	case Rollback:
		v.rollback(&out)
	case Switch:
		v.switchTo(&out)
	case Retire:
		v.retire(&out)
	case Contract, ContractStatus:
		v.contract(&out, false)
	case MigrateExpand, MigrateAll:
		v.migrate(&out)
	case Expire:
		v.expire(&out)
	case Cutover:
		v.cutover(&out)
	default:
		out.Reasons = []string{fmt.Sprintf("unknown action %q", a.Kind)}
	}
	out.Allow = len(out.Reasons) == 0
	return out
}

// view is Facts with the indexes Decide needs.
type view struct {
	f       *Facts
	st      *State
	pos     map[string]int
	applied map[string]Applied
	pending []int // positions of the pending migrations, in order
	live    map[string]*Deployment
	latest  map[string]*Deployment
}

func newView(f *Facts) *view {
	v := &view{f: f, st: f.State, pos: map[string]int{}, applied: appliedMap(f.History), live: map[string]*Deployment{}, latest: map[string]*Deployment{}}
	for i, m := range f.Migrations {
		v.pos[m.Version] = i
		if _, ok := v.applied[m.Version]; !ok {
			v.pending = append(v.pending, i)
		}
	}
	if v.st != nil {
		for i := range v.st.Deployments {
			d := &v.st.Deployments[i]
			if cur := v.latest[d.Color]; cur == nil || d.ID > cur.ID {
				v.latest[d.Color] = d
			}
			if !Final(d.Status) {
				if cur := v.live[d.Color]; cur == nil || d.ID > cur.ID {
					v.live[d.Color] = d
				}
			}
		}
	}
	return v
}

// idx is the position of a schema version: -1 for "" (no migration) and
// for a version the directory does not hold (treated as including
// nothing), with known false for the latter.
func (v *view) idx(version string) (i int, known bool) {
	if version == "" {
		return -1, true
	}
	if i, ok := v.pos[version]; ok {
		return i, true
	}
	return -1, false
}

// includes reports whether deployment d's code was built with migration
// i applied.
func (v *view) includes(d *Deployment, i int) bool {
	if d == nil {
		return false
	}
	di, known := v.idx(d.SchemaVersion)
	return known && di >= i
}

func (v *view) isContract(a Applied) bool {
	if i, ok := v.pos[a.Version]; ok {
		return v.f.Migrations[i].Class == phases.Contract
	}
	return a.Phase == "contract"
}

// removedFor lists the applied contract migrations that removed what d's
// code needs: after its schema version, applied after it was deployed.
func (v *view) removedFor(d *Deployment) []Applied {
	di, known := v.idx(d.SchemaVersion)
	var out []Applied
	for _, a := range v.f.History {
		if !v.isContract(a) || !a.FinishedAt.After(d.DeployedAt) {
			continue
		}
		if i, ok := v.pos[a.Version]; !known || !ok || i > di {
			out = append(out, a)
		}
	}
	return out
}

func describeRemoved(as []Applied) string {
	var parts []string
	for _, a := range as {
		s := a.Version
		if a.ForcedReason != "" {
			s += fmt.Sprintf(" (forced: %s)", a.ForcedReason)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// schemaText names a deployment's schema for people.
func schemaText(d *Deployment) string {
	if d.SchemaVersion == "" {
		return "no migrations"
	}
	return "schema " + d.SchemaVersion
}

// whoSchema names a deployment with its schema: "green (v1, deployment 3,
// schema 0002)".
func whoSchema(d *Deployment) string {
	return fmt.Sprintf("%s (%s, deployment %d, %s)", d.Color, d.Version, d.ID, schemaText(d))
}

// who names a deployment for people: "green (v1, deployment 3)".
func who(d *Deployment) string {
	return fmt.Sprintf("%s (%s, deployment %d)", d.Color, d.Version, d.ID)
}

// active is the deployment the load balancer sends (most) traffic to:
// the live deployment of the active color, whatever its recorded status;
// nil when none is recorded there.
func (v *view) active() *Deployment {
	if v.st == nil || !v.st.Traffic.Known() {
		return nil
	}
	return v.live[v.st.Traffic.Active]
}

// serving lists the colors that take traffic now.
func (v *view) serving() []string {
	t := v.st.Traffic
	if len(t.Split) > 0 {
		var out []string
		for _, c := range []string{"blue", "green"} {
			if t.Split[c] > 0 {
				out = append(out, c)
			}
		}
		return out
	}
	return []string{t.Active}
}

// windowEnd is when old stops being the rollback target of cur.
func (v *view) windowEnd(cur, old *Deployment) time.Time {
	from := time.Time{}
	if cur != nil {
		from = cur.ActivatedAt
	}
	if from.IsZero() && old != nil {
		from = old.DeployedAt
	}
	if from.IsZero() {
		from = v.st.Now
	}
	return from.Add(v.st.RollbackWindow)
}

// WindowEnd is when the standby old stops being the rollback target of
// the active cur: the rollback window after cur took the traffic.
func WindowEnd(cur, old *Deployment, window time.Duration, now time.Time) time.Time {
	v := &view{st: &State{RollbackWindow: window, Now: now}}
	return v.windowEnd(cur, old)
}

// RollbackTarget returns the deployment of st that traffic can go back to,
// or nil and why there is none; stale is a standby that is no longer a
// rollback target (its window ended, or a contract removed what it
// needs).
func RollbackTarget(f Facts) (target, stale *Deployment, why string) {
	return newView(&f).rollbackTarget()
}

// rollbackTarget returns the standing-by deployment traffic can go back
// to, or nil and why there is none. stale is a standby that is no longer
// a target (window over, or a contract removed what it needs): commands
// retire it first.
func (v *view) rollbackTarget() (target, stale *Deployment, why string) {
	cur := v.active()
	if cur == nil || cur.Status != StatusActive {
		return nil, nil, ""
	}
	old := v.live[Other(cur.Color)]
	if old == nil {
		if l := v.latest[Other(cur.Color)]; l != nil && l.Status == StatusRetired {
			return nil, nil, fmt.Sprintf("%s was retired", who(l))
		}
		return nil, nil, fmt.Sprintf("%s holds no rollback target", Other(cur.Color))
	}
	if old.Status != StatusStandby && old.Status != StatusDraining {
		return nil, nil, fmt.Sprintf("%s is %s, not standing by", who(old), old.Status)
	}
	if end := v.windowEnd(cur, old); !v.st.Now.Before(end) {
		return nil, old, fmt.Sprintf("the rollback window of %s ended at %s", who(old), end.UTC().Format(time.RFC3339))
	}
	if rm := v.removedFor(old); len(rm) > 0 {
		return nil, old, fmt.Sprintf("contract migration(s) %s removed what %s needs", describeRemoved(rm), whoSchema(old))
	}
	return old, nil, ""
}

// blocked returns why nothing that changes traffic or state may run now,
// "" when something may: the load balancer must answer and agree with
// itself, and no operation may be left half done (except one the action
// finishes, allowed).
func (v *view) blocked(allowed ...string) string {
	if v.st == nil {
		return ""
	}
	t := v.st.Traffic
	switch {
	case t.Err != "":
		return "the load balancer cannot be read: " + t.Err
	case t.Active == "":
		return "the load balancer names no color"
	case t.Disagreement != "":
		return "the load balancer disagrees with itself: " + t.Disagreement
	}
	if op := v.st.Operation; op != nil {
		for _, a := range allowed {
			if op.Action == a {
				return ""
			}
		}
		return Interrupted(op) + ": " + Recovery(op)
	}
	return ""
}

// Interrupted describes an operation left open.
func Interrupted(op *Operation) string {
	s := fmt.Sprintf("%s was interrupted (operation %d by %s, started %s, last step %s", op.Action, op.ID, op.Actor, op.StartedAt.UTC().Format(time.RFC3339), op.Step)
	if op.To != "" {
		s += ", traffic to " + op.To
	}
	return s + ")"
}

// Recovery says how to finish or undo an interrupted operation.
func Recovery(op *Operation) string {
	switch op.Action {
	case OpDeploy:
		return "run bgmigrate deploy --resume to finish it or bgmigrate rollback to undo it"
	case OpRollback:
		return "run bgmigrate rollback to finish it"
	case OpSwitch:
		return fmt.Sprintf("run bgmigrate switch --to %s to finish it or bgmigrate rollback to undo it", op.To)
	case OpRetire:
		return "run bgmigrate retire to finish it"
	case OpContract:
		return "run bgmigrate contract to finish it"
	}
	return "run bgmigrate status"
}

// unfinished returns a live deployment that is being deployed (deploying
// or ready): under the deployment lock, one that did not finish.
func (v *view) unfinished() *Deployment {
	for _, c := range []string{"blue", "green"} {
		if d := v.live[c]; d != nil && (d.Status == StatusDeploying || d.Status == StatusReady) {
			return d
		}
	}
	return nil
}

func (v *view) byID(id int64) *Deployment {
	if v.st == nil || id == 0 {
		return nil
	}
	for i := range v.st.Deployments {
		if v.st.Deployments[i].ID == id {
			return &v.st.Deployments[i]
		}
	}
	return nil
}

// problems adds problems to the reasons and reports whether there were
// any.
func (out *Verdict) problems(probs []string) bool {
	out.Problems = append(out.Problems, probs...)
	out.Reasons = append(out.Reasons, probs...)
	return len(probs) > 0
}

func (out *Verdict) refuse(format string, args ...any) {
	out.Reasons = append(out.Reasons, fmt.Sprintf(format, args...))
}

// problems lists what stops pending migrations from being scheduled:
// edited released migrations, lint errors, breaking and mixed files, and
// (ordered) an expand migration after a pending contract one.
func (v *view) problems(ordered bool) []string {
	var out []string
	for _, m := range v.f.Migrations {
		if a, ok := v.applied[m.Version]; ok && a.Checksum != m.Checksum && a.Phase != "baseline" {
			out = append(out, fmt.Sprintf("%s: migration %s was applied with checksum %.12s but the file now has %.12s; released migrations must not change (add a new migration)", m.Path, m.Version, a.Checksum, m.Checksum))
		}
	}
	for _, i := range v.pending {
		m := v.f.Migrations[i]
		out = append(out, m.Problems...)
		if m.Class == phases.Breaking || m.Class == phases.Mixed {
			out = append(out, fmt.Sprintf("%s: a %s migration cannot be scheduled; split it into expand and contract migrations", m.Path, m.Class))
		}
	}
	if !ordered {
		return out
	}
	for k, i := range v.pending {
		if v.f.Migrations[i].Class != phases.Contract {
			continue
		}
		for _, j := range v.pending[k+1:] {
			if n := v.f.Migrations[j]; n.Class != phases.Contract && !n.Neutral {
				out = append(out, fmt.Sprintf("%s (expand) comes after pending contract migration %s; apply contract first or reorder the migrations", n.Path, v.f.Migrations[i].Path))
				break
			}
		}
		break
	}
	return out
}

// ---- deploy ----

func (v *view) deploy(out *Verdict) {
	if v.st == nil {
		out.refuse("no deployment state: bgmigrate deploy needs its service's database")
		return
	}
	if out.Action.Version == "" {
		out.refuse("no version given")
	}
	if why := v.blocked(); why != "" {
		out.refuse("%s", why)
		return
	}
	if u := v.unfinished(); u != nil {
		out.refuse("deployment %d of version %q onto %s did not finish (%s); run bgmigrate deploy --resume or bgmigrate rollback", u.ID, u.Version, u.Color, u.Status)
		return
	}
	active := v.st.Traffic.Active
	if len(v.st.Traffic.Split) > 0 {
		out.refuse("traffic is split %s; run bgmigrate deploy --resume or bgmigrate rollback", splitText(v.st.Traffic.Split))
		return
	}
	idle := Other(active)
	out.Color = idle
	cur := v.live[active]
	switch {
	case cur == nil:
	case cur.Status == StatusActive:
		out.Current = cur
	default:
		out.refuse("the load balancer sends traffic to %s, which the record has as %s: traffic was moved outside bgmigrate; run bgmigrate switch --to %s to adopt it", who(cur), cur.Status, cur.Color)
		return
	}
	if other := v.live[idle]; other != nil {
		switch other.Status {
		case StatusStandby, StatusDraining:
			target, stale, why := v.rollbackTarget()
			switch {
			case target != nil:
				out.refuse("%s holds version %q, the rollback target until %s; run bgmigrate retire first", idle, other.Version, v.windowEnd(cur, other).UTC().Format(time.RFC3339))
			case stale != nil:
				out.RetireFirst, out.RetireWhy = stale, why
			}
		case StatusActive:
			out.refuse("the record says %s is active but the load balancer sends traffic to %s; run bgmigrate switch --to %s or bgmigrate rollback", who(other), active, idle)
		}
	}
	out.problems(v.problems(true))
	v.checkSteps(out)
	v.predicted(out)
	out.Run, out.Wait = v.expandSplit()
}

func splitText(split map[string]int) string {
	return fmt.Sprintf("blue %d%%, green %d%%", split["blue"], split["green"])
}

// expandSplit returns the pending expand migrations (they run before the
// switch) and the pending contract ones (they wait for the old color to
// go).
func (v *view) expandSplit() (run []Migration, wait []Waiting) {
	contract := false
	for _, i := range v.pending {
		m := v.f.Migrations[i]
		switch {
		case m.Class == phases.Contract:
			contract = true
			wait = append(wait, Waiting{Migration: m, Reason: "a contract migration runs once no color that may take traffic needs what it removes (bgmigrate contract)"})
		case m.Neutral && contract:
			wait = append(wait, Waiting{Migration: m, Reason: "it changes nothing the old color sees and runs with the contract migration before it"})
		default:
			run = append(run, m)
		}
	}
	return run, wait
}

func (v *view) checkSteps(out *Verdict) {
	steps := out.Action.Steps
	if len(steps) == 0 {
		return
	}
	if !v.st.Traffic.Weighted && len(steps) > 1 {
		out.refuse("steps %v need a load balancer that splits traffic; this switcher only switches at once", steps)
		return
	}
	prev := 0
	for _, p := range steps {
		if p <= prev || p > 100 {
			out.refuse("steps %v: want ascending percentages from 1 to 100", steps)
			return
		}
		prev = p
	}
	if prev != 100 {
		out.refuse("steps %v: the last step must be 100", steps)
	}
}

// predicted refuses a deploy whose schema comparison, done before
// anything changes, shows that a color would not work.
func (v *view) predicted(out *Verdict) {
	s := v.f.Schemas
	if s == nil {
		return
	}
	when := "once the expand migrations ran"
	if !s.Predicted {
		when = "live"
	}
	for _, c := range append(checkSchema(CheckSchemaOld, "old", s.Old, s.Live), checkSchema(CheckSchemaNew, "new", s.New, s.Live)...) {
		if c.Status == Block {
			out.refuse("gate %s (%s): %s", c.Name, when, c.Reason)
		}
	}
}

// ---- resume ----

func (v *view) resume(out *Verdict) {
	if v.st == nil {
		out.refuse("no deployment state")
		return
	}
	if why := v.blocked(OpDeploy, OpSwitch); why != "" {
		out.refuse("%s", why)
		return
	}
	active := v.st.Traffic.Active
	op := v.st.Operation
	var dep *Deployment
	if op != nil {
		out.Finish = op
		dep = v.byID(op.Deployment)
		if dep == nil {
			out.refuse("the interrupted %s names deployment %d, which is not recorded", op.Action, op.Deployment)
			return
		}
	} else if dep = v.unfinished(); dep == nil {
		// Killed while the old color drained, before operations were
		// recorded: the new deployment is active, the old one draining.
		if old := v.live[Other(active)]; old != nil && old.Status == StatusDraining {
			dep = v.live[active]
		}
		if dep == nil {
			out.refuse("no deployment of %q is unfinished", v.st.Service)
			return
		}
	}
	if want := out.Action.Version; want != "" && want != dep.Version {
		out.refuse("the unfinished deployment is version %q on %s, not %q", dep.Version, dep.Color, want)
		return
	}
	if Final(dep.Status) {
		out.refuse("deployment %d is %s already; run bgmigrate status", dep.ID, dep.Status)
		return
	}
	out.Deployment = dep
	out.Color = dep.Color
	if c := v.live[Other(dep.Color)]; c != nil && c.Status != StatusDeploying && c.Status != StatusReady {
		out.Current = c
	}
	switch {
	case op != nil && op.Action == OpSwitch:
		out.Stage = "switch"
	case active == dep.Color || len(v.st.Traffic.Split) > 0 && v.st.Traffic.Split[dep.Color] > 0:
		out.Stage = "settle"
		if len(v.st.Traffic.Split) > 0 {
			out.Stage = "checks" // part way through the steps: watch them again
		}
	case dep.Status == StatusDeploying:
		out.Stage = "prepare"
	default:
		out.Stage = "checks"
	}
	if out.Stage == "prepare" {
		out.problems(v.problems(true))
		v.checkSteps(out)
	}
}

// ---- rollback ----

func (v *view) rollback(out *Verdict) {
	if v.st == nil {
		out.refuse("no deployment state")
		return
	}
	if why := v.blocked(OpDeploy, OpRollback, OpSwitch); why != "" {
		out.refuse("%s", why)
		return
	}
	active := v.st.Traffic.Active
	if op := v.st.Operation; op != nil {
		out.Finish = op
		v.rollbackInterrupted(out, op, active)
		return
	}
	if u := v.unfinished(); u != nil {
		out.Deployment = u
		if u.Color != active && (len(v.st.Traffic.Split) == 0 || v.st.Traffic.Split[u.Color] == 0) {
			// Traffic never reached it: give the deployment up.
			out.Abandon = true
			return
		}
		// It took traffic unrecorded: send traffic back.
		out.Target = v.live[Other(u.Color)]
		out.TargetColor = Other(u.Color)
		return
	}
	cur := v.active()
	if cur == nil {
		out.refuse("no deployment of %q is recorded on %s, where the load balancer sends traffic", v.st.Service, active)
		return
	}
	if cur.Status != StatusActive {
		out.refuse("the load balancer sends traffic to %s, which the record has as %s; run bgmigrate switch --to %s to adopt it", who(cur), cur.Status, cur.Color)
		return
	}
	target, _, why := v.rollbackTarget()
	if target == nil {
		out.refuse("%s", why)
		return
	}
	out.Deployment, out.Target, out.TargetColor = cur, target, target.Color
}

func (v *view) rollbackInterrupted(out *Verdict, op *Operation, active string) {
	dep := v.byID(op.Deployment)
	switch op.Action {
	case OpRollback:
		// Finish the rollback that was decided.
		out.Deployment, out.Target, out.TargetColor = dep, v.byID(op.Target), op.To
	case OpDeploy, OpSwitch:
		if dep == nil {
			out.refuse("the interrupted %s names deployment %d, which is not recorded", op.Action, op.Deployment)
			return
		}
		out.Deployment = dep
		tookTraffic := active == dep.Color || v.st.Traffic.Split[dep.Color] > 0
		if !tookTraffic {
			out.Abandon = true
			return
		}
		out.TargetColor = Other(dep.Color)
		if t := v.byID(op.Target); t != nil {
			out.Target = t
		} else if t := v.live[Other(dep.Color)]; t != nil {
			out.Target = t
		}
		if t := out.Target; t != nil {
			if rm := v.removedFor(t); len(rm) > 0 {
				out.refuse("contract migration(s) %s removed what %s needs", describeRemoved(rm), whoSchema(t))
			}
			if t.Status == StatusRetired || t.Status == StatusFailed || t.Status == StatusRolledBack {
				out.refuse("%s is %s", who(t), t.Status)
			}
		}
	default:
		out.refuse("%s: %s", Interrupted(op), Recovery(op))
	}
}

// ---- switch ----

func (v *view) switchTo(out *Verdict) {
	to := out.Action.Color
	out.TargetColor = to
	if v.st == nil {
		out.refuse("no deployment state")
		return
	}
	if to != "blue" && to != "green" {
		out.refuse("invalid color %q (want blue or green)", to)
		return
	}
	if why := v.blocked(OpSwitch); why != "" {
		out.refuse("%s", why)
		return
	}
	if op := v.st.Operation; op != nil {
		if op.To != to {
			out.refuse("%s: %s", Interrupted(op), Recovery(op))
			return
		}
		out.Finish = op
	}
	target := v.live[to]
	if target == nil {
		out.refuse("%s holds no deployment to switch to", to)
		return
	}
	out.Target, out.Deployment = target, target
	if c := v.live[Other(to)]; c != nil {
		out.Current = c
	}
	if u := v.unfinished(); u != nil && u.Color != to {
		out.refuse("deployment %d (%s onto %s) did not finish; run bgmigrate deploy --resume or bgmigrate rollback", u.ID, u.Version, u.Color)
		return
	}
	active := v.st.Traffic.Active
	if active == to && target.Status == StatusActive && len(v.st.Traffic.Split) == 0 && out.Finish == nil {
		out.Noop = true
		out.Notes = []string{fmt.Sprintf("traffic is on %s (%s) already", to, target.Version)}
		return
	}
	switch target.Status {
	case StatusReady, StatusActive:
	case StatusStandby, StatusDraining:
		if rm := v.removedFor(target); len(rm) > 0 {
			out.refuse("contract migration(s) %s removed what %s needs", describeRemoved(rm), whoSchema(target))
		}
		if cur := v.live[Other(to)]; cur != nil && cur.Status == StatusActive && active == cur.Color {
			if end := v.windowEnd(cur, target); !v.st.Now.Before(end) {
				out.refuse("the rollback window of %s ended at %s", who(target), end.UTC().Format(time.RFC3339))
			}
		}
	default:
		out.refuse("%s holds deployment %d in status %s", to, target.ID, target.Status)
	}
}

// ---- retire ----

func (v *view) retire(out *Verdict) {
	if v.st == nil {
		// The runner's own record: a retirement allows contract migrations.
		return
	}
	if why := v.blocked(OpRetire); why != "" {
		out.refuse("%s", why)
		return
	}
	if op := v.st.Operation; op != nil {
		out.Finish = op
		out.Deployment = v.byID(op.Deployment)
		if out.Deployment == nil {
			out.refuse("the interrupted retire names deployment %d, which is not recorded", op.Deployment)
		}
		return
	}
	active := v.st.Traffic.Active
	color := out.Action.Color
	if color == "" {
		old := v.live[Other(active)]
		if old == nil || (old.Status != StatusStandby && old.Status != StatusDraining) {
			out.Noop = true
			out.Notes = []string{fmt.Sprintf("%s holds no rollback target", Other(active))}
			return
		}
		out.Deployment = old
		return
	}
	if color == active || v.st.Traffic.Split[color] > 0 {
		out.refuse("%s takes traffic; switch away from it first", color)
		return
	}
	if d := v.live[color]; d != nil {
		switch d.Status {
		case StatusStandby, StatusDraining:
			out.Deployment = d
		case StatusDeploying, StatusReady:
			out.refuse("deployment %d (%s onto %s) did not finish; run bgmigrate deploy --resume or bgmigrate rollback first", d.ID, d.Version, d.Color)
		default:
			out.refuse("the record says %s is %s while the load balancer sends traffic to %s; run bgmigrate switch --to %s or bgmigrate rollback", who(d), d.Status, active, active)
		}
		return
	}
	if d := v.latest[color]; d != nil && (d.Status == StatusFailed || d.Status == StatusRolledBack) && d.StoppedAt.IsZero() {
		out.Deployment = d // a failed color left running for inspection
		return
	}
	out.Noop = true
	out.Notes = []string{fmt.Sprintf("%s runs nothing bgmigrate left running", color)}
}

// LeftRunning returns the latest deployment of each color that failed or
// was rolled back and still runs (left for inspection), newest first.
func LeftRunning(st *State) []Deployment {
	if st == nil {
		return nil
	}
	v := newView(&Facts{State: st})
	var out []Deployment
	for _, c := range []string{"blue", "green"} {
		if v.live[c] != nil {
			continue
		}
		if d := v.latest[c]; d != nil && (d.Status == StatusFailed || d.Status == StatusRolledBack) && d.StoppedAt.IsZero() {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

// ---- cutover ----

// cutover is the precondition of a deploy's switch: traffic only moves to
// a deployment that is being deployed and passed its readiness probe and
// the gate in this run, over a load balancer that answers.
func (v *view) cutover(out *Verdict) {
	if v.st == nil {
		out.refuse("no deployment state")
		return
	}
	t := v.st.Traffic
	switch {
	case t.Err != "":
		out.refuse("the load balancer cannot be read: %s", t.Err)
		return
	case t.Disagreement != "":
		out.refuse("the load balancer disagrees with itself: %s", t.Disagreement)
		return
	}
	d := v.byID(out.Action.Deployment)
	if d == nil {
		out.refuse("deployment %d is not recorded", out.Action.Deployment)
		return
	}
	out.Deployment, out.TargetColor = d, d.Color
	if d.Status != StatusDeploying && d.Status != StatusReady {
		out.refuse("%s is %s, not ready to take the traffic", who(d), d.Status)
	}
	passed := map[string]bool{}
	for _, p := range out.Action.Passed {
		passed[p] = true
	}
	if !passed["readiness"] {
		out.refuse("%s did not pass its readiness probe in this run; traffic is not moved", d.Color)
	}
	if !out.Action.GateSkipped && !passed["gate"] {
		out.refuse("the gate did not allow the switch in this run; traffic is not moved")
	}
}

// ---- expire ----

// expire names the rollback target whose window ended (RetireFirst), for
// status to retire; a target a contract broke is left to a person.
func (v *view) expire(out *Verdict) {
	out.Noop = true
	if v.st == nil || v.blocked() != "" {
		return
	}
	cur := v.active()
	if cur == nil || cur.Status != StatusActive {
		return
	}
	old := v.live[Other(cur.Color)]
	if old == nil || old.Status != StatusStandby && old.Status != StatusDraining {
		return
	}
	if end := v.windowEnd(cur, old); !v.st.Now.Before(end) {
		out.Noop = false
		out.RetireFirst, out.RetireWhy = old, "the rollback window ended"
	}
}

// ---- contract ----

// contract decides which pending contract migrations run; withExpand:
// the pending expand migrations run in the same run, before them (migrate
// all), so a contract after one need not wait for it.
func (v *view) contract(out *Verdict, withExpand bool) {
	if out.problems(v.problems(false)) {
		return
	}
	var pendingContract []int
	for _, i := range v.pending {
		if v.f.Migrations[i].Class == phases.Contract {
			pendingContract = append(pendingContract, i)
		}
	}
	if v.st != nil {
		if why := v.blocked(OpContract); why != "" {
			for _, i := range pendingContract {
				out.Wait = append(out.Wait, Waiting{Migration: v.f.Migrations[i], Reason: why})
			}
			out.refuse("%s", why)
			return
		}
	}
	if len(pendingContract) == 0 {
		out.Noop = true
		return
	}
	if v.st != nil {
		if _, stale, why := v.rollbackTarget(); stale != nil && out.Action.Kind == Contract {
			out.RetireFirst, out.RetireWhy = stale, why
		}
	}
	waiting := ""
	for _, i := range v.pending {
		m := v.f.Migrations[i]
		if m.Neutral && m.Class != phases.Contract {
			// Runs in the contract phase along with the others, in order.
			if waiting != "" {
				out.Wait = append(out.Wait, Waiting{Migration: m, Reason: waiting})
			} else if !withExpand {
				out.Run = append(out.Run, m)
			}
			continue
		}
		if m.Class != phases.Contract {
			if waiting == "" && !withExpand {
				waiting = fmt.Sprintf("expand migration %s before it is pending; run bgmigrate migrate expand (or deploy its release) first", m.Version)
			}
			continue
		}
		if waiting != "" {
			out.Wait = append(out.Wait, Waiting{Migration: m, Reason: waiting})
			continue
		}
		why, forceable := v.contractWaits(i)
		switch {
		case why == "":
			out.Run = append(out.Run, m)
		case forceable && out.Action.Force && strings.TrimSpace(out.Action.Reason) != "":
			out.Run = append(out.Run, m)
			out.Forced = true
		default:
			out.Wait = append(out.Wait, Waiting{Migration: m, Reason: why, Forceable: forceable})
			waiting = fmt.Sprintf("it comes after %s, which waits", m.Version)
		}
	}
	if len(out.Run) == 0 {
		for _, w := range out.Wait {
			out.refuse("%s: %s", w.Migration.Version, w.Reason)
		}
	}
}

// contractWaits says why the pending contract migration at position i may
// not run, "" when it may; forceable when only a rollback target holds it
// back.
func (v *view) contractWaits(i int) (why string, forceable bool) {
	m := v.f.Migrations[i]
	if v.st == nil {
		return v.retirementWaits()
	}
	var deps []*Deployment
	for _, c := range []string{"blue", "green"} {
		if d := v.live[c]; d != nil {
			deps = append(deps, d)
		}
	}
	for _, c := range v.serving() {
		d := v.live[c]
		if d == nil {
			return fmt.Sprintf("%s takes traffic with code deployed before bgmigrate deploy, whose schema is unknown; deploy a release that includes %s first", c, m.Version), false
		}
		if !v.includes(d, i) {
			return v.notInRelease(m, i, d), false
		}
	}
	target, _, _ := v.rollbackTarget()
	for _, d := range deps {
		if v.includes(d, i) || isServing(v, d) {
			continue
		}
		switch d.Status {
		case StatusStandby, StatusDraining:
			if target == nil || target.ID != d.ID {
				continue // no longer a rollback target: retired first
			}
			return fmt.Sprintf("%s is the rollback target until %s and needs what %s removes; run bgmigrate retire first",
				whoSchema(d), v.windowEnd(v.active(), d).UTC().Format(time.RFC3339), m.Version), true
		default:
			return fmt.Sprintf("%s is %s with %s, before %s", who(d), d.Status, schemaText(d), m.Version), false
		}
	}
	return "", false
}

func isServing(v *view, d *Deployment) bool {
	for _, c := range v.serving() {
		if c == d.Color {
			return true
		}
	}
	return false
}

// notInRelease explains why the serving deployment d does not include the
// contract migration m at position i.
func (v *view) notInRelease(m Migration, i int, d *Deployment) string {
	var first, carried *Deployment
	for k := range v.st.Deployments {
		x := &v.st.Deployments[k]
		if !v.includes(x, i) {
			continue
		}
		if first == nil {
			first = x
		}
		if x.Status != StatusFailed && x.Status != StatusRolledBack {
			carried = x
		}
	}
	serves := fmt.Sprintf("%s takes traffic with %s, which still needs what it removes", who(d), schemaText(d))
	switch {
	case first == nil:
		return fmt.Sprintf("%s belongs to a release no color runs yet (%s)", m.Version, serves)
	case carried == nil:
		return fmt.Sprintf("its release %s (deployment %d) was %s; %s", first.Version, first.ID, strings.ReplaceAll(first.Status, "_", " "), serves)
	}
	return fmt.Sprintf("its release %s is not live; %s", carried.Version, serves)
}

// retirementWaits is the contract rule without deployment state: the old
// color is gone once a retirement was recorded after the last expand
// migration.
func (v *view) retirementWaits() (string, bool) {
	var lastExpand, lastRetire time.Time
	for _, a := range v.f.History {
		if a.Phase == "expand" && a.FinishedAt.After(lastExpand) {
			lastExpand = a.FinishedAt
		}
	}
	for _, r := range v.f.Retirements {
		if r.After(lastRetire) {
			lastRetire = r
		}
	}
	if lastExpand.IsZero() || lastRetire.After(lastExpand) {
		return "", false
	}
	return fmt.Sprintf("expand migrations were applied at %s and no retirement was recorded since; run bgmigrate retire once the old color is gone", lastExpand.UTC().Format(time.RFC3339)), true
}

// ---- migrate ----

func (v *view) migrate(out *Verdict) {
	if out.problems(v.problems(out.Action.Kind == MigrateExpand)) {
		return
	}
	if out.Action.Kind == MigrateExpand {
		out.Run, out.Wait = v.expandSplit()
		return
	}
	c := Verdict{Action: Action{Kind: Contract, Force: out.Action.Force, Reason: out.Action.Reason}}
	v.contract(&c, true)
	out.Forced, out.RetireFirst, out.RetireWhy = c.Forced, c.RetireFirst, c.RetireWhy
	runs := map[string]bool{}
	for _, m := range c.Run {
		runs[m.Version] = true
	}
	stopped := ""
	for _, i := range v.pending {
		m := v.f.Migrations[i]
		switch {
		case stopped != "":
			out.Wait = append(out.Wait, Waiting{Migration: m, Reason: fmt.Sprintf("it comes after %s, which waits", stopped)})
		case m.Class != phases.Contract || runs[m.Version]:
			out.Run = append(out.Run, m)
		default:
			for _, w := range c.Wait {
				if w.Migration.Version == m.Version {
					out.Wait = append(out.Wait, w)
				}
			}
			stopped = m.Version
		}
	}
}
