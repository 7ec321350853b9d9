package gate

import (
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/phases"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func usersTable(extra ...Column) Table {
	cols := []Column{
		{Name: "id", Type: "bigint", NotNull: true, Generated: true},
		{Name: "email", Type: "character varying(100)", NotNull: true},
		{Name: "legacy", Type: "text"},
		{Name: "status", Type: "text", Default: "'new'::text"},
	}
	return Table{Name: "public.users", Columns: append(cols, extra...),
		Constraints: []Constraint{{Name: "users_pkey", Def: "PRIMARY KEY (id)"}}}
}

func baseCatalog() *Catalog {
	return &Catalog{
		Tables:    []Table{usersTable()},
		Views:     []string{"public.active_users"},
		Functions: []string{"public.user_count()"},
		Enums:     []Enum{{Name: "public.mood", Values: []string{"sad", "ok"}}},
		Sequences: []string{"public.users_id_seq"},
		Indexes:   []Index{{Name: "public.users_pkey", Table: "public.users", Valid: true}},
	}
}

// allowed is an Input every check passes: 001 is the old color's schema,
// 002 (applied) the expand the new color needs, 003 a pending contract.
func allowed() Input {
	newCat := baseCatalog()
	newCat.Tables = []Table{usersTable(Column{Name: "bio", Type: "text"})}
	dropCol(&newCat.Tables[0], "legacy") // 003 drops it
	live := baseCatalog()
	live.Tables = []Table{usersTable(Column{Name: "bio", Type: "text"})}
	return Input{
		Stage: PreSwitch,
		Migrations: []Migration{
			{Version: "001", Path: "001_users.sql", Checksum: "a1", Class: phases.Expand, Tables: []string{"users"}},
			{Version: "002", Path: "002_bio.sql", Checksum: "b2", Class: phases.Expand, Tables: []string{"users"}},
			{Version: "003", Path: "003_drop.sql", Checksum: "c3", Class: phases.Contract, Tables: []string{"users"}},
		},
		History: []Applied{
			{Version: "001", Checksum: "a1", Phase: "expand", FinishedAt: t0},
			{Version: "002", Checksum: "b2", Phase: "expand", FinishedAt: t0.Add(time.Hour)},
		},
		OldVersion: "001",
		NewVersion: "003",
		Old:        baseCatalog(),
		New:        newCat,
		Live:       live,
	}
}

// shopState is the deployment state of service shop with traffic on the
// color of its active deployment (blue when there is none).
func shopState(deps ...Deployment) *State {
	st := &State{Service: "shop", Now: t0.Add(70 * time.Minute), RollbackWindow: 30 * time.Minute, Deployments: deps, Traffic: Traffic{Active: "blue"}}
	for _, d := range deps {
		if d.Status == StatusActive {
			st.Traffic.Active = d.Color
		}
	}
	return st
}

func liveUsers(in *Input) *Table { return &in.Live.Tables[0] }

func col(t *Table, name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	panic("no column " + name)
}

func dropCol(t *Table, name string) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			t.Columns = append(t.Columns[:i], t.Columns[i+1:]...)
			return
		}
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	type want struct {
		check  string
		status Status
		reason string // a substring
	}
	cases := []struct {
		name   string
		change func(in *Input)
		allow  bool
		want   []want
	}{
		{"everything right", func(in *Input) {}, true, []want{
			{CheckExpandApplied, Pass, "the 2 expand migrations up to 003"},
			{CheckContract, Pass, "no contract migration after the old color's version 001"},
			{CheckSchemaOld, Pass, "old color"},
			{CheckSchemaNew, Pass, "new color"},
			{CheckLock, Pass, "free"},
		}},
		{"expand migration not applied", func(in *Input) { in.History = in.History[:1] }, false, []want{
			{CheckExpandApplied, Block, "expand migration 002 (002_bio.sql) that the new color needs is not applied"},
		}},
		{"expand migration changed since applied", func(in *Input) { in.History[1].Checksum = "old" }, false, []want{
			{CheckExpandApplied, Block, "migration 002 (002_bio.sql) was applied with checksum old but the file now has b2"},
		}},
		{"baseline rows keep their checksum", func(in *Input) { in.History[0].Checksum, in.History[0].Phase = "x", "baseline" }, true, nil},
		{"an expand after the new version need not be applied", func(in *Input) {
			in.Migrations = append(in.Migrations, Migration{Version: "004", Path: "004.sql", Class: phases.Expand})
		}, true, nil},
		{"unknown new version", func(in *Input) { in.NewVersion = "999" }, false, []want{
			{CheckExpandApplied, Block, `new version "999" is not a migration`},
		}},
		{"breaking migration pending", func(in *Input) {
			in.Migrations = append(in.Migrations, Migration{Version: "004", Path: "004_rename.sql", Class: phases.Breaking})
		}, false, []want{
			{CheckNoBreaking, Block, "pending migration 004 (004_rename.sql) is breaking"},
		}},
		{"mixed migration pending", func(in *Input) { in.Migrations[2].Class = phases.Mixed }, false, []want{
			{CheckNoBreaking, Block, "is mixed: split it into an expand and a contract migration"},
		}},
		{"a breaking migration already applied is history", func(in *Input) { in.Migrations[0].Class = phases.Breaking }, true, nil},
		{"deployment state: a rollback target blocks the contract", func(in *Input) {
			in.Stage = PreContract
			in.State = shopState(Deployment{ID: 3, Version: "v1", Color: "green", Status: StatusStandby, SchemaVersion: "001", DeployedAt: t0},
				Deployment{ID: 4, Version: "v2", Color: "blue", Status: StatusActive, SchemaVersion: "003", DeployedAt: t0, ActivatedAt: t0.Add(time.Hour)})
		}, false, []want{
			{CheckRollback, Block, `contract migration 003 (003_drop.sql) waits: green (v1, deployment 3, schema 001) is the rollback target until 2026-01-01T13:30:00Z and needs what 003 removes; run bgmigrate retire first`},
		}},
		{"deployment state: retired, the contract may run", func(in *Input) {
			in.Stage = PreContract
			in.State = shopState(Deployment{ID: 3, Version: "v1", Color: "green", Status: StatusRetired, SchemaVersion: "001", DeployedAt: t0},
				Deployment{ID: 4, Version: "v2", Color: "blue", Status: StatusActive, SchemaVersion: "003", DeployedAt: t0, ActivatedAt: t0.Add(time.Hour)})
		}, true, []want{
			{CheckRollback, Pass, `no color of "shop" that may take traffic needs what a pending contract migration removes`},
		}},
		{"deployment state: the contract waits for a release that includes it", func(in *Input) {
			in.Stage = PreContract
			in.State = shopState(Deployment{ID: 3, Version: "v1", Color: "green", Status: StatusActive, SchemaVersion: "002", DeployedAt: t0, ActivatedAt: t0})
		}, false, []want{
			{CheckRollback, Block, `003 belongs to a release no color runs yet (green (v1, deployment 3) takes traffic with schema 002, which still needs what it removes)`},
		}},
		{"deployment state: a rollback target is fine before the switch", func(in *Input) {
			in.State = shopState(Deployment{ID: 3, Version: "v1", Color: "green", Status: StatusStandby, SchemaVersion: "001", DeployedAt: t0},
				Deployment{ID: 4, Version: "v2", Color: "blue", Status: StatusActive, SchemaVersion: "003", DeployedAt: t0, ActivatedAt: t0.Add(time.Hour)})
		}, true, []want{
			{CheckRollback, Pass, "green (v1, deployment 3) stands by as the rollback target"},
		}},
		{"deployment state: an unfinished deployment blocks", func(in *Input) {
			in.State = shopState(Deployment{ID: 5, Version: "v3", Color: "green", Status: StatusReady, SchemaVersion: "003", DeployedAt: t0},
				Deployment{ID: 4, Version: "v2", Color: "blue", Status: StatusActive, SchemaVersion: "003", DeployedAt: t0, ActivatedAt: t0.Add(time.Hour)})
		}, false, []want{
			{CheckRollback, Block, "did not finish"},
		}},
		{"deployment state: the deployment being gated is not unfinished", func(in *Input) {
			in.State = shopState(Deployment{ID: 5, Version: "v3", Color: "green", Status: StatusReady, SchemaVersion: "003", DeployedAt: t0},
				Deployment{ID: 4, Version: "v2", Color: "blue", Status: StatusActive, SchemaVersion: "003", DeployedAt: t0, ActivatedAt: t0.Add(time.Hour)})
			in.Gated = 5
		}, true, nil},
		{"deployment state: an interrupted operation blocks", func(in *Input) {
			in.State = shopState(Deployment{ID: 4, Version: "v2", Color: "blue", Status: StatusActive, SchemaVersion: "003", DeployedAt: t0, ActivatedAt: t0.Add(time.Hour)})
			in.State.Operation = &Operation{ID: 9, Action: OpRollback, Step: StepSwitching, To: "green", Actor: "ci", StartedAt: t0}
		}, false, []want{
			{CheckRollback, Block, "rollback was interrupted (operation 9 by ci"},
		}},
		{"contract applied without retirement", func(in *Input) {
			in.History = append(in.History, Applied{Version: "003", Checksum: "c3", Phase: "contract", FinishedAt: t0.Add(2 * time.Hour)})
		}, false, []want{
			{CheckContract, Block, "contract migration 003 (003_drop.sql) is applied though the old color (001) is still a rollback target: no retirement was recorded before it"},
		}},
		{"contract applied after a retirement", func(in *Input) {
			in.History = append(in.History, Applied{Version: "003", Checksum: "c3", Phase: "contract", FinishedAt: t0.Add(2 * time.Hour)})
			in.Retirements = []time.Time{t0.Add(90 * time.Minute)}
		}, true, nil},
		{"retirement before the last expand does not count", func(in *Input) {
			in.History = append(in.History, Applied{Version: "003", Checksum: "c3", Phase: "contract", FinishedAt: t0.Add(2 * time.Hour)})
			in.Retirements = []time.Time{t0.Add(30 * time.Minute)}
		}, false, []want{{CheckContract, Block, "no retirement"}}},
		{"forced contract", func(in *Input) {
			in.History = append(in.History, Applied{Version: "003", Checksum: "c3", Phase: "contract", FinishedAt: t0.Add(2 * time.Hour), ForcedReason: "hotfix"})
			in.Retirements = []time.Time{t0.Add(90 * time.Minute)}
		}, false, []want{{CheckContract, Block, "it was forced (hotfix)"}}},
		{"contract within the old color's version", func(in *Input) {
			in.Migrations[0].Class = phases.Contract
			in.History[0].Phase = "contract"
		}, true, nil},
		{"contract applied, stage pre-contract", func(in *Input) {
			in.Stage = PreContract
			in.History = append(in.History, Applied{Version: "003", Checksum: "c3", Phase: "contract", FinishedAt: t0.Add(2 * time.Hour)})
			dropCol(liveUsers(in), "legacy")
		}, true, []want{
			{CheckContract, Pass, "stage pre-contract"},
			{CheckSchemaOld, Pass, "the old color is retired"},
		}},
		{"column the old color reads was dropped", func(in *Input) { dropCol(liveUsers(in), "legacy") }, false, []want{
			{CheckSchemaOld, Block, `column "legacy" of table "users" that the old color uses is missing from the live schema`},
		}},
		{"table missing", func(in *Input) { in.Live.Tables = nil }, false, []want{
			{CheckSchemaOld, Block, `table "users" that the old color uses is missing`},
			{CheckSchemaNew, Block, `table "users" that the new color uses is missing`},
		}},
		{"column the new color needs is missing", func(in *Input) { dropCol(liveUsers(in), "bio") }, false, []want{
			{CheckSchemaNew, Block, `column "bio" of table "users" that the new color uses is missing`},
		}},
		{"varchar widened", func(in *Input) { col(liveUsers(in), "email").Type = "character varying(200)" }, true, nil},
		{"varchar to text", func(in *Input) { col(liveUsers(in), "email").Type = "text" }, true, nil},
		{"varchar narrowed", func(in *Input) { col(liveUsers(in), "email").Type = "character varying(50)" }, false, []want{
			{CheckSchemaOld, Block, `column "email" of table "users" is character varying(50) live but character varying(100) in the old color's schema`},
		}},
		{"type changed", func(in *Input) { col(liveUsers(in), "legacy").Type = "integer" }, false, []want{
			{CheckSchemaOld, Block, "is integer live but text"},
		}},
		{"column made NOT NULL", func(in *Input) { col(liveUsers(in), "legacy").NotNull = true }, false, []want{
			{CheckSchemaOld, Block, `column "legacy" of table "users" is NOT NULL live but nullable`},
		}},
		{"default dropped", func(in *Input) { col(liveUsers(in), "status").Default = "" }, false, []want{
			{CheckSchemaOld, Block, `column "status" of table "users" has no default live`},
		}},
		{"default changed", func(in *Input) { col(liveUsers(in), "status").Default = "'old'::text" }, true, []want{
			{CheckSchemaOld, Risk, `defaults to 'old'::text live but to 'new'::text`},
		}},
		{"NOT NULL column without default added", func(in *Input) {
			liveUsers(in).Columns = append(liveUsers(in).Columns, Column{Name: "tenant", Type: "integer", NotNull: true})
		}, false, []want{
			{CheckSchemaOld, Block, `column "tenant" of table "users" is NOT NULL without a default live and the old color's schema lacks it: the old color's inserts would fail`},
		}},
		{"NOT NULL column with a default added", func(in *Input) {
			liveUsers(in).Columns = append(liveUsers(in).Columns, Column{Name: "tenant", Type: "integer", NotNull: true, Default: "0"})
		}, true, nil},
		{"identity column added", func(in *Input) {
			liveUsers(in).Columns = append(liveUsers(in).Columns, Column{Name: "seq", Type: "bigint", NotNull: true, Generated: true})
		}, true, nil},
		{"constraint the old color lacks", func(in *Input) {
			liveUsers(in).Constraints = append(liveUsers(in).Constraints, Constraint{Name: "users_email_check", Def: "CHECK ((email <> ''::text))"})
		}, true, []want{
			{CheckSchemaOld, Risk, `constraint "users_email_check" on table "users" (CHECK ((email <> ''::text))) is live but not in the old color's schema`},
		}},
		{"constraint changed", func(in *Input) { liveUsers(in).Constraints[0].Def = "PRIMARY KEY (id, email)" }, true, []want{
			{CheckSchemaOld, Risk, `constraint "users_pkey" on table "users" is PRIMARY KEY (id, email) live but PRIMARY KEY (id)`},
		}},
		{"view, function, sequence missing", func(in *Input) {
			in.Live.Views, in.Live.Functions, in.Live.Sequences = nil, []string{"public.user_count(integer)"}, nil
		}, false, []want{
			{CheckSchemaOld, Block, `view "active_users"`},
			{CheckSchemaOld, Block, `function user_count() that the old color uses`},
			{CheckSchemaOld, Block, `sequence "users_id_seq"`},
		}},
		{"enum value missing", func(in *Input) { in.Live.Enums[0].Values = []string{"ok"} }, false, []want{
			{CheckSchemaOld, Block, `value "sad" of enum type "mood"`},
		}},
		{"enum type missing", func(in *Input) { in.Live.Enums = nil }, false, []want{
			{CheckSchemaOld, Block, `enum type "mood" that the old color uses is missing`},
		}},
		{"enum value added", func(in *Input) { in.Live.Enums[0].Values = append(in.Live.Enums[0].Values, "happy") }, true, nil},
		{"schema not read", func(in *Input) { in.Old = nil }, false, []want{
			{CheckSchemaOld, Block, "was not read"},
		}},
		{"invalid index", func(in *Input) {
			in.Live.Indexes = append(in.Live.Indexes, Index{Name: "public.users_email_key", Table: "public.users"})
		}, false, []want{
			{CheckIndexes, Block, `index "users_email_key" on table "users" is INVALID`},
		}},
		{"migration lock held", func(in *Input) { in.Ops.LockHolder = "pid 42 (bgmigrate)" }, false, []want{
			{CheckLock, Block, "holds the migration lock: pid 42 (bgmigrate)"},
		}},
		{"old transaction on a release table", func(in *Input) {
			in.Ops.Transactions = []Transaction{{PID: 4242, Age: 6 * time.Minute, State: "idle in transaction", Query: "SELECT *\n  FROM users", Tables: []string{"public.users"}}}
		}, false, []want{
			{CheckTransactions, Block, "transaction of pid 4242 is 6m0s old (limit 5m0s) holding locks on users, which the release touches, idle in transaction: SELECT * FROM users"},
		}},
		{"old transaction elsewhere", func(in *Input) {
			in.Ops.Transactions = []Transaction{{PID: 7, Age: 10 * time.Minute, State: "active", Query: "SELECT 1"}}
		}, false, []want{{CheckTransactions, Block, "transaction of pid 7 is 10m0s old"}}},
		{"young transaction", func(in *Input) {
			in.Ops.Transactions = []Transaction{{PID: 7, Age: time.Minute, Tables: []string{"public.users"}}}
		}, true, nil},
		{"configured transaction age", func(in *Input) {
			in.MaxTransactionAge = 30 * time.Second
			in.Ops.Transactions = []Transaction{{PID: 7, Age: time.Minute}}
		}, false, []want{{CheckTransactions, Block, "(limit 30s)"}}},
		{"lock queue on a release table", func(in *Input) {
			in.Ops.LockWaits = []LockWait{{PID: 9, Table: "public.users", Mode: "AccessExclusiveLock", Age: 3 * time.Second, BlockedBy: []int{4242}}}
		}, false, []want{{CheckLockWaits, Block, `pid 9 has waited 3s for AccessExclusiveLock on "users" behind pid 4242`}}},
		{"lock queue elsewhere", func(in *Input) {
			in.Ops.LockWaits = []LockWait{{PID: 9, Table: "public.orders", Mode: "AccessExclusiveLock"}}
		}, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := allowed()
			tc.change(&in)
			d := Evaluate(in)
			if d.Allow != tc.allow {
				t.Errorf("allow = %v, want %v; checks:\n%s", d.Allow, tc.allow, dump(d))
			}
			for _, w := range tc.want {
				found := false
				for _, c := range d.Checks {
					if c.Name == w.check && c.Status == w.status && strings.Contains(c.Reason, w.reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s %s ~ %q; checks:\n%s", w.check, w.status, w.reason, dump(d))
				}
			}
			if tc.allow && len(tc.want) == 0 {
				for _, c := range d.Checks {
					if c.Status != Pass {
						t.Errorf("unexpected %s %s: %s", c.Name, c.Status, c.Reason)
					}
				}
			}
		})
	}
}

func dump(d Decision) string {
	var b strings.Builder
	for _, c := range d.Checks {
		b.WriteString("  " + string(c.Status) + " " + c.Name + ": " + c.Reason + "\n")
	}
	return b.String()
}

func TestEvaluateEveryCheckReported(t *testing.T) {
	t.Parallel()
	d := Evaluate(allowed())
	var names []string
	for _, c := range d.Checks {
		names = append(names, c.Name)
	}
	want := []string{CheckExpandApplied, CheckNoBreaking, CheckContract, CheckSchemaOld, CheckSchemaNew, CheckIndexes, CheckLock, CheckTransactions, CheckLockWaits}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("checks %v, want %v", names, want)
	}
}

func TestTypeCompatible(t *testing.T) {
	t.Parallel()
	cases := []struct {
		want, live string
		ok         bool
	}{
		{"text", "text", true},
		{"character varying(20)", "character varying(50)", true},
		{"character varying(20)", "character varying", true},
		{"character varying(20)", "text", true},
		{"character varying(50)", "character varying(20)", false},
		{"text", "character varying(20)", false},
		{"numeric(10,2)", "numeric(12,2)", true},
		{"numeric(10,2)", "numeric(12,3)", false},
		{"numeric(10,2)", "numeric", true},
		{"timestamp(3) without time zone", "timestamp without time zone", true},
		{"timestamp without time zone", "timestamp with time zone", false},
		{"cidr", "inet", true},
		{"integer", "bigint", false},
		{"character varying(20)[]", "text[]", true},
		{"character varying(20)[]", "text", false},
		{"public.mood", "public.mood", true},
		{"public.mood", "text", false},
	}
	for _, tc := range cases {
		if got := TypeCompatible(tc.want, tc.live); got != tc.ok {
			t.Errorf("TypeCompatible(%q, %q) = %v, want %v", tc.want, tc.live, got, tc.ok)
		}
	}
}

func TestParseFormatType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, name string
		mods     []int64
		array    bool
	}{
		{"character varying(20)", "varchar", []int64{20}, false},
		{"numeric(10,2)", "numeric", []int64{10, 2}, false},
		{"timestamp(3) with time zone", "timestamptz", []int64{3}, false},
		{"time without time zone", "time", nil, false},
		{"integer[]", "int4", nil, true},
		{"double precision", "float8", nil, false},
	}
	for _, tc := range cases {
		got, ok := ParseFormatType(tc.in)
		if !ok || got.Name != tc.name || got.Array != tc.array || len(got.Mods) != len(tc.mods) {
			t.Errorf("ParseFormatType(%q) = %+v, %v", tc.in, got, ok)
			continue
		}
		for i := range tc.mods {
			if got.Mods[i] != tc.mods[i] {
				t.Errorf("ParseFormatType(%q) mods %v, want %v", tc.in, got.Mods, tc.mods)
			}
		}
	}
}

func TestParseStage(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"pre-switch", "pre-contract"} {
		if _, err := ParseStage(s); err != nil {
			t.Errorf("ParseStage(%q): %v", s, err)
		}
	}
	if _, err := ParseStage("post-switch"); err == nil {
		t.Error("ParseStage accepted post-switch")
	}
}
