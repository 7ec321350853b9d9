package gate

import (
	"strings"
	"testing"
)

// TestDataAndSizeChecks: a pending migration's failing count or too long
// lock blocks the stage that needs it: an expand one (002 pending) both
// stages, a contract one (003) only pre-contract, a risk before.
func TestDataAndSizeChecks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		stage   Stage
		want    Status
	}{
		{"expand, pre-switch", "002", PreSwitch, Block},
		{"contract, pre-switch", "003", PreSwitch, Risk},
		{"contract, pre-contract", "003", PreContract, Block},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, check := range []string{CheckData, CheckTableSizes} {
				in := allowed()
				in.Stage = tc.stage
				if tc.version == "002" {
					in.History = in.History[:1]
				}
				msg := tc.version + "_x.sql:2 will fail: 50 rows of users have name NULL"
				if check == CheckData {
					in.Data = &DataReport{Checked: 1, Failing: []DataFinding{{Version: tc.version, Message: msg}}}
				} else {
					in.Sized = true
					for i := range in.Migrations {
						if in.Migrations[i].Version == tc.version {
							in.Migrations[i].Sized = []SizedFinding{{Severity: "error", Message: msg}}
						}
					}
				}
				var got []Check
				for _, c := range Evaluate(in).Checks {
					if c.Name == check {
						got = append(got, c)
					}
				}
				if len(got) != 1 || got[0].Status != tc.want || !strings.HasPrefix(got[0].Reason, msg) {
					t.Errorf("%s: %+v, want one %s check saying %q", check, got, tc.want, msg)
				}
			}
		})
	}
	in := allowed()
	in.Data = &DataReport{Checked: 3}
	in.Sized = true
	in.Migrations[2].Sized = []SizedFinding{{Severity: "info", Message: "small"}}
	for _, c := range Evaluate(in).Checks {
		if (c.Name == CheckData || c.Name == CheckTableSizes) && c.Status != Pass {
			t.Errorf("nothing failing: %+v", c)
		}
	}
}
