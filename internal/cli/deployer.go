package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	// The load balancers bgmigrate deploy can switch (and, unless built
	// with -tags lintonly, those of switchers_sdk.go).
	_ "github.com/bgmigrate/bgmigrate/switcher/caddy"
	_ "github.com/bgmigrate/bgmigrate/switcher/execswitch"
	_ "github.com/bgmigrate/bgmigrate/switcher/haproxy"
	_ "github.com/bgmigrate/bgmigrate/switcher/nginx"
)

// DeployOptions are the flags every deploy-state command shares.
type DeployOptions struct {
	IO *IOStreams
	projectFlags
	DSN    string
	Format string
	Actor  string
}

func (o *DeployOptions) flags(cmd *cobra.Command) {
	o.projectFlags.register(cmd, true)
	f := cmd.Flags()
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

// deployerWiring, set only by this package's tests, changes each Deployer
// a command builds (fault tests install failpoints with it).
var deployerWiring func(*deploy.Deployer, *IOStreams)

// deployer reads the project (configuration and migrations), connects to
// the database and opens the switcher. close releases both.
func (o *DeployOptions) deployer(ctx context.Context) (d *deploy.Deployer, closeFn func(), err error) {
	if o.Format != "text" && o.Format != "json" {
		return nil, nil, usageError("unknown format %q (want text or json)", o.Format)
	}
	cfg, dc, err := o.config(o.IO)
	if err != nil {
		return nil, nil, err
	}
	if dc == nil {
		where := cfg.Path
		if where == "" {
			where = "no " + config.FileName + " found"
		}
		return nil, nil, usageError("no deploy: section in the configuration (%s); see docs/deploy.md", where)
	}
	p, err := o.load(ctx, o.IO)
	if err != nil {
		return nil, nil, err
	}
	dc = p.deploy
	if dc.DatabaseURL, err = p.databaseURL(o.DSN, o.IO); err != nil {
		return nil, nil, err
	}
	deploy.ApplyDefaults(dc)
	conn, err := pgx.Connect(ctx, dc.DatabaseURL)
	if err != nil {
		return nil, nil, usage(fmt.Errorf("connect to %s: %w", Redact(dc.DatabaseURL), err))
	}
	sw, err := switcher.Open(ctx, dc.Switcher)
	if err != nil {
		conn.Close(context.Background())
		return nil, nil, refused(fmt.Errorf("open the switcher (deploy.switcher): %w; traffic was not touched", err))
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
	// The gate's query files are relative to the configuration file.
	for _, src := range []*string{&dc.Gate.Queries, &dc.Gate.NewQueries} {
		if *src != "" && !strings.HasPrefix(*src, live.StatStatements) && !filepath.IsAbs(*src) && p.cfg.Dir != "" {
			*src = filepath.Join(p.cfg.Dir, *src)
		}
	}
	d = &deploy.Deployer{Config: dc, Conn: conn, Switcher: sw, Migrations: p.migs, Actor: actor, Report: rep, Out: o.IO.ErrOut}
	d.Migrate.DataChecks = dataChecksOf(p.cfg)
	if deployerWiring != nil {
		deployerWiring(d, o.IO)
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

// run sets up a Deployer, runs fn and maps the result: a refused,
// blocked, failed or rolled-back command exits 1.
func (o *DeployOptions) run(ctx context.Context, fn func(context.Context, *deploy.Deployer) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	d, closeFn, err := o.deployer(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := fn(ctx, d); err != nil && !typed(err) {
		return refused(err)
	} else if err != nil {
		return err
	}
	return nil
}
