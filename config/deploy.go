package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Deploy is the deploy: section: how bgmigrate deploy releases a service
// with two colors behind one load balancer. Durations are strings such as
// "30s" or "30m". Strings marked "env" may hold ${VAR} references, expanded
// from the environment when the command runs (Expand), so secrets stay
// out of the file.
type Deploy struct {
	// Service names the service in the deployment state; required.
	Service string `yaml:"service"`
	// DatabaseURL is the PostgreSQL URL of the service's database (env);
	// default $DATABASE_URL.
	DatabaseURL string `yaml:"database_url"`
	// Migrations is the migration directory, relative to the file; default
	// the first migrations entry, else "migrations".
	Migrations string `yaml:"migrations"`
	// Switcher is the load balancer's switcher URL (env); required.
	Switcher string `yaml:"switcher"`
	// Blue and Green say how to reach and change each color.
	Blue  ColorConfig `yaml:"blue"`
	Green ColorConfig `yaml:"green"`
	// Hooks are the commands shared by both colors (a color's own hooks
	// win).
	Hooks Hooks `yaml:"hooks"`
	// Readiness is the HTTP probe that says the idle color is up.
	Readiness Probe `yaml:"readiness"`
	// Smoke lists the checks run once the idle color is ready.
	Smoke []Check `yaml:"smoke"`
	// WarmUp sends traffic to the idle color before it takes real traffic.
	WarmUp WarmUp `yaml:"warm_up"`
	// Gate configures the pre-switch checks.
	Gate DeployGate `yaml:"gate"`
	// Steps are the traffic percentages of a gradual switch, ascending and
	// ending at 100 (a weighted switcher is needed); empty switches at once.
	Steps []int `yaml:"steps"`
	// StepPause is how long each step is watched before the next; default
	// 30s; 0s goes on at once.
	StepPause *time.Duration `yaml:"step_pause"`
	// Confidence watches the new color after the switch.
	Confidence Confidence `yaml:"confidence"`
	// Drain is how long the old color may take to finish its requests,
	// counted from the switch, before it stands by; default 10s; 0s does
	// not wait. A switcher that counts the requests in flight ends the
	// drain as soon as the old color has none.
	Drain *time.Duration `yaml:"drain"`
	// RollbackWindow is how long the old color stays a rollback target
	// after the switch; default 30m; 0s makes none (the old color is
	// retired as soon as the deploy ends).
	RollbackWindow *time.Duration `yaml:"rollback_window"`
	// LockTimeout and StatementTimeout apply to the expand and contract
	// migrations (defaults as bgmigrate migrate).
	LockTimeout      time.Duration `yaml:"lock_timeout"`
	StatementTimeout time.Duration `yaml:"statement_timeout"`
}

// ColorConfig is one color.
type ColorConfig struct {
	// URL is where probes, smoke checks and warm-up reach this color
	// directly, without the load balancer (env); required.
	URL string `yaml:"url"`
	// Deploy and ScaleDown override the shared hooks for this color.
	Deploy    []string `yaml:"deploy"`
	ScaleDown []string `yaml:"scale_down"`
}

// Hooks are commands, given as argv lists (no shell). In every argument
// {color}, {version} and {service} are replaced; the command also gets
// BGMIGRATE_COLOR, BGMIGRATE_VERSION and BGMIGRATE_SERVICE in its
// environment.
type Hooks struct {
	// Deploy rolls a version out onto a color ("kubectl set image …");
	// required here or in both colors.
	Deploy []string `yaml:"deploy"`
	// ScaleDown stops a retired color; optional.
	ScaleDown []string `yaml:"scale_down"`
	// Timeout bounds each hook; default 10m.
	Timeout time.Duration `yaml:"timeout"`
}

// Probe is an HTTP readiness probe.
type Probe struct {
	// Path is requested on the color's URL; default "/".
	Path string `yaml:"path"`
	// Status is the expected status code; default 200.
	Status int `yaml:"status"`
	// Interval between probes; default 1s.
	Interval time.Duration `yaml:"interval"`
	// Timeout of one probe; default 2s.
	Timeout time.Duration `yaml:"timeout"`
	// Successes in a row that make the color ready; default 3.
	Successes int `yaml:"successes"`
	// Deadline for the color to become ready; default 5m.
	Deadline time.Duration `yaml:"deadline"`
}

// Check is one smoke test: a command (Command) or an HTTP request (Path).
type Check struct {
	// Name is shown in output; default the command or the path.
	Name string `yaml:"name"`
	// Command is run with the hooks' substitutions and environment, plus
	// BGMIGRATE_URL (the color's URL); exit 0 passes.
	Command []string `yaml:"command"`
	// Path, Method (default GET), Status (default 200) and BodyContains
	// describe an HTTP check on the color's URL.
	Path         string `yaml:"path"`
	Method       string `yaml:"method"`
	Status       int    `yaml:"status"`
	BodyContains string `yaml:"body_contains"`
	// Timeout of the check; default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// WarmUp sends Requests GET requests to the idle color's URL, spread over
// Paths, at Rate per second, before it takes real traffic.
type WarmUp struct {
	// Requests is how many; default 0, no warm-up.
	Requests int `yaml:"requests"`
	// Paths are requested in turn; default ["/"].
	Paths []string `yaml:"paths"`
	// Rate is the requests started per second; default 50.
	Rate int `yaml:"rate"`
}

// DeployGate configures the gate run before the switch.
type DeployGate struct {
	// Skip turns the gate off (not recommended); the deploy says so.
	Skip bool `yaml:"skip"`
	// DevURL is where the colors' schemas are replayed (env): a PostgreSQL
	// URL or docker://IMAGE; default the database URL itself (a scratch
	// database is created and dropped on that server).
	DevURL string `yaml:"dev_url"`
	// MaxTransactionAge: an older open transaction blocks; default 5m.
	MaxTransactionAge time.Duration `yaml:"max_transaction_age"`
	// Schemas to compare; default all but PostgreSQL's and bgmigrate's.
	Schemas []string `yaml:"schemas"`
	// Queries are the old color's queries, prepared at the schema it will
	// meet: a file of SQL statements (relative to the configuration
	// file), or "pg_stat_statements" (optionally "?role=R&database=D")
	// to read them from the live database.
	Queries string `yaml:"queries"`
	// NewQueries are the new color's queries, the same way.
	NewQueries string `yaml:"new_queries"`
}

// Confidence watches the new color after the switch; a failure rolls
// traffic back.
type Confidence struct {
	// Window is how long; default 1m, 0s turns the watch off.
	Window *time.Duration `yaml:"window"`
	// Interval between probes; default 1s.
	Interval time.Duration `yaml:"interval"`
	// Path probed on the new color's URL; default the readiness path.
	Path string `yaml:"path"`
	// MaxErrorRate is the largest share of failed probes (0 to 1) over the
	// last Probes probes; default 0.2.
	MaxErrorRate *float64 `yaml:"max_error_rate"`
	// Probes is the sliding window the error rate is taken over; default 5.
	Probes int `yaml:"probes"`
	// MaxLatency: a probe slower than this counts as failed; default 2s.
	MaxLatency time.Duration `yaml:"max_latency"`
	// Command, when set, runs every Interval too (e.g. a Prometheus query
	// script); a non-zero exit counts as a failed probe.
	Command []string `yaml:"command"`
}

// Expand returns a copy of d in which the ${VAR} references of the keys
// marked "env" (database_url, switcher, blue.url, green.url and
// gate.dev_url) are replaced by getenv("VAR"). Only the ${VAR} form is
// expanded: "$$" stands for a literal "$", and any other "$" is kept as
// it is. A variable that getenv returns "" for, an unterminated "${" or a
// bad name is an error naming the key and the variable; the expanded
// values are then checked as Load checks values without references. The
// copy shares no memory with d; Expand of nil is nil.
func (d *Deploy) Expand(getenv func(string) string) (*Deploy, error) {
	if d == nil {
		return nil, nil
	}
	c := d.clone()
	var errs []error
	for _, f := range []struct {
		key     string
		value   *string
		problem func(string) string
	}{
		{"deploy.database_url", &c.DatabaseURL, databaseURLProblem},
		{"deploy.switcher", &c.Switcher, switcherURLProblem},
		{"deploy.blue.url", &c.Blue.URL, colorURLProblem},
		{"deploy.green.url", &c.Green.URL, colorURLProblem},
		{"deploy.gate.dev_url", &c.Gate.DevURL, devURLProblem},
	} {
		if *f.value == "" {
			continue
		}
		v, err := expandEnv(*f.value, getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.key, err))
			continue
		}
		if msg := f.problem(v); msg != "" {
			errs = append(errs, fmt.Errorf("%s: %s (after expansion)", f.key, msg))
			continue
		}
		*f.value = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// expandEnv replaces ${NAME} in s by getenv(NAME) and $$ by $.
func expandEnv(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New(`unterminated "${" (want ${NAME})`)
			}
			name := s[i+2 : i+2+end]
			if !validEnvName(name) {
				return "", fmt.Errorf("bad variable reference %q (want ${NAME}, NAME of letters, digits and _)", "${"+name+"}")
			}
			v := getenv(name)
			if v == "" {
				return "", fmt.Errorf("environment variable %q is not set", name)
			}
			b.WriteString(v)
			s = s[i+3+end:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func validEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// clone copies d deeply.
func (d *Deploy) clone() *Deploy {
	c := *d
	c.Blue.Deploy, c.Blue.ScaleDown = slices.Clone(d.Blue.Deploy), slices.Clone(d.Blue.ScaleDown)
	c.Green.Deploy, c.Green.ScaleDown = slices.Clone(d.Green.Deploy), slices.Clone(d.Green.ScaleDown)
	c.Hooks.Deploy, c.Hooks.ScaleDown = slices.Clone(d.Hooks.Deploy), slices.Clone(d.Hooks.ScaleDown)
	c.Smoke = slices.Clone(d.Smoke)
	for i := range c.Smoke {
		c.Smoke[i].Command = slices.Clone(d.Smoke[i].Command)
	}
	c.WarmUp.Paths = slices.Clone(d.WarmUp.Paths)
	c.Gate.Schemas = slices.Clone(d.Gate.Schemas)
	c.Steps = slices.Clone(d.Steps)
	for _, p := range []**time.Duration{&c.Confidence.Window, &c.StepPause, &c.Drain, &c.RollbackWindow} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	if d.Confidence.MaxErrorRate != nil {
		r := *d.Confidence.MaxErrorRate
		c.Confidence.MaxErrorRate = &r
	}
	c.Confidence.Command = slices.Clone(d.Confidence.Command)
	return &c
}
