// Package gate decides whether traffic may switch to the new color (stage
// pre-switch) or contract migrations may start (stage pre-contract).
//
// The decision is a pure function, Evaluate(Input) Decision: everything it
// looks at (the migrations, the applied history, the catalogs of the two
// colors' schemas and of the live database, the operations facts) is plain
// data gathered beforehand (package gate/live reads it from the databases), so it can be tested and replayed
// without a database.
package gate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/phases"
)

// Stage is the moment of the deploy the gate guards.
type Stage string

const (
	// PreSwitch: the expand migrations ran, both colors are about to share
	// the database and the old color stays a rollback target.
	PreSwitch Stage = "pre-switch"
	// PreContract: the old color is gone; contract migrations may run.
	PreContract Stage = "pre-contract"
)

// ParseStage reads pre-switch or pre-contract.
func ParseStage(s string) (Stage, error) {
	switch Stage(s) {
	case PreSwitch, PreContract:
		return Stage(s), nil
	}
	return "", fmt.Errorf("unknown stage %q (want pre-switch or pre-contract)", s)
}

// Status is the outcome of one check.
type Status string

const (
	Pass  Status = "pass"
	Block Status = "block"
	Risk  Status = "risk" // reported; does not block
)

// Check names.
const (
	CheckExpandApplied = "expand-applied"
	CheckNoBreaking    = "no-breaking-pending"
	CheckContract      = "no-early-contract"
	CheckSchemaOld     = "schema-old-color"
	CheckSchemaNew     = "schema-new-color"
	CheckIndexes       = "valid-indexes"
	CheckLock          = "migration-lock"
	CheckTransactions  = "transactions"
	CheckRollback      = "rollback-target"
	CheckLockWaits     = "lock-waits"
)

// DefaultMaxTransactionAge is the age above which a transaction blocks the
// switch when MaxTransactionAge is zero.
const DefaultMaxTransactionAge = 5 * time.Minute

// Migration is a migration file of the directory, in the order they apply.
type Migration struct {
	Version  string
	Path     string
	Checksum string
	Class    phases.Class
	// Tables are the tables its statements touch ("schema.table").
	Tables []string
	// Problems are what stops it from being scheduled: its error
	// findings ("path:line:col: message [rule]").
	Problems []string
	// Neutral: it changes nothing the old color sees, so it runs in
	// whichever phase reaches it (after a pending contract migration, with
	// it).
	Neutral bool
	// Sized are its findings about how long a statement locks its table,
	// with the table's size (when the live table sizes were read).
	Sized []SizedFinding
}

// Applied is a row of the runner's history.
type Applied struct {
	Version      string
	Checksum     string
	Phase        string // expand, contract or baseline
	FinishedAt   time.Time
	ForcedReason string
	Deployment   string // the deployment that applied it ("" when none)
}

// Input is everything the decision looks at.
type Input struct {
	Stage      Stage
	Migrations []Migration // the directory, in order
	History    []Applied
	// Retirements are the times old colors were recorded retired.
	Retirements []time.Time
	// OldVersion and NewVersion are the last migrations the old and the new
	// color's code need; OldVersion "" means none (an empty schema).
	OldVersion string
	NewVersion string
	// Old and New are the schemas the two colors were built for (the
	// migrations replayed up to their versions); Live is the database.
	Old, New, Live *Catalog
	Ops            Operations
	// MaxTransactionAge: an older transaction blocks (DefaultMaxTransactionAge if 0).
	MaxTransactionAge time.Duration
	// State is the deployment state of the service (bgmigrate deploy);
	// nil when the gate runs without one. Gated is the deployment being
	// gated (a deploy's own gate step), 0 when none.
	State *State
	Gated int64
	// Queries is what the colors' queries met on the replayed schemas;
	// nil when no queries were given.
	Queries *QueryReport
	// Data is what counting the live rows found for the pending
	// migrations; nil when nothing was counted.
	Data *DataReport
	// Sized says the migrations' findings were made with the live table
	// sizes (Migration.Sized).
	Sized bool
}

// Operations are facts about the live database's sessions.
type Operations struct {
	// LockHolder describes the session holding the runner's lock, "" if free.
	LockHolder   string
	Transactions []Transaction
	LockWaits    []LockWait
}

// Transaction is an open transaction of another session.
type Transaction struct {
	PID   int
	Age   time.Duration
	State string
	Query string
	// Tables are the tables it holds locks on ("schema.table").
	Tables []string
}

// LockWait is a session waiting for a lock on a table.
type LockWait struct {
	PID       int
	Table     string
	Mode      string
	Age       time.Duration
	BlockedBy []int
}

// Check is the outcome of one check.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

// Decision is the gate's answer.
type Decision struct {
	Allow  bool    `json:"allow"`
	Checks []Check `json:"checks"`
}

// Blocks returns the checks that block.
func (d Decision) Blocks() []Check {
	var out []Check
	for _, c := range d.Checks {
		if c.Status == Block {
			out = append(out, c)
		}
	}
	return out
}

// Evaluate decides. It never does I/O.
func Evaluate(in Input) Decision {
	if in.MaxTransactionAge <= 0 {
		in.MaxTransactionAge = DefaultMaxTransactionAge
	}
	if in.Stage == "" {
		in.Stage = PreSwitch
	}
	var d Decision
	for _, f := range []func(Input) []Check{
		checkExpandApplied, checkNoBreaking, checkContract,
		func(in Input) []Check {
			if in.Stage == PreContract {
				return []Check{{Name: CheckSchemaOld, Status: Pass, Reason: "stage pre-contract: the old color is retired"}}
			}
			return checkSchema(CheckSchemaOld, "old", in.Old, in.Live)
		},
		func(in Input) []Check { return checkSchema(CheckSchemaNew, "new", in.New, in.Live) },
		checkQueries, checkData, checkTableSizes,
		checkIndexes, checkLock, checkTransactions, checkLockWaits, checkRollbackTarget,
	} {
		d.Checks = append(d.Checks, f(in)...)
	}
	d.Allow = len(d.Blocks()) == 0
	return d
}

// index returns the position of version in the migrations; "" is -1 (none)
// and an unknown version is len(migs)+1 with ok false.
func index(migs []Migration, version string) (int, bool) {
	if version == "" {
		return -1, true
	}
	for i, m := range migs {
		if m.Version == version {
			return i, true
		}
	}
	return len(migs) + 1, false
}

func isContract(m Migration) bool { return m.Class == phases.Contract }

func passIf(name string, checks []Check, reason string) []Check {
	if len(checks) == 0 {
		return []Check{{Name: name, Status: Pass, Reason: reason}}
	}
	return checks
}

func appliedMap(h []Applied) map[string]Applied {
	out := make(map[string]Applied, len(h))
	for _, a := range h {
		out[a.Version] = a
	}
	return out
}

// (a) every expand migration the new version needs is applied, unchanged.
func checkExpandApplied(in Input) []Check {
	newIdx, ok := index(in.Migrations, in.NewVersion)
	if !ok {
		return []Check{{Name: CheckExpandApplied, Status: Block, Reason: fmt.Sprintf("new version %q is not a migration of the directory", in.NewVersion)}}
	}
	applied := appliedMap(in.History)
	var out []Check
	n := 0
	for i, m := range in.Migrations {
		if i > newIdx || isContract(m) {
			continue
		}
		n++
		a, ok := applied[m.Version]
		switch {
		case !ok:
			out = append(out, Check{Name: CheckExpandApplied, Status: Block,
				Reason: fmt.Sprintf("expand migration %s (%s) that the new color needs is not applied; run bgmigrate migrate expand", m.Version, m.Path)})
		case a.Checksum != m.Checksum && a.Phase != "baseline":
			out = append(out, Check{Name: CheckExpandApplied, Status: Block,
				Reason: fmt.Sprintf("migration %s (%s) was applied with checksum %.12s but the file now has %.12s", m.Version, m.Path, a.Checksum, m.Checksum)})
		}
	}
	return passIf(CheckExpandApplied, out, fmt.Sprintf("the %d expand migrations up to %s are applied with matching checksums", n, orNone(in.NewVersion)))
}

// (b) no breaking or mixed migration is pending.
func checkNoBreaking(in Input) []Check {
	applied := appliedMap(in.History)
	var out []Check
	for _, m := range in.Migrations {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if m.Class == phases.Breaking || m.Class == phases.Mixed {
			out = append(out, Check{Name: CheckNoBreaking, Status: Block,
				Reason: fmt.Sprintf("pending migration %s (%s) is %s: %s", m.Version, m.Path, m.Class, m.Class.Advice())})
		}
	}
	return passIf(CheckNoBreaking, out, "no breaking or mixed migration is pending")
}

// (c) no contract migration the rollback target still needs was applied.
func checkContract(in Input) []Check {
	if in.Stage == PreContract {
		return []Check{{Name: CheckContract, Status: Pass, Reason: "stage pre-contract: the old color is no longer a rollback target"}}
	}
	oldIdx, ok := index(in.Migrations, in.OldVersion)
	if !ok {
		return []Check{{Name: CheckContract, Status: Block, Reason: fmt.Sprintf("old version %q is not a migration of the directory", in.OldVersion)}}
	}
	byVersion := map[string]Migration{}
	pos := map[string]int{}
	for i, m := range in.Migrations {
		byVersion[m.Version] = m
		pos[m.Version] = i
	}
	var out []Check
	for i, a := range in.History {
		m, known := byVersion[a.Version]
		if a.Phase != "contract" && !(known && isContract(m)) {
			continue
		}
		if known && pos[a.Version] <= oldIdx {
			continue // part of the old color's schema
		}
		// The runner allows a contract once a retirement follows the last
		// expand applied before it; forced ones bypassed that.
		var lastExpand time.Time
		for _, b := range in.History[:i] {
			if b.Phase == "expand" && b.FinishedAt.After(lastExpand) {
				lastExpand = b.FinishedAt
			}
		}
		retired := false
		for _, r := range in.Retirements {
			if r.After(lastExpand) && !r.After(a.FinishedAt) {
				retired = true
			}
		}
		if retired && a.ForcedReason == "" {
			continue
		}
		why := "no retirement was recorded before it"
		if a.ForcedReason != "" {
			why = fmt.Sprintf("it was forced (%s)", a.ForcedReason)
		}
		path := a.Version
		if known {
			path = m.Path
		}
		out = append(out, Check{Name: CheckContract, Status: Block,
			Reason: fmt.Sprintf("contract migration %s (%s) is applied though the old color (%s) is still a rollback target: %s", a.Version, path, orNone(in.OldVersion), why)})
	}
	return passIf(CheckContract, out, fmt.Sprintf("no contract migration after the old color's version %s is applied", orNone(in.OldVersion)))
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// CompareSchema checks that everything the color's schema want has exists
// in live with a compatible type (the check the gate runs for each color).
func CompareSchema(color string, want, live *Catalog) []Check {
	return checkSchema("schema-"+color+"-color", color, want, live)
}

// (d) everything a color's schema has exists live with a compatible type.
func checkSchema(name, color string, want, live *Catalog) []Check {
	if want == nil || live == nil {
		return []Check{{Name: name, Status: Block, Reason: fmt.Sprintf("the %s color's schema or the live schema was not read", color)}}
	}
	var out []Check
	block := func(format string, args ...any) {
		out = append(out, Check{Name: name, Status: Block, Reason: fmt.Sprintf(format, args...)})
	}
	risk := func(format string, args ...any) {
		out = append(out, Check{Name: name, Status: Risk, Reason: fmt.Sprintf(format, args...)})
	}
	liveTables := map[string]Table{}
	for _, t := range live.Tables {
		liveTables[t.Name] = t
	}
	for _, t := range want.Tables {
		lt, ok := liveTables[t.Name]
		if !ok {
			block("table %q that the %s color uses is missing from the live schema", display(t.Name), color)
			continue
		}
		liveCols := map[string]Column{}
		for _, c := range lt.Columns {
			liveCols[c.Name] = c
		}
		for _, c := range t.Columns {
			lc, ok := liveCols[c.Name]
			if !ok {
				block("column %q of table %q that the %s color uses is missing from the live schema", c.Name, display(t.Name), color)
				continue
			}
			if !TypeCompatible(c.Type, lc.Type) {
				block("column %q of table %q is %s live but %s in the %s color's schema", c.Name, display(t.Name), lc.Type, c.Type, color)
			}
			if lc.NotNull && !c.NotNull {
				block("column %q of table %q is NOT NULL live but nullable in the %s color's schema: its writes of NULL would fail", c.Name, display(t.Name), color)
			}
			switch {
			case c.Default != "" && lc.Default == "":
				block("column %q of table %q has no default live but the %s color's schema gives it %s: its inserts would store NULL or fail", c.Name, display(t.Name), color, c.Default)
			case c.Default != lc.Default && c.Default != "":
				risk("column %q of table %q defaults to %s live but to %s in the %s color's schema", c.Name, display(t.Name), lc.Default, c.Default, color)
			}
		}
		wantCols := map[string]bool{}
		for _, c := range t.Columns {
			wantCols[c.Name] = true
		}
		for _, lc := range lt.Columns {
			if !wantCols[lc.Name] && lc.NotNull && lc.Default == "" && !lc.Generated {
				block("column %q of table %q is NOT NULL without a default live and the %s color's schema lacks it: the %s color's inserts would fail", lc.Name, display(t.Name), color, color)
			}
		}
		wantCons := map[string]string{}
		for _, c := range t.Constraints {
			wantCons[c.Name] = c.Def
		}
		for _, lc := range lt.Constraints {
			def, ok := wantCons[lc.Name]
			switch {
			case !ok:
				risk("constraint %q on table %q (%s) is live but not in the %s color's schema: its writes may fail", lc.Name, display(t.Name), lc.Def, color)
			case def != lc.Def:
				risk("constraint %q on table %q is %s live but %s in the %s color's schema", lc.Name, display(t.Name), lc.Def, def, color)
			}
		}
	}
	for _, missing := range minus(want.Views, live.Views) {
		block("view %q that the %s color uses is missing from the live schema", display(missing), color)
	}
	for _, missing := range minus(want.Functions, live.Functions) {
		block("function %s that the %s color uses is missing from the live schema", display(missing), color)
	}
	for _, missing := range minus(want.Sequences, live.Sequences) {
		block("sequence %q that the %s color uses is missing from the live schema", display(missing), color)
	}
	liveEnums := map[string]map[string]bool{}
	for _, e := range live.Enums {
		vals := map[string]bool{}
		for _, v := range e.Values {
			vals[v] = true
		}
		liveEnums[e.Name] = vals
	}
	for _, e := range want.Enums {
		vals, ok := liveEnums[e.Name]
		if !ok {
			block("enum type %q that the %s color uses is missing from the live schema", display(e.Name), color)
			continue
		}
		for _, v := range e.Values {
			if !vals[v] {
				block("value %q of enum type %q that the %s color uses is missing from the live schema", v, display(e.Name), color)
			}
		}
	}
	return passIf(name, out, fmt.Sprintf("every table, column, view, function, enum value and sequence of the %s color's schema exists live with a compatible type", color))
}

// minus returns the names of a missing from b, sorted.
func minus(a, b []string) []string {
	have := make(map[string]bool, len(b))
	for _, s := range b {
		have[s] = true
	}
	var out []string
	for _, s := range a {
		if !have[s] {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// display drops the public schema from a qualified name.
func display(name string) string { return strings.TrimPrefix(name, "public.") }

// (e) operations: invalid indexes.
func checkIndexes(in Input) []Check {
	var out []Check
	if in.Live != nil {
		for _, ix := range in.Live.Indexes {
			if !ix.Valid {
				out = append(out, Check{Name: CheckIndexes, Status: Block,
					Reason: fmt.Sprintf("index %q on table %q is INVALID (a failed CREATE INDEX CONCURRENTLY?): drop it and build it again", display(ix.Name), display(ix.Table))})
			}
		}
	}
	return passIf(CheckIndexes, out, "no INVALID index")
}

func checkLock(in Input) []Check {
	if in.Ops.LockHolder != "" {
		return []Check{{Name: CheckLock, Status: Block, Reason: "a bgmigrate run holds the migration lock: " + in.Ops.LockHolder}}
	}
	return []Check{{Name: CheckLock, Status: Pass, Reason: "the migration lock is free"}}
}

// releaseTables are the tables the migrations after the old version up to
// the new one touch.
func releaseTables(in Input) map[string]bool {
	oldIdx, _ := index(in.Migrations, in.OldVersion)
	newIdx, _ := index(in.Migrations, in.NewVersion)
	out := map[string]bool{}
	for i, m := range in.Migrations {
		if i > oldIdx && i <= newIdx {
			for _, t := range m.Tables {
				out[QualifyTable(t)] = true
			}
		}
	}
	return out
}

// QualifyTable puts an unqualified table name in schema public.
func QualifyTable(t string) string {
	if strings.Contains(t, ".") {
		return t
	}
	return "public." + t
}

func checkTransactions(in Input) []Check {
	tables := releaseTables(in)
	var out []Check
	for _, tx := range in.Ops.Transactions {
		if tx.Age < in.MaxTransactionAge {
			continue
		}
		var touched []string
		for _, t := range tx.Tables {
			if tables[QualifyTable(t)] {
				touched = append(touched, display(t))
			}
		}
		where := ""
		switch {
		case len(touched) > 0:
			where = fmt.Sprintf(" holding locks on %s, which the release touches", strings.Join(touched, ", "))
		case len(tx.Tables) > 0:
			where = fmt.Sprintf(" holding locks on %s", strings.Join(displayAll(tx.Tables), ", "))
		}
		out = append(out, Check{Name: CheckTransactions, Status: Block,
			Reason: fmt.Sprintf("transaction of pid %d is %s old (limit %s)%s, %s: %s", tx.PID, tx.Age.Round(time.Second), in.MaxTransactionAge, where, tx.State, oneLine(tx.Query))})
	}
	return passIf(CheckTransactions, out, fmt.Sprintf("no transaction older than %s", in.MaxTransactionAge))
}

func displayAll(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = display(t)
	}
	return out
}

func checkLockWaits(in Input) []Check {
	tables := releaseTables(in)
	var out []Check
	for _, w := range in.Ops.LockWaits {
		if !tables[QualifyTable(w.Table)] {
			continue
		}
		by := ""
		if len(w.BlockedBy) > 0 {
			pids := make([]string, len(w.BlockedBy))
			for i, p := range w.BlockedBy {
				pids[i] = fmt.Sprint(p)
			}
			by = " behind pid " + strings.Join(pids, ", ")
		}
		out = append(out, Check{Name: CheckLockWaits, Status: Block,
			Reason: fmt.Sprintf("pid %d has waited %s for %s on %q%s", w.PID, w.Age.Round(time.Second), w.Mode, display(w.Table), by)})
	}
	return passIf(CheckLockWaits, out, "no lock queue on the release's tables")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// VersionIndex is the position of the migration with the given version in
// migs: -1 for "" (no migration), and false when the version is unknown.
func VersionIndex(migs []Migration, version string) (int, bool) { return index(migs, version) }

// (g) with the deployment state: nothing runs over an interrupted
// operation or an unfinished deployment, and at the pre-contract stage
// every pending contract migration must be allowed by the contract rule
// (Decide).
func checkRollbackTarget(in Input) []Check {
	st := in.State
	if st == nil {
		return nil
	}
	var out []Check
	block := func(format string, args ...any) {
		out = append(out, Check{Name: CheckRollback, Status: Block, Reason: fmt.Sprintf(format, args...)})
	}
	if op := st.Operation; op != nil {
		block("%s: %s", Interrupted(op), Recovery(op))
	}
	v := newView(&Facts{Migrations: in.Migrations, History: in.History, Retirements: in.Retirements, State: st})
	if u := v.unfinished(); u != nil && u.ID != in.Gated {
		block("deployment %d (%s onto %s, %s) of %q did not finish: run bgmigrate deploy --resume or bgmigrate rollback", u.ID, u.Version, u.Color, u.Status, st.Service)
	}
	if len(out) > 0 {
		return out
	}
	target, _, _ := v.rollbackTarget()
	if in.Stage == PreContract {
		d := Decide(Facts{Migrations: in.Migrations, History: in.History, Retirements: in.Retirements, State: st}, Action{Kind: ContractStatus})
		for _, w := range d.Wait {
			block("contract migration %s (%s) waits: %s", w.Migration.Version, w.Migration.Path, w.Reason)
		}
		if len(out) > 0 {
			return out
		}
		if target != nil {
			return []Check{{Name: CheckRollback, Status: Pass, Reason: fmt.Sprintf("%s stands by as the rollback target and needs nothing a pending contract migration removes", who(target))}}
		}
		return []Check{{Name: CheckRollback, Status: Pass, Reason: fmt.Sprintf("no color of %q that may take traffic needs what a pending contract migration removes", st.Service)}}
	}
	if target != nil {
		return []Check{{Name: CheckRollback, Status: Pass, Reason: fmt.Sprintf("%s stands by as the rollback target; its schema is checked as the old color's", who(target))}}
	}
	return []Check{{Name: CheckRollback, Status: Pass, Reason: fmt.Sprintf("no color of %q stands by as a rollback target", st.Service)}}
}
