package gate

import (
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/phases"
)

// The migrations of the decision cases: v1 needs 0001, v2 renames a
// column the expand-contract way (0002 adds it, 0003 drops the old one),
// v3 adds 0004 and drops something in 0005.
func decideMigrations() []Migration {
	return []Migration{
		{Version: "0001", Path: "0001_users.sql", Checksum: "a", Class: phases.Expand},
		{Version: "0002", Path: "0002_full_name.sql", Checksum: "b", Class: phases.Expand},
		{Version: "0003", Path: "0003_drop_name.sql", Checksum: "c", Class: phases.Contract},
		{Version: "0004", Path: "0004_bio.sql", Checksum: "d", Class: phases.Expand},
		{Version: "0005", Path: "0005_drop_legacy.sql", Checksum: "e", Class: phases.Contract},
	}
}

func applied(versions ...string) []Applied {
	var out []Applied
	for i, v := range versions {
		for _, m := range decideMigrations() {
			if m.Version == v {
				ph := "expand"
				if m.Class == phases.Contract {
					ph = "contract"
				}
				out = append(out, Applied{Version: v, Checksum: m.Checksum, Phase: ph, FinishedAt: t0.Add(time.Duration(i) * time.Minute)})
			}
		}
	}
	return out
}

var (
	v1Green = Deployment{ID: 1, Version: "v1", Color: "green", SchemaVersion: "0001", DeployedAt: t0, ActivatedAt: t0}
	v2Blue  = Deployment{ID: 2, Version: "v2", Color: "blue", SchemaVersion: "0003", DeployedAt: t0.Add(10 * time.Minute), ActivatedAt: t0.Add(20 * time.Minute)}
)

func with(d Deployment, status string) Deployment { d.Status = status; return d }

// facts is the service with the deployments given, traffic on active and
// migrations 0001-0002 applied; now is 30 minutes after v2 took traffic.
func facts(active string, deps ...Deployment) Facts {
	return Facts{
		Migrations: decideMigrations(),
		History:    applied("0001", "0002"),
		State: &State{Service: "users", Now: t0.Add(50 * time.Minute), RollbackWindow: time.Hour,
			Deployments: deps, Traffic: Traffic{Active: active}},
	}
}

func versions(ms []Migration) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Version)
	}
	return strings.Join(out, ",")
}

func TestDecide(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		facts  func() Facts
		action Action
		allow  bool
		reason string // a substring of the joined reasons ("" when allowed: checked empty)
		check  func(t *testing.T, v Verdict)
	}{
		// The contract rule.
		{"contract after a rollback keeps what the live v1 uses",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusRolledBack)) },
			Action{Kind: Contract}, false, "0003: its release v2 (deployment 2) was rolled back; green (v1, deployment 1) takes traffic with schema 0001, which still needs what it removes", nil},
		{"forcing does not override the color serving traffic",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusRolledBack)) },
			Action{Kind: Contract, Force: true, Reason: "hotfix"}, false, "was rolled back", nil},
		{"contract while the old color stands by waits for retire",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Contract}, false, "0003: green (v1, deployment 1, schema 0001) is the rollback target until 2026-01-01T13:20:00Z and needs what 0003 removes; run bgmigrate retire first",
			func(t *testing.T, v Verdict) {
				if len(v.Wait) != 2 || !v.Wait[0].Forceable || v.Wait[1].Forceable {
					t.Errorf("waits %+v: want 0003 forceable and 0005 after it", v.Wait)
				}
			}},
		{"a forced contract overrides the rollback target",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Contract, Force: true, Reason: "hotfix"}, true, "",
			func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0003" || !v.Forced {
					t.Errorf("run %s forced %v, want 0003 forced", versions(v.Run), v.Forced)
				}
			}},
		{"force without a reason does not force",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Contract, Force: true}, false, "rollback target", nil},
		{"after retire the contract of the live release runs, the next release's waits",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.History = applied("0001", "0002", "0004")
				return f
			},
			Action{Kind: Contract}, true, "",
			func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0003" || len(v.Wait) != 1 || !strings.Contains(v.Wait[0].Reason, "0005 belongs to a release no color runs yet") {
					t.Errorf("run %s, wait %+v", versions(v.Run), v.Wait)
				}
			}},
		{"a contract after a pending expand waits for it",
			func() Facts { return facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive)) },
			Action{Kind: Contract}, true, "",
			func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0003" || len(v.Wait) != 1 || !strings.Contains(v.Wait[0].Reason, "expand migration 0004 before it is pending") {
					t.Errorf("run %s, wait %+v", versions(v.Run), v.Wait)
				}
			}},
		{"a rollback target whose window ended is retired first",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.State.Now = t0.Add(3 * time.Hour)
				return f
			},
			Action{Kind: Contract}, true, "",
			func(t *testing.T, v Verdict) {
				if v.RetireFirst == nil || v.RetireFirst.ID != 1 || versions(v.Run) != "0003" {
					t.Errorf("retire first %+v, run %s", v.RetireFirst, versions(v.Run))
				}
			}},
		{"a deploying color without the migration holds it back, forced or not",
			func() Facts {
				d := with(v2Blue, StatusDeploying)
				d.SchemaVersion = "0002"
				d.ActivatedAt = time.Time{}
				return facts("green", with(Deployment{ID: 1, Version: "v2a", Color: "green", SchemaVersion: "0003", DeployedAt: t0, ActivatedAt: t0}, StatusActive), d)
			},
			Action{Kind: Contract, Force: true, Reason: "x"}, false, "blue (v2, deployment 2) is deploying with schema 0002, before 0003", nil},
		{"both colors of a split must include the migration",
			func() Facts {
				f := facts("blue", with(v1Green, StatusActive), with(v2Blue, StatusActive))
				f.State.Traffic.Split = map[string]int{"blue": 50, "green": 50}
				return f
			},
			Action{Kind: Contract, Force: true, Reason: "x"}, false, "green (v1, deployment 1) takes traffic with schema 0001", nil},
		{"traffic on code from before bgmigrate deploy",
			func() Facts { return facts("blue", with(v1Green, StatusRolledBack)) },
			Action{Kind: Contract}, false, "blue takes traffic with code deployed before bgmigrate deploy", nil},
		{"an interrupted operation stops the contract",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.State.Operation = &Operation{ID: 7, Action: OpRollback, Step: StepSwitching, Deployment: 2, Target: 1, From: "blue", To: "green", Actor: "ci", StartedAt: t0}
				return f
			},
			Action{Kind: Contract}, false, "rollback was interrupted (operation 7 by ci, started 2026-01-01T12:00:00Z, last step switching, traffic to green): run bgmigrate rollback to finish it", nil},
		{"an unreadable load balancer stops the contract",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.State.Traffic = Traffic{Err: "dial unix /run/haproxy.sock: no such file"}
				return f
			},
			Action{Kind: Contract}, false, "the load balancer cannot be read", nil},
		{"a load balancer that disagrees with itself stops the contract",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.State.Traffic.Disagreement = "the runtime map names blue, the map file green"
				return f
			},
			Action{Kind: Contract}, false, "disagrees with itself", nil},
		{"no deployment state: a retirement after the last expand allows it",
			func() Facts {
				f := facts("")
				f.State = nil
				f.Retirements = []time.Time{t0.Add(time.Hour)}
				return f
			},
			Action{Kind: Contract}, true, "", func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0003" {
					t.Errorf("run %s", versions(v.Run))
				}
			}},
		{"no deployment state: no retirement since the last expand",
			func() Facts { f := facts(""); f.State = nil; return f },
			Action{Kind: Contract}, false, "no retirement was recorded since", nil},
		{"no deployment state: forced",
			func() Facts { f := facts(""); f.State = nil; return f },
			Action{Kind: Contract, Force: true, Reason: "x"}, true, "", nil},
		{"nothing pending",
			func() Facts {
				f := facts("blue", with(v2Blue, StatusActive))
				f.Migrations = f.Migrations[:2]
				return f
			},
			Action{Kind: Contract}, true, "", func(t *testing.T, v Verdict) {
				if !v.Noop {
					t.Error("want a no-op")
				}
			}},
		{"a breaking pending migration stops the contract",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.Migrations[3].Class = phases.Breaking
				return f
			},
			Action{Kind: Contract}, false, "0004_bio.sql: a breaking migration cannot be scheduled", nil},

		// migrate all and expand.
		{"migrate all runs the expand and the allowed contract in order",
			func() Facts { return facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive)) },
			Action{Kind: MigrateAll}, true, "", func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0003,0004" || len(v.Wait) != 1 || v.Wait[0].Migration.Version != "0005" {
					t.Errorf("run %s wait %+v", versions(v.Run), v.Wait)
				}
			}},
		{"migrate expand refuses an expand after a pending contract",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: MigrateExpand}, false, "0004_bio.sql (expand) comes after pending contract migration 0003_drop_name.sql", nil},
		{"migrate expand leaves contract migrations for later",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.Migrations = f.Migrations[:3]
				f.History = applied("0001")
				return f
			},
			Action{Kind: MigrateExpand}, true, "", func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0002" || len(v.Wait) != 1 {
					t.Errorf("run %s wait %+v", versions(v.Run), v.Wait)
				}
			}},
		{"a released migration edited since",
			func() Facts {
				f := facts("blue", with(v2Blue, StatusActive))
				f.History[0].Checksum = "old"
				return f
			},
			Action{Kind: MigrateExpand}, false, "0001_users.sql: migration 0001 was applied with checksum old but the file now has a", nil},

		// phase-neutral migrations (a VALIDATE, a relaxing DROP CONSTRAINT).
		{"a neutral migration after a pending contract is no misordering: it waits with it",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.Migrations[3].Neutral = true
				f.Migrations = f.Migrations[:4]
				return f
			},
			Action{Kind: MigrateExpand}, true, "", func(t *testing.T, v Verdict) {
				if versions(v.Run) != "" || len(v.Wait) != 2 || v.Wait[1].Migration.Version != "0004" {
					t.Errorf("run %s wait %+v", versions(v.Run), v.Wait)
				}
			}},
		{"contract runs the neutral migrations after the contract one, in order",
			func() Facts {
				f := facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive))
				f.Migrations[3].Neutral = true
				f.Migrations = f.Migrations[:4]
				return f
			},
			Action{Kind: Contract}, true, "", func(t *testing.T, v Verdict) {
				if versions(v.Run) != "0003,0004" {
					t.Errorf("run %s wait %+v", versions(v.Run), v.Wait)
				}
			}},

		// rollback.
		{"rollback to the standby",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Rollback}, true, "", func(t *testing.T, v Verdict) {
				if v.Target == nil || v.Target.ID != 1 || v.Deployment.ID != 2 || v.TargetColor != "green" {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"rollback after the window",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.State.Now = t0.Add(2 * time.Hour)
				return f
			},
			Action{Kind: Rollback}, false, "the rollback window of green (v1, deployment 1) ended at 2026-01-01T13:20:00Z", nil},
		{"rollback after a forced contract removed what the target needs",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.History = append(f.History, Applied{Version: "0003", Checksum: "c", Phase: "contract", FinishedAt: t0.Add(40 * time.Minute), ForcedReason: "leak"})
				return f
			},
			Action{Kind: Rollback}, false, "contract migration(s) 0003 (forced: leak) removed what green (v1, deployment 1, schema 0001) needs", nil},
		{"a contract the target was deployed after does not stop the rollback",
			func() Facts {
				d := with(v1Green, StatusStandby)
				d.DeployedAt = t0.Add(45 * time.Minute)
				f := facts("blue", d, with(v2Blue, StatusActive))
				f.History = append(f.History, Applied{Version: "0003", Checksum: "c", Phase: "contract", FinishedAt: t0.Add(40 * time.Minute)})
				return f
			},
			Action{Kind: Rollback}, true, "", nil},
		{"rollback with the target retired",
			func() Facts { return facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive)) },
			Action{Kind: Rollback}, false, "green (v1, deployment 1) was retired", nil},
		{"a rerun of an interrupted rollback finishes it, not the reverse",
			func() Facts {
				// Killed after the load balancer took the change: traffic on
				// green, the record still blue active and green standby.
				f := facts("green", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.State.Operation = &Operation{ID: 4, Action: OpRollback, Step: StepSwitching, Deployment: 2, Target: 1, From: "blue", To: "green"}
				return f
			},
			Action{Kind: Rollback}, true, "", func(t *testing.T, v Verdict) {
				if v.TargetColor != "green" || v.Target == nil || v.Target.ID != 1 || v.Finish == nil {
					t.Errorf("verdict %+v: want the rollback to green finished", v)
				}
			}},
		{"rollback undoes a deploy killed after its switch",
			func() Facts {
				f := facts("blue", with(v1Green, StatusActive), with(v2Blue, StatusReady))
				f.State.Operation = &Operation{ID: 4, Action: OpDeploy, Step: StepSwitching, Deployment: 2, Target: 1, From: "green", To: "blue"}
				return f
			},
			Action{Kind: Rollback}, true, "", func(t *testing.T, v Verdict) {
				if v.TargetColor != "green" || v.Abandon || v.Deployment.ID != 2 {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"rollback abandons a deploy killed before its switch",
			func() Facts {
				f := facts("green", with(v1Green, StatusActive), with(v2Blue, StatusReady))
				f.State.Operation = &Operation{ID: 4, Action: OpDeploy, Step: "gate", Deployment: 2, Target: 1, From: "green", To: "blue"}
				return f
			},
			Action{Kind: Rollback}, true, "", func(t *testing.T, v Verdict) {
				if !v.Abandon {
					t.Errorf("verdict %+v: want the deployment abandoned", v)
				}
			}},

		// deploy.
		{"deploy onto the idle color",
			func() Facts { return facts("blue", with(v1Green, StatusRetired), with(v2Blue, StatusActive)) },
			Action{Kind: Deploy, Version: "v3"}, false, "0004_bio.sql (expand) comes after pending contract migration 0003", nil},
		{"deploy while the old color is the rollback target",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Deploy, Version: "v3"}, false, `green holds version "v1", the rollback target until 2026-01-01T13:20:00Z; run bgmigrate retire first`, nil},
		{"deploy retires a stale rollback target first",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.Migrations = f.Migrations[:2]
				f.State.Now = t0.Add(5 * time.Hour)
				return f
			},
			Action{Kind: Deploy, Version: "v3"}, true, "", func(t *testing.T, v Verdict) {
				if v.RetireFirst == nil || v.RetireFirst.ID != 1 || v.Color != "green" || v.Current.ID != 2 {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"deploy over an interrupted operation",
			func() Facts {
				f := facts("blue", with(v2Blue, StatusActive))
				f.State.Operation = &Operation{ID: 3, Action: OpDeploy, Step: "confidence", Deployment: 2}
				return f
			},
			Action{Kind: Deploy, Version: "v3"}, false, "deploy was interrupted (operation 3", nil},
		{"deploy in steps needs a weighted load balancer",
			func() Facts {
				f := facts("blue", with(v2Blue, StatusActive))
				f.Migrations = f.Migrations[:2]
				return f
			},
			Action{Kind: Deploy, Version: "v3", Steps: []int{10, 100}}, false, "need a load balancer that splits traffic", nil},
		{"the predicted schema of the old color blocks the deploy at its start",
			func() Facts {
				f := facts("blue", with(v2Blue, StatusActive))
				f.Migrations = f.Migrations[:2]
				old := baseCatalog()
				live := baseCatalog()
				dropCol(&live.Tables[0], "legacy")
				f.Schemas = &Schemas{Old: old, New: live, Live: live, Predicted: true}
				return f
			},
			Action{Kind: Deploy, Version: "v3"}, false, `gate schema-old-color (once the expand migrations ran): column "legacy" of table "users" that the old color uses is missing`, nil},

		// resume.
		{"resume a deploy killed in its confidence window",
			func() Facts {
				f := facts("blue", with(v1Green, StatusDraining), with(v2Blue, StatusActive))
				f.State.Operation = &Operation{ID: 3, Action: OpDeploy, Step: "confidence", Deployment: 2, Target: 1}
				return f
			},
			Action{Kind: Resume}, true, "", func(t *testing.T, v Verdict) {
				if v.Stage != "settle" || v.Deployment.ID != 2 || v.Current.ID != 1 {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"resume a deploy killed before its switch",
			func() Facts {
				f := facts("green", with(v1Green, StatusActive), with(v2Blue, StatusReady))
				f.State.Operation = &Operation{ID: 3, Action: OpDeploy, Step: "gate", Deployment: 2, Target: 1}
				return f
			},
			Action{Kind: Resume}, true, "", func(t *testing.T, v Verdict) {
				if v.Stage != "checks" {
					t.Errorf("stage %q, want checks", v.Stage)
				}
			}},
		{"resume over an interrupted rollback",
			func() Facts {
				f := facts("green", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.State.Operation = &Operation{ID: 4, Action: OpRollback, Step: StepSwitching, Deployment: 2, Target: 1, To: "green"}
				return f
			},
			Action{Kind: Resume}, false, "run bgmigrate rollback to finish it", nil},
		{"resume with nothing unfinished",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Resume}, false, `no deployment of "users" is unfinished`, nil},

		// switch.
		{"switch to the standby",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Switch, Color: "green"}, true, "", nil},
		{"switch to the color with the traffic",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Switch, Color: "blue"}, true, "", func(t *testing.T, v Verdict) {
				if !v.Noop {
					t.Error("want a no-op")
				}
			}},
		{"switch to a failed color",
			func() Facts { return facts("blue", with(v1Green, StatusFailed), with(v2Blue, StatusActive)) },
			Action{Kind: Switch, Color: "green"}, false, "green holds no deployment to switch to", nil},
		{"switch to a standby a contract broke",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.History = append(f.History, Applied{Version: "0003", Checksum: "c", Phase: "contract", FinishedAt: t0.Add(40 * time.Minute), ForcedReason: "leak"})
				return f
			},
			Action{Kind: Switch, Color: "green"}, false, "removed what green (v1, deployment 1, schema 0001) needs", nil},

		// expire (status).
		{"status retires a rollback target whose window ended",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.State.Now = t0.Add(3 * time.Hour)
				return f
			},
			Action{Kind: Expire}, true, "", func(t *testing.T, v Verdict) {
				if v.RetireFirst == nil || v.RetireFirst.ID != 1 || v.Noop {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"status leaves a target a forced contract broke to a person",
			func() Facts {
				f := facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive))
				f.History = append(f.History, Applied{Version: "0003", Checksum: "c", Phase: "contract", FinishedAt: t0.Add(40 * time.Minute), ForcedReason: "leak"})
				return f
			},
			Action{Kind: Expire}, true, "", func(t *testing.T, v Verdict) {
				if v.RetireFirst != nil || !v.Noop {
					t.Errorf("verdict %+v", v)
				}
			}},

		// a deploy's switch step.
		{"the switch step needs readiness and the gate passed in this run",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusDeploying)) },
			Action{Kind: Cutover, Deployment: 2, Passed: []string{"readiness"}}, false, "the gate did not allow the switch in this run", nil},
		{"the switch step with its checks passed",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusReady)) },
			Action{Kind: Cutover, Deployment: 2, Passed: []string{"readiness", "gate"}}, true, "", nil},
		{"the switch step with the gate turned off",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusReady)) },
			Action{Kind: Cutover, Deployment: 2, Passed: []string{"readiness"}, GateSkipped: true}, true, "", nil},
		{"the switch step for a deployment that failed",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusFailed)) },
			Action{Kind: Cutover, Deployment: 2, Passed: []string{"readiness", "gate"}}, false, "blue (v2, deployment 2) is failed, not ready", nil},

		// retire.
		{"retire the rollback target",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Retire}, true, "", func(t *testing.T, v Verdict) {
				if v.Deployment == nil || v.Deployment.ID != 1 {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"retire the color with the traffic",
			func() Facts { return facts("blue", with(v1Green, StatusStandby), with(v2Blue, StatusActive)) },
			Action{Kind: Retire, Color: "blue"}, false, "blue takes traffic", nil},
		{"retire --color cleans up a failed color left running",
			func() Facts { return facts("green", with(v1Green, StatusActive), with(v2Blue, StatusFailed)) },
			Action{Kind: Retire, Color: "blue"}, true, "", func(t *testing.T, v Verdict) {
				if v.Deployment == nil || v.Deployment.ID != 2 {
					t.Errorf("verdict %+v", v)
				}
			}},
		{"retire with no rollback target",
			func() Facts { return facts("blue", with(v2Blue, StatusActive)) },
			Action{Kind: Retire}, true, "", func(t *testing.T, v Verdict) {
				if !v.Noop {
					t.Error("want a no-op")
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Decide(tc.facts(), tc.action)
			if v.Allow != tc.allow {
				t.Fatalf("allow = %v, want %v; reasons: %s", v.Allow, tc.allow, v.Reason())
			}
			if tc.reason != "" && !strings.Contains(v.Reason(), tc.reason) {
				t.Fatalf("reasons %q\nwant %q", v.Reason(), tc.reason)
			}
			if tc.allow && len(v.Reasons) > 0 {
				t.Fatalf("allowed with reasons %q", v.Reason())
			}
			if tc.check != nil {
				tc.check(t, v)
			}
		})
	}
}
