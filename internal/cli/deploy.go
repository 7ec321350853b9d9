package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	// The load balancers bgmigrate deploy can switch.
	_ "github.com/bgmigrate/bgmigrate/switcher/awsalb"
	_ "github.com/bgmigrate/bgmigrate/switcher/caddy"
	_ "github.com/bgmigrate/bgmigrate/switcher/etcd"
	_ "github.com/bgmigrate/bgmigrate/switcher/execswitch"
	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
	_ "github.com/bgmigrate/bgmigrate/switcher/kubernetes"
	_ "github.com/bgmigrate/bgmigrate/switcher/nginx"
)

// DeployOptions are the flags every deploy-state command shares.
type DeployOptions struct {
	IO     *IOStreams
	Config string
	DSN    string
	Format string
	Actor  string
}

func (o *DeployOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Config, "config", "", "configuration file with a deploy: section (default: .bgmigrate.yaml found upwards)")
	f.StringVar(&o.DSN, "dsn", "", "PostgreSQL URL (default deploy.database_url, then $DATABASE_URL)")
	f.StringVar(&o.Format, "format", "text", "text, or json for one event per line")
	f.StringVar(&o.Actor, "actor", "", "who runs the command, for the event log (default $BGMIGRATE_ACTOR, then the OS user)")
}

// hasDeployConfig reports whether the configuration file has a deploy:
// section; status and retire keep their migration-only form without one.
func (o *DeployOptions) hasDeployConfig() bool {
	cfg, err := loadConfig(o.Config)
	return err == nil && cfg.Deploy != nil
}

// deployer reads the configuration, connects to the database and opens
// the switcher. close releases both.
func (o *DeployOptions) deployer(ctx context.Context) (d *deploy.Deployer, closeFn func(), err error) {
	if o.Format != "text" && o.Format != "json" {
		return nil, nil, usageError("unknown format %q (want text or json)", o.Format)
	}
	cfg, err := loadConfig(o.Config)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Deploy == nil {
		where := cfg.Path
		if where == "" {
			where = "no " + config.FileName + " found"
		}
		return nil, nil, usageError("no deploy: section in the configuration (%s); see docs/deploy.md", where)
	}
	dc, err := cfg.Deploy.Expand(o.IO.Env)
	if err != nil {
		return nil, nil, &exitError{code: ExitUsage, err: err}
	}
	switch {
	case o.DSN != "":
		dc.DatabaseURL = o.DSN
	case dc.DatabaseURL == "":
		dc.DatabaseURL = o.IO.Env("DATABASE_URL")
	}
	if dc.DatabaseURL == "" {
		return nil, nil, usageError("no database: set deploy.database_url, pass --dsn or set DATABASE_URL")
	}
	deploy.ApplyDefaults(dc)
	dir := dc.Migrations
	if dir == "" {
		if dirs := cfg.MigrationDirs(); len(dirs) > 0 {
			dir = dirs[0]
		} else {
			dir = "migrations"
		}
	} else if cfg.Dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(cfg.Dir, filepath.FromSlash(dir))
	}
	migs, err := runner.Load(ctx, dir, cfg.RulesConfig())
	if err != nil {
		return nil, nil, &exitError{code: ExitUsage, err: err}
	}
	conn, err := pgx.Connect(ctx, dc.DatabaseURL)
	if err != nil {
		return nil, nil, &exitError{code: ExitUsage, err: fmt.Errorf("connect to %s: %w", Redact(dc.DatabaseURL), err)}
	}
	sw, err := switcher.Open(ctx, dc.Switcher)
	if err != nil {
		conn.Close(context.Background())
		return nil, nil, &exitError{code: ExitFindings, err: fmt.Errorf("open the switcher (deploy.switcher): %w; traffic was not touched", err)}
	}
	actor := o.Actor
	if actor == "" {
		actor = o.IO.Env("BGMIGRATE_ACTOR")
	}
	if actor == "" {
		actor = appliedBy()
	}
	var rep deploy.Reporter
	if o.Format == "json" {
		rep = deploy.NewJSONReporter(o.IO.Out)
	} else {
		rep = deploy.NewTextReporter(o.IO.Out, isTerminal(o.IO))
	}
	d = &deploy.Deployer{Config: dc, Conn: conn, Switcher: sw, Migrations: migs, Actor: actor, Report: rep, Out: o.IO.ErrOut}
	if o.IO.Env("BGMIGRATE_FAILPOINT") == "after-switch" {
		// For fault tests: stop dead between the switch and its record,
		// until the process is killed.
		d.AfterSwitch = func() {
			fmt.Fprintln(o.IO.ErrOut, "bgmigrate: failpoint after-switch: waiting to be killed")
			for {
				time.Sleep(time.Hour)
			}
		}
	}
	return d, func() {
		sw.Close()
		conn.Close(context.Background())
	}, nil
}

// isTerminal reports whether Out is a terminal (progress lines in place).
func isTerminal(s *IOStreams) bool {
	f, ok := s.Out.(*os.File)
	if !ok || s.Env("TERM") == "dumb" {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// deployFailed maps a failed deploy-state command to exit code 1 (the
// command was refused, blocked, failed a check or rolled back).
func deployFailed(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: ExitFindings, err: err}
}

// runDeployer sets up a Deployer, runs fn and maps the result.
func (o *DeployOptions) run(ctx context.Context, fn func(context.Context, *deploy.Deployer) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	d, closeFn, err := o.deployer(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	return deployFailed(fn(ctx, d))
}

func newCmdDeploy(s *IOStreams) *cobra.Command {
	opts := &DeployOptions{IO: s}
	var version, steps string
	var resume, dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy --version V",
		Short: "Release a version: expand, deploy the idle color, check, gate, switch, watch",
		Long: `Release version V of the service the deploy: section of .bgmigrate.yaml
describes, in the only safe order:

  lock → plan (lint; breaking and mixed migrations refuse) → expand migrations →
  deploy hook for the idle color → readiness → smoke checks → warm-up → gate →
  switch (at once, or in --steps with checks between them) → confidence window
  (automatic rollback on failure) → drain → the old color stands by as the
  rollback target for deploy.rollback_window.

Contract migrations wait for bgmigrate retire (or the window's end) and run
with bgmigrate contract. A failure before the switch leaves traffic where it
was and the new color running for inspection. --resume finishes a deploy that
was interrupted (it reads the load balancer to know whether the switch
happened). --dry-run prints the plan and the reason it would be refused, if
any, and changes nothing.

Exit status: 0 released, 1 refused, failed or rolled back, 2 usage or
configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := deploy.DeployOptions{Version: version, Resume: resume}
			if cmd.Flags().Changed("steps") {
				var err error
				if o.Steps, err = parseSteps(steps); err != nil {
					return usageError("--steps: %v", err)
				}
			}
			if version == "" && !resume {
				return usageError("--version is required")
			}
			if dryRun {
				return opts.run(cmd.Context(), func(ctx context.Context, d *deploy.Deployer) error { return d.Plan(ctx, opts.IO.Out, o) })
			}
			return opts.run(cmd.Context(), func(ctx context.Context, d *deploy.Deployer) error { return d.Deploy(ctx, o) })
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&version, "version", "", "the version to release (passed to the deploy hook as {version})")
	cmd.Flags().StringVar(&steps, "steps", "", "percentages of a gradual switch, e.g. 10,50,100 (a weighted switcher is needed)")
	cmd.Flags().BoolVar(&resume, "resume", false, "finish the interrupted deployment")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what the deploy would do and change nothing")
	return cmd
}

func parseSteps(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p), "%")))
		if err != nil {
			return nil, fmt.Errorf("%q is not a percentage", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func newCmdRollback(s *IOStreams) *cobra.Command {
	opts := &DeployOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Send traffic back to the old color while it is the rollback target",
		Long: `Switch traffic back to the old color at once. Refused (with the reason)
when the old color was retired, its rollback window ended, or a contract
migration ran since the new color took the traffic. An interrupted deploy that
never took traffic is abandoned; one that did is rolled back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return opts.run(cmd.Context(), func(ctx context.Context, d *deploy.Deployer) error { return d.Rollback(ctx) })
		},
	}
	opts.flags(cmd)
	return cmd
}

func newCmdSwitch(s *IOStreams) *cobra.Command {
	opts := &DeployOptions{IO: s}
	var to string
	cmd := &cobra.Command{
		Use:   "switch --to COLOR",
		Short: "Switch traffic by hand to a color that is ready or stands by, after the gate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := switcher.ParseColor(to)
			if err != nil {
				return usageError("--to: %v", err)
			}
			return opts.run(cmd.Context(), func(ctx context.Context, d *deploy.Deployer) error { return d.Switch(ctx, c) })
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&to, "to", "", "blue or green")
	return cmd
}

func newCmdContract(s *IOStreams) *cobra.Command {
	opts := &DeployOptions{IO: s}
	var force bool
	var reason string
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Apply the contract migrations once the old color is retired",
		Long: `Apply the pending contract migrations. Refused while the old color is a
rollback target (run bgmigrate retire, or wait for the rollback window to end:
then it is retired here first). --force --reason runs them anyway and records
why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if force && strings.TrimSpace(reason) == "" {
				return usageError("--force needs --reason")
			}
			return opts.run(cmd.Context(), func(ctx context.Context, d *deploy.Deployer) error {
				return d.Contract(ctx, deploy.ContractOptions{Force: force, Reason: reason})
			})
		},
	}
	opts.flags(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "run while the old color is a rollback target (needs --reason)")
	cmd.Flags().StringVar(&reason, "reason", "", "why --force is used; recorded in the history")
	return cmd
}

// deployStatus prints the deploy state of the service.
func deployStatus(ctx context.Context, opts *DeployOptions, events int) error {
	if ctx == nil {
		ctx = context.Background()
	}
	text := opts.Format
	opts.Format = "text"
	d, closeFn, err := opts.deployer(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	d.Report = deploy.Discard
	r, err := d.Status(ctx, events)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if text == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.Print(opts.IO.Out)
	return nil
}
