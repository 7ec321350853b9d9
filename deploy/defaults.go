package deploy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/switcher"
)

// The defaults of the deploy: section, as config/deploy.go documents them.
const (
	defaultStepPause         = 30 * time.Second
	defaultDrain             = 10 * time.Second
	defaultRollbackWindow    = 30 * time.Minute
	defaultHookTimeout       = 10 * time.Minute
	defaultProbePath         = "/"
	defaultProbeStatus       = 200
	defaultProbeInterval     = time.Second
	defaultProbeTimeout      = 2 * time.Second
	defaultProbeSuccesses    = 3
	defaultProbeDeadline     = 5 * time.Minute
	defaultCheckMethod       = "GET"
	defaultCheckStatus       = 200
	defaultCheckTimeout      = 30 * time.Second
	defaultWarmUpPath        = "/"
	defaultWarmUpRate        = 50
	defaultMaxTransactionAge = 5 * time.Minute
	defaultConfidenceWindow  = time.Minute
	defaultConfidenceEvery   = time.Second
	defaultMaxErrorRate      = 0.2
	defaultConfidenceProbes  = 5
	defaultMaxLatency        = 2 * time.Second
)

// ApplyDefaults fills the zero fields of c that have a default. It leaves
// alone the defaults that depend on the environment or on the rest of the
// file (DatabaseURL, Migrations, Gate.DevURL, Gate.Schemas, LockTimeout,
// StatementTimeout). Applying it twice changes nothing.
func ApplyDefaults(c *config.Deploy) {
	if c == nil {
		return
	}
	setUnset(&c.StepPause, defaultStepPause)
	setUnset(&c.Drain, defaultDrain)
	setUnset(&c.RollbackWindow, defaultRollbackWindow)
	setDuration(&c.Hooks.Timeout, defaultHookTimeout)

	p := &c.Readiness
	if p.Path == "" {
		p.Path = defaultProbePath
	}
	if p.Status == 0 {
		p.Status = defaultProbeStatus
	}
	setDuration(&p.Interval, defaultProbeInterval)
	setDuration(&p.Timeout, defaultProbeTimeout)
	if p.Successes == 0 {
		p.Successes = defaultProbeSuccesses
	}
	setDuration(&p.Deadline, defaultProbeDeadline)

	for i := range c.Smoke {
		ch := &c.Smoke[i]
		if ch.Name == "" {
			ch.Name = checkName(*ch)
		}
		if len(ch.Command) == 0 {
			if ch.Method == "" {
				ch.Method = defaultCheckMethod
			}
			if ch.Status == 0 {
				ch.Status = defaultCheckStatus
			}
		}
		setDuration(&ch.Timeout, defaultCheckTimeout)
	}

	if len(c.WarmUp.Paths) == 0 {
		c.WarmUp.Paths = []string{defaultWarmUpPath}
	}
	if c.WarmUp.Rate == 0 {
		c.WarmUp.Rate = defaultWarmUpRate
	}

	setDuration(&c.Gate.MaxTransactionAge, defaultMaxTransactionAge)

	cf := &c.Confidence
	setUnset(&cf.Window, defaultConfidenceWindow)
	setDuration(&cf.Interval, defaultConfidenceEvery)
	if cf.Path == "" {
		cf.Path = p.Path
	}
	if cf.MaxErrorRate == nil {
		r := defaultMaxErrorRate
		cf.MaxErrorRate = &r
	}
	if cf.Probes == 0 {
		cf.Probes = defaultConfidenceProbes
	}
	setDuration(&cf.MaxLatency, defaultMaxLatency)
}

// setUnset gives a duration the file left out its default; a duration
// the file gave, 0s included, is kept.
func setUnset(d **time.Duration, def time.Duration) {
	if *d == nil {
		v := def
		*d = &v
	}
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// checkName is the name a check is shown under when it has none: its
// command or its path.
func checkName(c config.Check) string {
	if len(c.Command) > 0 {
		return strings.Join(c.Command, " ")
	}
	return c.Path
}

// The hooks HookArgv knows.
const (
	HookDeploy    = "deploy"
	HookScaleDown = "scale_down"
)

// HookArgv returns the argv of a hook (HookDeploy or HookScaleDown) for a
// color: the color's own hook when it has one, else the shared one, nil
// when neither is set. The slice is a copy. Any other hook name panics.
func HookArgv(c *config.Deploy, color switcher.Color, which string) []string {
	cc := colorConfig(c, color)
	var own, shared []string
	switch which {
	case HookDeploy:
		shared = c.Hooks.Deploy
		if cc != nil {
			own = cc.Deploy
		}
	case HookScaleDown:
		shared = c.Hooks.ScaleDown
		if cc != nil {
			own = cc.ScaleDown
		}
	default:
		panic(fmt.Sprintf("deploy.HookArgv: unknown hook %q (want %q or %q)", which, HookDeploy, HookScaleDown))
	}
	if len(own) > 0 {
		return slices.Clone(own)
	}
	if len(shared) > 0 {
		return slices.Clone(shared)
	}
	return nil
}

// ColorURL returns the URL a color is reached at directly, as configured
// ("" for an unknown color).
func ColorURL(c *config.Deploy, color switcher.Color) string {
	if cc := colorConfig(c, color); cc != nil {
		return cc.URL
	}
	return ""
}

func colorConfig(c *config.Deploy, color switcher.Color) *config.ColorConfig {
	switch color {
	case switcher.Blue:
		return &c.Blue
	case switcher.Green:
		return &c.Green
	}
	return nil
}
