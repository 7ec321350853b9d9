package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fullDeploy sets every key of the deploy section.
const fullDeploy = `version: 1
runner: bgmigrate
migrations:
  - dir: db/migrations
deploy:
  service: shop
  database_url: postgres://shop:${DB_PASSWORD}@db.internal:5432/shop
  migrations: db/migrations
  switcher: haproxy:///run/haproxy/admin.sock?map=/etc/haproxy/color.map&key=shop
  blue:
    url: http://10.0.0.1:8080
    deploy: [systemctl, restart, "shop@blue"]
    scale_down: [systemctl, stop, "shop@blue"]
  green:
    url: https://green.shop.internal
    deploy: [systemctl, restart, "shop@green"]
    scale_down: [systemctl, stop, "shop@green"]
  hooks:
    deploy: [./deploy.sh, "{color}", "{version}"]
    scale_down: [./stop.sh, "{color}"]
    timeout: 15m
  readiness:
    path: /healthz
    status: 204
    interval: 500ms
    timeout: 1s
    successes: 5
    deadline: 10m
  smoke:
    - name: home page
      path: /
      method: HEAD
      status: 200
      body_contains: Welcome
      timeout: 5s
    - command: [./smoke.sh, "{color}"]
  warm_up:
    requests: 200
    paths: [/, /products]
    rate: 20
  gate:
    skip: false
    dev_url: docker://postgres:16
    max_transaction_age: 2m
    schemas: [public, billing]
    queries: queries/old.sql
    new_queries: pg_stat_statements?role=app
  steps: [10, 50, 100]
  step_pause: 1m30s
  confidence:
    window: 0s
    interval: 2s
    path: /ready
    max_error_rate: 0
    probes: 10
    max_latency: 750ms
    command: [./slo-check.sh]
  drain: 15s
  rollback_window: 1h
  lock_timeout: 3s
  statement_timeout: 1m
`

func TestDeployFull(t *testing.T) {
	t.Parallel()
	c, err := Parse(name, []byte(fullDeploy))
	if err != nil {
		t.Fatal(err)
	}
	zero, rate := time.Duration(0), 0.0
	want := &Deploy{
		Service:     "shop",
		DatabaseURL: "postgres://shop:${DB_PASSWORD}@db.internal:5432/shop",
		Migrations:  "db/migrations",
		Switcher:    "haproxy:///run/haproxy/admin.sock?map=/etc/haproxy/color.map&key=shop",
		Blue: ColorConfig{
			URL:       "http://10.0.0.1:8080",
			Deploy:    []string{"systemctl", "restart", "shop@blue"},
			ScaleDown: []string{"systemctl", "stop", "shop@blue"},
		},
		Green: ColorConfig{
			URL:       "https://green.shop.internal",
			Deploy:    []string{"systemctl", "restart", "shop@green"},
			ScaleDown: []string{"systemctl", "stop", "shop@green"},
		},
		Hooks: Hooks{
			Deploy:    []string{"./deploy.sh", "{color}", "{version}"},
			ScaleDown: []string{"./stop.sh", "{color}"},
			Timeout:   15 * time.Minute,
		},
		Readiness: Probe{
			Path: "/healthz", Status: 204, Interval: 500 * time.Millisecond, Timeout: time.Second,
			Successes: 5, Deadline: 10 * time.Minute,
		},
		Smoke: []Check{
			{Name: "home page", Path: "/", Method: "HEAD", Status: 200, BodyContains: "Welcome", Timeout: 5 * time.Second},
			{Command: []string{"./smoke.sh", "{color}"}},
		},
		WarmUp: WarmUp{Requests: 200, Paths: []string{"/", "/products"}, Rate: 20},
		Gate: DeployGate{
			DevURL: "docker://postgres:16", MaxTransactionAge: 2 * time.Minute, Schemas: []string{"public", "billing"},
			Queries: "queries/old.sql", NewQueries: "pg_stat_statements?role=app",
		},
		Steps:     []int{10, 50, 100},
		StepPause: dur(90 * time.Second),
		Confidence: Confidence{
			Window: &zero, Interval: 2 * time.Second, Path: "/ready", MaxErrorRate: &rate, Probes: 10,
			MaxLatency: 750 * time.Millisecond, Command: []string{"./slo-check.sh"},
		},
		Drain:            dur(15 * time.Second),
		RollbackWindow:   dur(time.Hour),
		LockTimeout:      3 * time.Second,
		StatementTimeout: time.Minute,
	}
	if !reflect.DeepEqual(c.Deploy, want) {
		t.Errorf("deploy:\n got %+v\nwant %+v", c.Deploy, want)
	}
	if err := validateYAML(t, compileSchema(t), fullDeploy); err != nil {
		t.Errorf("schema.json rejects the full deploy section: %v", err)
	}
	// Every key of the Go types is set above, so a field added later
	// without a test fails here.
	if unset := unsetKeys(c.Deploy); len(unset) > 0 {
		t.Errorf("the full deploy section leaves keys out: %v", unset)
	}
}

// unsetKeys lists the keys of d left at their zero value (false counts as
// set); a key of list items counts as set when one item sets it.
func unsetKeys(d *Deploy) []string {
	var walk func(v reflect.Value, at string) []string
	walk = func(v reflect.Value, at string) []string {
		var unset []string
		for _, f := range fields(v.Type()) {
			fv, key := v.Field(f.index), at+"."+f.name
			switch {
			case fv.Kind() == reflect.Struct:
				unset = append(unset, walk(fv, key)...)
			case fv.Kind() == reflect.Slice && fv.Len() > 0 && fv.Type().Elem().Kind() == reflect.Struct:
				count := map[string]int{}
				for i := range fv.Len() {
					for _, k := range walk(fv.Index(i), key+"[]") {
						count[k]++
					}
				}
				for k, n := range count {
					if n == fv.Len() {
						unset = append(unset, k)
					}
				}
			case fv.Kind() == reflect.Bool:
				// false is a value
			case fv.IsZero():
				unset = append(unset, key)
			}
		}
		return unset
	}
	unset := walk(reflect.ValueOf(d).Elem(), "deploy")
	slices.Sort(unset)
	return unset
}

// uncommentDeploy turns the commented-out deploy: section of src (from the
// line "# deploy:" to the first line that is not a comment) into a file.
func uncommentDeploy(t *testing.T, src string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	start := slices.Index(lines, "# deploy:")
	if start < 0 {
		t.Fatalf("no commented-out deploy: section")
	}
	out := []string{"version: 1"}
	for _, l := range lines[start:] {
		if !strings.HasPrefix(l, "#") {
			break
		}
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
	}
	return strings.Join(out, "\n") + "\n"
}

// TestCommentedDeploy keeps the commented-out deploy: sections of the
// template and of example.bgmigrate.yaml valid once uncommented; the
// example's sets every key.
func TestCommentedDeploy(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("example.bgmigrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sch := compileSchema(t)
	for _, tt := range []struct {
		name, src string
		full      bool
	}{
		{"template", Template(), false},
		{"example", string(example), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := uncommentDeploy(t, tt.src)
			c, err := Parse(name, []byte(src))
			if err != nil {
				t.Fatalf("the deploy section does not load: %v\n%s", err, src)
			}
			if c.Deploy == nil {
				t.Fatalf("no deploy section in\n%s", src)
			}
			if err := validateYAML(t, sch, src); err != nil {
				t.Errorf("schema.json rejects the deploy section: %v", err)
			}
			if unset := unsetKeys(c.Deploy); tt.full && len(unset) > 0 {
				t.Errorf("the example leaves keys out: %v", unset)
			}
		})
	}
}

func TestDeployAbsent(t *testing.T) {
	t.Parallel()
	c, err := Parse(name, []byte("version: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Deploy != nil {
		t.Errorf("Deploy = %+v, want nil", c.Deploy)
	}
}

// minimalDeploy is the smallest valid deploy section; deploy cases add
// keys at the end (line 11 on) at the indentation of the section's keys.
const minimalDeploy = `version: 1
deploy:
  service: app
  switcher: mem://app
  blue:
    url: http://10.0.0.1:8080
  green:
    url: http://10.0.0.2:8080
  hooks:
    deploy: [deploy-app, "{color}", "{version}"]
`

// TestDeployValues checks durations, numbers and pointers.
func TestDeployValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// src replaces minimalDeploy when set; extra is added to it.
		src, extra string
		check      func(t *testing.T, d *Deploy)
	}{
		{
			name: "absent pointers are nil",
			check: func(t *testing.T, d *Deploy) {
				if d.Confidence.Window != nil || d.Confidence.MaxErrorRate != nil {
					t.Errorf("confidence %+v, want nil window and max_error_rate", d.Confidence)
				}
				if d.Drain != nil || d.Steps != nil || d.Smoke != nil {
					t.Errorf("defaults applied in config: %+v", d)
				}
			},
		},
		{
			name:  "zero window is kept",
			extra: "  confidence:\n    window: 0s\n",
			check: func(t *testing.T, d *Deploy) {
				if d.Confidence.Window == nil || *d.Confidence.Window != 0 {
					t.Errorf("window %v, want a pointer to 0", d.Confidence.Window)
				}
			},
		},
		{
			name:  "duration forms",
			extra: "  drain: 1m30s\n  step_pause: 250ms\n  rollback_window: 2h\n  lock_timeout: \"1.5s\"\n",
			check: func(t *testing.T, d *Deploy) {
				if *d.Drain != 90*time.Second || *d.StepPause != 250*time.Millisecond || *d.RollbackWindow != 2*time.Hour || d.LockTimeout != 1500*time.Millisecond {
					t.Errorf("durations %v %v %v %v", *d.Drain, *d.StepPause, *d.RollbackWindow, d.LockTimeout)
				}
			},
		},
		{
			name:  "integer rate",
			extra: "  confidence:\n    max_error_rate: 1\n    window: 5m\n",
			check: func(t *testing.T, d *Deploy) {
				if d.Confidence.MaxErrorRate == nil || *d.Confidence.MaxErrorRate != 1 {
					t.Errorf("max_error_rate %v, want a pointer to 1", d.Confidence.MaxErrorRate)
				}
				if d.Confidence.Window == nil || *d.Confidence.Window != 5*time.Minute {
					t.Errorf("window %v, want a pointer to 5m", d.Confidence.Window)
				}
			},
		},
		{
			name:  "float rate",
			extra: "  confidence:\n    max_error_rate: 0.05\n",
			check: func(t *testing.T, d *Deploy) {
				if d.Confidence.MaxErrorRate == nil || *d.Confidence.MaxErrorRate != 0.05 {
					t.Errorf("max_error_rate %v, want a pointer to 0.05", d.Confidence.MaxErrorRate)
				}
			},
		},
		{
			name: "deploy hooks in both colors",
			src: `version: 1
deploy:
  service: app
  switcher: mem://app
  blue:
    url: http://10.0.0.1:8080
    deploy: [deploy-blue, "{version}"]
  green:
    url: http://10.0.0.2:8080
    deploy: [deploy-green, "{version}"]
`,
			check: func(t *testing.T, d *Deploy) {
				if d.Hooks.Deploy != nil || len(d.Blue.Deploy) != 2 || len(d.Green.Deploy) != 2 {
					t.Errorf("hooks %+v, blue %+v, green %+v", d.Hooks, d.Blue, d.Green)
				}
			},
		},
		{
			name:  "empty steps switch at once",
			extra: "  steps: []\n",
			check: func(t *testing.T, d *Deploy) {
				if len(d.Steps) != 0 {
					t.Errorf("steps %v", d.Steps)
				}
			},
		},
		{
			name:  "one step",
			extra: "  steps: [100]\n",
			check: func(t *testing.T, d *Deploy) {
				if len(d.Steps) != 1 || d.Steps[0] != 100 {
					t.Errorf("steps %v", d.Steps)
				}
			},
		},
		{
			name:  "env references are checked after expansion",
			extra: "  database_url: ${DATABASE_URL}\n  gate:\n    dev_url: ${DEV_URL}\n",
			check: func(t *testing.T, d *Deploy) {
				if d.DatabaseURL != "${DATABASE_URL}" || d.Gate.DevURL != "${DEV_URL}" {
					t.Errorf("references changed: %q %q", d.DatabaseURL, d.Gate.DevURL)
				}
			},
		},
		{
			name:  "postgres URL forms",
			extra: "  database_url: postgresql:///shop?host=/run/postgresql\n  gate:\n    dev_url: postgres://localhost/postgres\n",
		},
	}
	sch := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := tt.src
			if src == "" {
				src = minimalDeploy
			}
			src += tt.extra
			c, err := Parse(name, []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c.Deploy)
			}
			if err := validateYAML(t, sch, src); err != nil {
				t.Errorf("schema.json rejects it: %v", err)
			}
		})
	}
}

// withDeploy is minimalDeploy with old replaced by new.
func withDeploy(old, new string) string {
	if !strings.Contains(minimalDeploy, old) {
		panic("withDeploy: no " + old)
	}
	return strings.Replace(minimalDeploy, old, new, 1)
}

func TestDeployErrors(t *testing.T) {
	t.Parallel()
	const (
		hooks   = "  hooks:\n    deploy: [deploy-app, \"{color}\", \"{version}\"]\n"
		noHooks = `.bgmigrate.yaml:3:3: deploy.hooks.deploy: missing (needed unless both deploy.blue.deploy and deploy.green.deploy are given)`
	)
	tests := []struct {
		name string
		// src is a whole file; extra is added to minimalDeploy instead
		// (from line 11).
		src, extra string
		err        string // the whole message
		key        string // Key of the first *Error
		// schemaDiffers is set where schema.json cannot see the problem.
		schemaDiffers bool
	}{
		{
			name:  "unknown key",
			extra: "  readiness:\n    pth: /healthz\n",
			err:   `.bgmigrate.yaml:12:5: unknown key "pth" in deploy.readiness (did you mean "path"?)`,
			key:   "deploy.readiness.pth",
		},
		{
			name: "not a mapping",
			src:  "version: 1\ndeploy: true\n",
			err:  `.bgmigrate.yaml:2:9: deploy: want a mapping of keys, got the boolean true`,
			key:  "deploy",
		},
		{
			name: "no value",
			src:  "version: 1\ndeploy:\n",
			err:  `.bgmigrate.yaml:2:8: deploy has no value (give one or remove the key)`,
			key:  "deploy",
		},
		{
			name: "empty section",
			src:  "version: 1\ndeploy: {}\n",
			err: `.bgmigrate.yaml:2:9: deploy: missing key "service"
.bgmigrate.yaml:2:9: deploy: missing key "switcher"
.bgmigrate.yaml:2:9: deploy: missing key "blue"
.bgmigrate.yaml:2:9: deploy: missing key "green"
.bgmigrate.yaml:2:9: deploy.hooks.deploy: missing (needed unless both deploy.blue.deploy and deploy.green.deploy are given)`,
			key: "deploy.service",
		},
		{
			name: "missing service",
			src:  withDeploy("  service: app\n", ""),
			err:  `.bgmigrate.yaml:3:3: deploy: missing key "service"`,
			key:  "deploy.service",
		},
		{
			name: "missing switcher",
			src:  withDeploy("  switcher: mem://app\n", ""),
			err:  `.bgmigrate.yaml:3:3: deploy: missing key "switcher"`,
			key:  "deploy.switcher",
		},
		{
			name: "missing blue url",
			src:  withDeploy("    url: http://10.0.0.1:8080\n", "    scale_down: [stop-blue]\n"),
			err:  `.bgmigrate.yaml:6:5: deploy.blue: missing key "url"`,
			key:  "deploy.blue.url",
		},
		{
			name: "missing green url",
			src:  withDeploy("    url: http://10.0.0.2:8080\n", "    scale_down: [stop-green]\n"),
			err:  `.bgmigrate.yaml:8:5: deploy.green: missing key "url"`,
			key:  "deploy.green.url",
		},
		{
			name: "missing green",
			src:  withDeploy("  green:\n    url: http://10.0.0.2:8080\n", ""),
			err:  `.bgmigrate.yaml:3:3: deploy: missing key "green"`,
			key:  "deploy.green",
		},
		{
			name: "no deploy hook",
			src:  withDeploy(hooks, ""),
			err:  noHooks,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "hooks without deploy",
			src:  withDeploy(hooks, "  hooks:\n    timeout: 5m\n"),
			err:  `.bgmigrate.yaml:10:5: deploy.hooks.deploy: missing (needed unless both deploy.blue.deploy and deploy.green.deploy are given)`,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "deploy hook in one color only",
			src:  strings.Replace(withDeploy(hooks, ""), "    url: http://10.0.0.1:8080\n", "    url: http://10.0.0.1:8080\n    deploy: [deploy-blue]\n", 1),
			err:  noHooks,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "empty command",
			src:  withDeploy(`[deploy-app, "{color}", "{version}"]`, "[]"),
			err:  `.bgmigrate.yaml:10:13: deploy.hooks.deploy: empty command (want a list such as [program, arg, ...])`,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "empty program",
			src:  withDeploy(`[deploy-app, "{color}", "{version}"]`, `["", "{color}"]`),
			err:  `.bgmigrate.yaml:10:13: deploy.hooks.deploy: empty program name (the first element)`,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "hook without a value",
			src:  withDeploy(`deploy: [deploy-app, "{color}", "{version}"]`, "deploy:"),
			err:  `.bgmigrate.yaml:10:12: deploy.hooks.deploy has no value (give one or remove the key)`,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "command as a string",
			src:  withDeploy(`[deploy-app, "{color}", "{version}"]`, `"deploy-app {color}"`),
			err:  `.bgmigrate.yaml:10:13: deploy.hooks.deploy: want a list, got "deploy-app {color}"`,
			key:  "deploy.hooks.deploy",
		},
		{
			name: "empty color scale_down",
			src:  withDeploy("    url: http://10.0.0.1:8080\n", "    url: http://10.0.0.1:8080\n    scale_down: []\n"),
			err:  `.bgmigrate.yaml:7:17: deploy.blue.scale_down: empty command (want a list such as [program, arg, ...])`,
			key:  "deploy.blue.scale_down",
		},
		{
			name:  "empty smoke command",
			extra: "  smoke:\n    - command: []\n",
			err:   `.bgmigrate.yaml:12:16: deploy.smoke[0].command: empty command (want a list such as [program, arg, ...])`,
			key:   "deploy.smoke[0].command",
		},
		{
			name:  "empty confidence command",
			extra: "  confidence:\n    command: [\"\"]\n",
			err:   `.bgmigrate.yaml:12:14: deploy.confidence.command: empty program name (the first element)`,
			key:   "deploy.confidence.command",
		},
		{
			name:  "duration as a number",
			extra: "  drain: 30\n",
			err:   `.bgmigrate.yaml:11:10: deploy.drain: want a duration such as "30s" or "1m30s", got the integer 30`,
			key:   "deploy.drain",
		},
		{
			name:  "duration in words",
			extra: "  drain: 30 seconds\n",
			err:   `.bgmigrate.yaml:11:10: deploy.drain: want a duration such as "30s" or "1m30s", got "30 seconds"`,
			key:   "deploy.drain",
		},
		{
			name:  "duration as a list",
			extra: "  rollback_window: [30m]\n",
			err:   `.bgmigrate.yaml:11:20: deploy.rollback_window: want a duration such as "30s", got a list`,
			key:   "deploy.rollback_window",
		},
		{
			name:  "negative duration",
			extra: "  step_pause: -5s\n",
			err:   `.bgmigrate.yaml:11:15: deploy.step_pause: negative duration "-5s"`,
			key:   "deploy.step_pause",
		},
		{
			name:  "negative pointer duration",
			extra: "  confidence:\n    window: -1m\n",
			err:   `.bgmigrate.yaml:12:13: deploy.confidence.window: negative duration "-1m"`,
			key:   "deploy.confidence.window",
		},
		{
			name:  "pointer without value",
			extra: "  confidence:\n    window:\n",
			err:   `.bgmigrate.yaml:12:12: deploy.confidence.window has no value (give one or remove the key)`,
			key:   "deploy.confidence.window",
		},
		{
			name:  "rate as a string",
			extra: "  confidence:\n    max_error_rate: high\n",
			err:   `.bgmigrate.yaml:12:21: deploy.confidence.max_error_rate: want a number, got "high"`,
			key:   "deploy.confidence.max_error_rate",
		},
		{
			name:  "rate above 1",
			extra: "  confidence:\n    max_error_rate: 1.5\n",
			err:   `.bgmigrate.yaml:12:21: deploy.confidence.max_error_rate: 1.5 is not a share between 0 and 1`,
			key:   "deploy.confidence.max_error_rate",
		},
		{
			name:  "negative rate",
			extra: "  confidence:\n    max_error_rate: -0.1\n",
			err:   `.bgmigrate.yaml:12:21: deploy.confidence.max_error_rate: -0.1 is not a share between 0 and 1`,
			key:   "deploy.confidence.max_error_rate",
		},
		{
			name:  "step out of range",
			extra: "  steps: [0, 100]\n",
			err:   `.bgmigrate.yaml:11:11: deploy.steps[0]: 0 is not a traffic percentage (1 to 100)`,
			key:   "deploy.steps[0]",
		},
		{
			name:  "step above 100",
			extra: "  steps: [50, 150]\n",
			err:   `.bgmigrate.yaml:11:15: deploy.steps[1]: 150 is not a traffic percentage (1 to 100)`,
			key:   "deploy.steps[1]",
		},
		{
			name:          "steps going down",
			extra:         "  steps: [50, 10, 100]\n",
			err:           `.bgmigrate.yaml:11:15: deploy.steps[1]: 10 after 50 (steps climb strictly to 100)`,
			key:           "deploy.steps[1]",
			schemaDiffers: true,
		},
		{
			name:          "step repeated",
			extra:         "  steps: [50, 50, 100]\n",
			err:           `.bgmigrate.yaml:11:15: deploy.steps[1]: 50 after 50 (steps climb strictly to 100)`,
			key:           "deploy.steps[1]",
			schemaDiffers: true,
		},
		{
			name:          "steps not reaching 100",
			extra:         "  steps: [10, 50]\n",
			err:           `.bgmigrate.yaml:11:15: deploy.steps[1]: the last step is 50, want 100 (all traffic on the new color)`,
			key:           "deploy.steps[1]",
			schemaDiffers: true,
		},
		{
			name:  "readiness status",
			extra: "  readiness:\n    status: 99\n",
			err:   `.bgmigrate.yaml:12:13: deploy.readiness.status: 99 is not an HTTP status code (100 to 599)`,
			key:   "deploy.readiness.status",
		},
		{
			name:  "smoke status",
			extra: "  smoke:\n    - path: /\n      status: 600\n",
			err:   `.bgmigrate.yaml:13:15: deploy.smoke[0].status: 600 is not an HTTP status code (100 to 599)`,
			key:   "deploy.smoke[0].status",
		},
		{
			name:  "smoke check with neither command nor path",
			extra: "  smoke:\n    - name: home\n",
			err:   `.bgmigrate.yaml:12:7: deploy.smoke[0]: give command (a program to run) or path (an HTTP request on the color's URL)`,
			key:   "deploy.smoke[0]",
		},
		{
			name:  "smoke check with both",
			extra: "  smoke:\n    - path: /\n    - path: /x\n      command: [check]\n",
			err:   `.bgmigrate.yaml:13:7: deploy.smoke[1]: give command or path, not both`,
			key:   "deploy.smoke[1]",
		},
		{
			name:  "empty smoke path",
			extra: "  smoke:\n    - command: [check]\n      path: \"\"\n",
			err:   `.bgmigrate.yaml:13:13: deploy.smoke[0].path: empty path`,
			key:   "deploy.smoke[0].path",
		},
		{
			name:  "smoke command with HTTP keys",
			extra: "  smoke:\n    - command: [check]\n      status: 200\n",
			err:   `.bgmigrate.yaml:12:7: deploy.smoke[0]: method, status and body_contains describe an HTTP check (path), not a command`,
			key:   "deploy.smoke[0]",
		},
		{
			name:  "method in lower case",
			extra: "  smoke:\n    - path: /\n      method: get\n",
			err:   `.bgmigrate.yaml:13:15: deploy.smoke[0].method: unknown value "get" (want one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)`,
			key:   "deploy.smoke[0].method",
		},
		{
			name:  "successes",
			extra: "  readiness:\n    successes: 0\n",
			err:   `.bgmigrate.yaml:12:16: deploy.readiness.successes: want at least 1, got 0`,
			key:   "deploy.readiness.successes",
		},
		{
			name:  "probes",
			extra: "  confidence:\n    probes: 0\n",
			err:   `.bgmigrate.yaml:12:13: deploy.confidence.probes: want at least 1, got 0`,
			key:   "deploy.confidence.probes",
		},
		{
			name:  "requests",
			extra: "  warm_up:\n    requests: -1\n",
			err:   `.bgmigrate.yaml:12:15: deploy.warm_up.requests: want at least 0, got -1`,
			key:   "deploy.warm_up.requests",
		},
		{
			name:  "rate",
			extra: "  warm_up:\n    rate: -5\n",
			err:   `.bgmigrate.yaml:12:11: deploy.warm_up.rate: want at least 0, got -5`,
			key:   "deploy.warm_up.rate",
		},
		{
			name: "service with a space",
			src:  withDeploy("service: app", `service: "my app"`),
			err:  `.bgmigrate.yaml:3:12: deploy.service: "my app": want a name without spaces`,
			key:  "deploy.service",
		},
		{
			name: "empty service",
			src:  withDeploy("service: app", `service: ""`),
			err:  `.bgmigrate.yaml:3:12: deploy.service: empty service name`,
			key:  "deploy.service",
		},
		{
			name: "switcher without scheme",
			src:  withDeploy("switcher: mem://app", "switcher: /run/haproxy.sock"),
			err:  `.bgmigrate.yaml:4:13: deploy.switcher: "/run/haproxy.sock": want a switcher URL such as haproxy:///run/haproxy.sock?map=/etc/haproxy/color.map&key=app`,
			key:  "deploy.switcher",
		},
		{
			name:          "switcher not a URL",
			src:           withDeploy("switcher: mem://app", `switcher: "haproxy://[::1"`),
			err:           `.bgmigrate.yaml:4:13: deploy.switcher: not a valid URL: missing ']' in host`,
			key:           "deploy.switcher",
			schemaDiffers: true,
		},
		{
			name: "color URL not http",
			src:  withDeploy("url: http://10.0.0.1:8080", "url: ftp://10.0.0.1"),
			err:  `.bgmigrate.yaml:6:10: deploy.blue.url: "ftp://10.0.0.1": want an http:// or https:// URL`,
			key:  "deploy.blue.url",
		},
		{
			name: "color URL without host",
			src:  withDeploy("url: http://10.0.0.2:8080", "url: http://"),
			err:  `.bgmigrate.yaml:8:10: deploy.green.url: "http:": want an http:// or https:// URL`,
			key:  "deploy.green.url",
		},
		{
			name:  "database URL of another database",
			extra: "  database_url: mysql://shop:secret@db/shop\n",
			err:   `.bgmigrate.yaml:11:17: deploy.database_url: "mysql://shop:xxxxx@db/shop": want a postgres:// URL`,
			key:   "deploy.database_url",
		},
		{
			name:          "database URL with a bad port",
			extra:         "  database_url: postgres://shop:secret@db:port/shop\n",
			err:           `.bgmigrate.yaml:11:17: deploy.database_url: not a valid URL: invalid port ":port" after host`,
			key:           "deploy.database_url",
			schemaDiffers: true,
		},
		{
			name:  "dev URL of another database",
			extra: "  gate:\n    dev_url: mysql://localhost/x\n",
			err:   `.bgmigrate.yaml:12:14: deploy.gate.dev_url: "mysql://localhost/x": want a postgres:// URL or docker://IMAGE`,
			key:   "deploy.gate.dev_url",
		},
		{
			name:  "dev URL without image",
			extra: "  gate:\n    dev_url: docker://\n",
			err:   `.bgmigrate.yaml:12:14: deploy.gate.dev_url: "docker://": want docker://IMAGE, such as docker://postgres:16`,
			key:   "deploy.gate.dev_url",
		},
		{
			name:          "absolute migrations",
			extra:         "  migrations: /srv/app/migrations\n",
			err:           `.bgmigrate.yaml:11:15: deploy.migrations: "/srv/app/migrations": want a slash path relative to the config file's directory`,
			key:           "deploy.migrations",
			schemaDiffers: true,
		},
		{
			name:  "skip as a string",
			extra: "  gate:\n    skip: \"yes\"\n",
			err:   `.bgmigrate.yaml:12:11: deploy.gate.skip: want true or false, got "yes"`,
			key:   "deploy.gate.skip",
		},
	}
	sch := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := tt.src
			if src == "" {
				src = minimalDeploy + tt.extra
			}
			_, err := Parse(name, []byte(src))
			if err == nil {
				t.Fatalf("no error, want %s\n%s", tt.err, src)
			}
			if err.Error() != tt.err {
				t.Fatalf("error:\n got %s\nwant %s", err, tt.err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *config.Error", err)
			}
			if e.Key != tt.key {
				t.Errorf("Key %q, want %q", e.Key, tt.key)
			}
			if serr := validateYAML(t, sch, src); (serr == nil) != tt.schemaDiffers {
				t.Errorf("schema.json disagrees with the decoder (schemaDiffers %v): schema error %v", tt.schemaDiffers, serr)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DB_URL":   "postgres://shop:s3cret@db:5432/shop",
		"PASSWORD": "s3cret",
		"LB":       "haproxy:///run/haproxy/admin.sock?map=/etc/haproxy/color.map&key=shop",
		"BLUE":     "10.0.0.1",
		"GREEN":    "10.0.0.2",
		"FTP":      "ftp://10.0.0.1",
		"MYSQL":    "mysql://shop:s3cret@db/shop",
		"EMPTY":    "",
	}
	getenv := func(k string) string { return env[k] }
	base := func() *Deploy {
		return &Deploy{
			Service:  "shop",
			Switcher: "mem://shop",
			Blue:     ColorConfig{URL: "http://blue:8080"},
			Green:    ColorConfig{URL: "http://green:8080"},
		}
	}
	tests := []struct {
		name string
		edit func(d *Deploy)
		want func(d *Deploy) // the expected result, edited from base
		err  string
	}{
		{
			name: "no references",
			edit: func(d *Deploy) {},
			want: func(d *Deploy) {},
		},
		{
			name: "every env key",
			edit: func(d *Deploy) {
				d.DatabaseURL = "${DB_URL}"
				d.Switcher = "${LB}"
				d.Blue.URL = "http://${BLUE}:8080"
				d.Green.URL = "http://${GREEN}:8080"
				d.Gate.DevURL = "postgres://postgres:${PASSWORD}@localhost/postgres"
			},
			want: func(d *Deploy) {
				d.DatabaseURL = "postgres://shop:s3cret@db:5432/shop"
				d.Switcher = "haproxy:///run/haproxy/admin.sock?map=/etc/haproxy/color.map&key=shop"
				d.Blue.URL = "http://10.0.0.1:8080"
				d.Green.URL = "http://10.0.0.2:8080"
				d.Gate.DevURL = "postgres://postgres:s3cret@localhost/postgres"
			},
		},
		{
			name: "dollar dollar is a dollar",
			edit: func(d *Deploy) { d.DatabaseURL = "postgres://shop:pa$$word@db/shop?x=$${NOT_EXPANDED}$$" },
			want: func(d *Deploy) { d.DatabaseURL = "postgres://shop:pa$word@db/shop?x=${NOT_EXPANDED}$" },
		},
		{
			name: "other dollars are kept",
			edit: func(d *Deploy) { d.Switcher = "exec:///usr/local/bin/switch?arg=$HOME$" },
			want: func(d *Deploy) { d.Switcher = "exec:///usr/local/bin/switch?arg=$HOME$" },
		},
		{
			name: "other keys are left alone",
			edit: func(d *Deploy) {
				d.Migrations = "${DIR}"
				d.Hooks.Deploy = []string{"deploy", "${BLUE}"}
				d.Readiness.Path = "/${BLUE}"
			},
			want: func(d *Deploy) {
				d.Migrations = "${DIR}"
				d.Hooks.Deploy = []string{"deploy", "${BLUE}"}
				d.Readiness.Path = "/${BLUE}"
			},
		},
		{
			name: "unset variable",
			edit: func(d *Deploy) { d.DatabaseURL = "${DATABASE}" },
			err:  `deploy.database_url: environment variable "DATABASE" is not set`,
		},
		{
			name: "empty variable",
			edit: func(d *Deploy) { d.Gate.DevURL = "postgres://${EMPTY}/x" },
			err:  `deploy.gate.dev_url: environment variable "EMPTY" is not set`,
		},
		{
			name: "unterminated reference",
			edit: func(d *Deploy) { d.Switcher = "haproxy://${LB" },
			err:  `deploy.switcher: unterminated "${" (want ${NAME})`,
		},
		{
			name: "bad name",
			edit: func(d *Deploy) { d.Blue.URL = "http://${BLUE:-localhost}" },
			err:  `deploy.blue.url: bad variable reference "${BLUE:-localhost}" (want ${NAME}, NAME of letters, digits and _)`,
		},
		{
			name: "empty name",
			edit: func(d *Deploy) { d.Blue.URL = "http://${}" },
			err:  `deploy.blue.url: bad variable reference "${}" (want ${NAME}, NAME of letters, digits and _)`,
		},
		{
			name: "expanded value checked",
			edit: func(d *Deploy) { d.Green.URL = "${FTP}" },
			err:  `deploy.green.url: "ftp://10.0.0.1": want an http:// or https:// URL (after expansion)`,
		},
		{
			name: "expanded password hidden",
			edit: func(d *Deploy) { d.DatabaseURL = "${MYSQL}" },
			err:  `deploy.database_url: "mysql://shop:xxxxx@db/shop": want a postgres:// URL (after expansion)`,
		},
		{
			name: "every problem",
			edit: func(d *Deploy) { d.DatabaseURL, d.Switcher = "${A}", "${B}" },
			err: `deploy.database_url: environment variable "A" is not set
deploy.switcher: environment variable "B" is not set`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := base()
			tt.edit(d)
			orig := base()
			tt.edit(orig)
			got, err := d.Expand(getenv)
			if !reflect.DeepEqual(d, orig) {
				t.Errorf("Expand changed its receiver: %+v", d)
			}
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error:\n got %v\nwant %s", err, tt.err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows a password: %v", err)
				}
				if got != nil {
					t.Errorf("result %+v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestExpandNil(t *testing.T) {
	t.Parallel()
	got, err := (*Deploy)(nil).Expand(func(string) string { return "x" })
	if got != nil || err != nil {
		t.Errorf("Expand of nil = %v, %v", got, err)
	}
}

// TestExpandCopies checks that the copy shares no memory with the
// original, so the deploy package may fill in defaults on it.
func TestExpandCopies(t *testing.T) {
	t.Parallel()
	c, err := Parse(name, []byte(fullDeploy))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Deploy.Expand(func(string) string { return "secret" })
	if err != nil {
		t.Fatal(err)
	}
	var shared []string
	var walk func(a, b reflect.Value, at string)
	walk = func(a, b reflect.Value, at string) {
		switch a.Kind() {
		case reflect.Pointer:
			if !a.IsNil() && a.Pointer() == b.Pointer() {
				shared = append(shared, at)
			}
		case reflect.Slice:
			if a.Len() > 0 && a.Pointer() == b.Pointer() {
				shared = append(shared, at)
			}
			for i := range a.Len() {
				walk(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", at, i))
			}
		case reflect.Struct:
			for _, f := range fields(a.Type()) {
				walk(a.Field(f.index), b.Field(f.index), at+"."+f.name)
			}
		}
	}
	walk(reflect.ValueOf(got).Elem(), reflect.ValueOf(c.Deploy).Elem(), "deploy")
	if len(shared) > 0 {
		t.Errorf("the copy shares %v with the original", shared)
	}
}

func dur(d time.Duration) *time.Duration { return &d }
