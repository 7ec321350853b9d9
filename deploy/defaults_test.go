package deploy_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/switcher"
)

func pointerTo[T any](v T) *T { return &v }

func TestApplyDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   config.Deploy
		want config.Deploy
	}{
		{
			name: "empty",
			in:   config.Deploy{},
			want: config.Deploy{
				StepPause:      pointerTo(30 * time.Second),
				Drain:          pointerTo(10 * time.Second),
				RollbackWindow: pointerTo(30 * time.Minute),
				Hooks:          config.Hooks{Timeout: 10 * time.Minute},
				Readiness: config.Probe{Path: "/", Status: 200, Interval: time.Second, Timeout: 2 * time.Second,
					Successes: 3, Deadline: 5 * time.Minute},
				WarmUp: config.WarmUp{Paths: []string{"/"}, Rate: 50},
				Gate:   config.DeployGate{MaxTransactionAge: 5 * time.Minute},
				Confidence: config.Confidence{Window: pointerTo(time.Minute), Interval: time.Second, Path: "/",
					MaxErrorRate: pointerTo(0.2), Probes: 5, MaxLatency: 2 * time.Second},
			},
		},
		{
			name: "set values are kept, confidence path follows readiness",
			in: config.Deploy{
				StepPause:      pointerTo(time.Second),
				Drain:          pointerTo(2 * time.Second),
				RollbackWindow: pointerTo(time.Hour),
				Hooks:          config.Hooks{Deploy: []string{"d"}, Timeout: time.Minute},
				Readiness: config.Probe{Path: "/healthz", Status: 204, Interval: 3 * time.Second, Timeout: 4 * time.Second,
					Successes: 1, Deadline: time.Minute},
				WarmUp: config.WarmUp{Requests: 10, Paths: []string{"/a", "/b"}, Rate: 5},
				Gate:   config.DeployGate{MaxTransactionAge: time.Second},
				Confidence: config.Confidence{Window: pointerTo(time.Duration(0)), Interval: 5 * time.Second,
					MaxErrorRate: pointerTo(0.0), Probes: 10, MaxLatency: time.Second},
			},
			want: config.Deploy{
				StepPause:      pointerTo(time.Second),
				Drain:          pointerTo(2 * time.Second),
				RollbackWindow: pointerTo(time.Hour),
				Hooks:          config.Hooks{Deploy: []string{"d"}, Timeout: time.Minute},
				Readiness: config.Probe{Path: "/healthz", Status: 204, Interval: 3 * time.Second, Timeout: 4 * time.Second,
					Successes: 1, Deadline: time.Minute},
				WarmUp: config.WarmUp{Requests: 10, Paths: []string{"/a", "/b"}, Rate: 5},
				Gate:   config.DeployGate{MaxTransactionAge: time.Second},
				Confidence: config.Confidence{Window: pointerTo(time.Duration(0)), Interval: 5 * time.Second, Path: "/healthz",
					MaxErrorRate: pointerTo(0.0), Probes: 10, MaxLatency: time.Second},
			},
		},
		{
			name: "a zero the file gave stays zero",
			in:   config.Deploy{StepPause: pointerTo(time.Duration(0)), Drain: pointerTo(time.Duration(0)), RollbackWindow: pointerTo(time.Duration(0))},
			want: config.Deploy{
				StepPause:      pointerTo(time.Duration(0)),
				Drain:          pointerTo(time.Duration(0)),
				RollbackWindow: pointerTo(time.Duration(0)),
				Hooks:          config.Hooks{Timeout: 10 * time.Minute},
				Readiness: config.Probe{Path: "/", Status: 200, Interval: time.Second, Timeout: 2 * time.Second,
					Successes: 3, Deadline: 5 * time.Minute},
				WarmUp: config.WarmUp{Paths: []string{"/"}, Rate: 50},
				Gate:   config.DeployGate{MaxTransactionAge: 5 * time.Minute},
				Confidence: config.Confidence{Window: pointerTo(time.Minute), Interval: time.Second, Path: "/",
					MaxErrorRate: pointerTo(0.2), Probes: 5, MaxLatency: 2 * time.Second},
			},
		},
		{
			name: "smoke checks",
			in: config.Deploy{Smoke: []config.Check{
				{Path: "/health"},
				{Command: []string{"./check.sh", "{url}"}},
				{Name: "post", Path: "/p", Method: "POST", Status: 201, Timeout: time.Second},
			}},
			want: config.Deploy{Smoke: []config.Check{
				{Name: "/health", Path: "/health", Method: "GET", Status: 200, Timeout: 30 * time.Second},
				{Name: "./check.sh {url}", Command: []string{"./check.sh", "{url}"}, Timeout: 30 * time.Second},
				{Name: "post", Path: "/p", Method: "POST", Status: 201, Timeout: time.Second},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Each copy has its own checks: ApplyDefaults changes them in place.
			once, twice := tt.in, tt.in
			once.Smoke, twice.Smoke = slices.Clone(tt.in.Smoke), slices.Clone(tt.in.Smoke)
			deploy.ApplyDefaults(&once)
			deploy.ApplyDefaults(&twice)
			deploy.ApplyDefaults(&twice)
			if !reflect.DeepEqual(once, twice) {
				t.Errorf("ApplyDefaults is not idempotent:\n once  %+v\n twice %+v", once, twice)
			}
			got := once
			if tt.want.Smoke != nil {
				// Only the checks are compared here; the rest is above.
				got = config.Deploy{Smoke: once.Smoke}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ApplyDefaults:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestApplyDefaultsNil(t *testing.T) {
	t.Parallel()
	deploy.ApplyDefaults(nil) // must not panic
}

func TestHookArgv(t *testing.T) {
	t.Parallel()
	c := &config.Deploy{
		Blue:  config.ColorConfig{URL: "http://blue:8080", Deploy: []string{"blue-deploy", "{version}"}},
		Green: config.ColorConfig{URL: "http://green:8080", ScaleDown: []string{"green-down"}},
		Hooks: config.Hooks{Deploy: []string{"shared-deploy"}},
	}
	tests := []struct {
		color switcher.Color
		which string
		want  []string
	}{
		{switcher.Blue, deploy.HookDeploy, []string{"blue-deploy", "{version}"}},
		{switcher.Green, deploy.HookDeploy, []string{"shared-deploy"}},
		{switcher.Blue, deploy.HookScaleDown, nil},
		{switcher.Green, deploy.HookScaleDown, []string{"green-down"}},
		{switcher.Color("red"), deploy.HookDeploy, []string{"shared-deploy"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.color)+"/"+tt.which, func(t *testing.T) {
			t.Parallel()
			got := deploy.HookArgv(c, tt.color, tt.which)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("HookArgv(%s, %s) = %q, want %q", tt.color, tt.which, got, tt.want)
			}
			if len(got) > 0 {
				got[0] = "changed"
				if again := deploy.HookArgv(c, tt.color, tt.which); again[0] == "changed" {
					t.Errorf("HookArgv returned the configuration's slice, not a copy")
				}
			}
		})
	}
}

func TestHookArgvUnknownHook(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Errorf("HookArgv with an unknown hook did not panic")
		}
	}()
	deploy.HookArgv(&config.Deploy{}, switcher.Blue, "deploy_all")
}

func TestColorURL(t *testing.T) {
	t.Parallel()
	c := &config.Deploy{
		Blue:  config.ColorConfig{URL: "http://blue:8080"},
		Green: config.ColorConfig{URL: "http://green:8080/"},
	}
	tests := []struct {
		color switcher.Color
		want  string
	}{
		{switcher.Blue, "http://blue:8080"},
		{switcher.Green, "http://green:8080/"},
		{switcher.Color("red"), ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.color), func(t *testing.T) {
			t.Parallel()
			if got := deploy.ColorURL(c, tt.color); got != tt.want {
				t.Errorf("ColorURL(%s) = %q, want %q", tt.color, got, tt.want)
			}
		})
	}
}
