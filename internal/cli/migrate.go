package cli

import (
	"context"
	"fmt"
	"net/url"
	"os/user"
	"time"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

// DBOptions are the flags every command that talks to the database shares.
type DBOptions struct {
	DSN       string
	Dir       string
	PGVersion int
}

func (o *DBOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.DSN, "dsn", "", "PostgreSQL URL (default $DATABASE_URL)")
	cmd.Flags().StringVar(&o.Dir, "dir", "migrations", "directory of the migrations")
	cmd.Flags().IntVar(&o.PGVersion, "pg-version", 15, "PostgreSQL major version, for linting")
}

// connect opens the database; errors never show the password.
func (o *DBOptions) connect(ctx context.Context, s *IOStreams) (*pgx.Conn, error) {
	dsn := o.DSN
	if dsn == "" {
		dsn = s.Env("DATABASE_URL")
	}
	if dsn == "" {
		return nil, usageError("no database: pass --dsn or set DATABASE_URL")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: fmt.Errorf("connect to %s: %w", Redact(dsn), err)}
	}
	return conn, nil
}

func (o *DBOptions) hasDSN(s *IOStreams) bool { return o.DSN != "" || s.Env("DATABASE_URL") != "" }

// Redact hides the password of a PostgreSQL URL or keyword/value string.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	return "the configured database"
}

func (o *DBOptions) load(ctx context.Context) ([]*runner.Migration, error) {
	migs, err := runner.Load(ctx, o.Dir, rules.Config{PGVersion: o.PGVersion})
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	return migs, nil
}

// appliedBy names who runs bgmigrate, for the history.
func appliedBy() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// open loads the migrations of the directory and connects to the database.
func (o *DBOptions) open(ctx context.Context, s *IOStreams) ([]*runner.Migration, *pgx.Conn, error) {
	migs, err := o.load(ctx)
	if err != nil {
		return nil, nil, err
	}
	conn, err := o.connect(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	return migs, conn, nil
}

// MigrateOptions are the flags of bgmigrate migrate.
type MigrateOptions struct {
	IO *IOStreams
	DBOptions
	Phase            string
	DryRun           bool
	LockTimeout      time.Duration
	StatementTimeout time.Duration
	Retries          int
	LockWait         bool
	LockWaitTimeout  time.Duration
	Force            bool
	Reason           string
	Deployment       string
}

func newCmdMigrate(s *IOStreams) *cobra.Command {
	opts := &MigrateOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "migrate expand|contract|all",
		Short: "Apply pending migrations, phase by phase",
		Long: `Apply the pending migrations of a phase: expand (safe while the old color
runs: before the switch), contract (only once the old color is retired) or all.

Each migration is linted first: error findings, breaking and mixed files stop
the run. Every statement runs with lock_timeout and statement_timeout and is
retried with backoff when the lock is not granted in time. A file runs in one
transaction unless it holds statements that cannot (CREATE INDEX
CONCURRENTLY…) or its tool turns transactions off; then each statement runs on
its own, and a rerun resumes after the last one that finished.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Phase = args[0]
			return migrateRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	f := cmd.Flags()
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	f.DurationVar(&opts.LockTimeout, "lock-timeout", 2*time.Second, "lock_timeout of every statement")
	f.DurationVar(&opts.StatementTimeout, "statement-timeout", 30*time.Minute, "statement_timeout of every statement")
	f.IntVar(&opts.Retries, "retries", 5, "tries after the first when a lock is not granted in time")
	f.BoolVar(&opts.LockWait, "lock-wait", false, "wait for another run's migration lock instead of failing")
	f.DurationVar(&opts.LockWaitTimeout, "lock-wait-timeout", 0, "how long --lock-wait waits (0: no limit)")
	f.BoolVar(&opts.Force, "force", false, "apply contract migrations while the old color is a rollback target (needs --reason)")
	f.StringVar(&opts.Reason, "reason", "", "why --force is used; recorded in the history")
	f.StringVar(&opts.Deployment, "deployment", "", "deployment id recorded with the migrations")
	return cmd
}

func migrateRun(ctx context.Context, opts *MigrateOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	phase, err := runner.ParsePhase(opts.Phase)
	if err != nil {
		return usageError("%v", err)
	}
	if opts.Force && opts.Reason == "" {
		return usageError("--force needs --reason")
	}
	migs, err := opts.load(ctx)
	if err != nil {
		return err
	}
	if opts.DryRun {
		var hist []runner.Applied
		if opts.hasDSN(opts.IO) {
			conn, err := opts.connect(ctx, opts.IO)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if hist, err = runner.History(ctx, conn); err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
		}
		pending, err := runner.Pending(migs, hist)
		if err != nil {
			return &exitError{code: ExitFindings, err: err}
		}
		run, later, err := runner.Select(pending, phase)
		if err != nil {
			return &exitError{code: ExitFindings, err: err}
		}
		runner.PrintPlan(opts.IO.Out, run, later, phase)
		return nil
	}
	conn, err := opts.connect(ctx, opts.IO)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	ro := runner.Options{
		Phase: phase, LockTimeout: opts.LockTimeout, StatementTimeout: opts.StatementTimeout, Retries: opts.Retries,
		LockWait: opts.LockWait, LockWaitTimeout: opts.LockWaitTimeout, Force: opts.Force, Reason: opts.Reason,
		Deployment: opts.Deployment, AppliedBy: appliedBy(), Log: opts.IO.ErrOut,
	}
	if cfg, err := loadConfig(""); err == nil && cfg.Deploy != nil {
		// The service is deployed with bgmigrate deploy: its deployment
		// state decides when contract migrations may run.
		ro.Gate = deploy.ContractGate(cfg.Deploy.Service)
	}
	res, err := runner.Migrate(ctx, conn, migs, ro)
	if res != nil {
		fmt.Fprintf(opts.IO.Out, "%d migrations applied", len(res.Applied))
		if len(res.Skipped) > 0 {
			fmt.Fprintf(opts.IO.Out, "; %d contract migrations wait for bgmigrate migrate contract", len(res.Skipped))
		}
		fmt.Fprintln(opts.IO.Out)
	}
	if err != nil {
		// A refused or failed run: lint errors, the contract gate, the
		// lock held by another run, a statement or lock timeout.
		return &exitError{code: ExitFindings, err: err}
	}
	return nil
}

func newCmdPlan(s *IOStreams) *cobra.Command {
	opts := &DBOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what runs before the switch and what waits for retirement",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m := &MigrateOptions{IO: s, DBOptions: *opts, Phase: "all", DryRun: true}
			return migrateRun(cmd.Context(), m)
		},
	}
	opts.flags(cmd)
	return cmd
}

func newCmdStatus(s *IOStreams) *cobra.Command {
	opts := &DBOptions{}
	dopts := &DeployOptions{IO: s}
	events := 10
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show both colors, the traffic, the rollback window and the pending migrations",
		Long: `With a deploy: section in the configuration: both colors with their versions
and states, where the load balancer sends traffic (the record is reconciled
with it), the rollback target and its window (a target whose window ended is
retired here), the pending expand and contract migrations and the last events.

Without one: the applied and pending migrations, the contract gate and the
migration lock holder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if dopts.hasDeployConfig() {
				dopts.DSN = opts.DSN
				return deployStatus(ctx, dopts, events)
			}
			if dopts.Format != "text" {
				return usageError("--format json needs a deploy: section in the configuration")
			}
			migs, conn, err := opts.open(ctx, s)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			st, err := runner.ReadStatus(ctx, conn, migs, runner.Options{})
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			st.Print(s.Out)
			return nil
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&dopts.Config, "config", "", "configuration file (default: .bgmigrate.yaml found upwards)")
	cmd.Flags().StringVar(&dopts.Format, "format", "text", "text or json (with a deploy: section)")
	cmd.Flags().IntVar(&events, "events", 10, "how many of the last events to show")
	return cmd
}

func newCmdRetire(s *IOStreams) *cobra.Command {
	opts := &DBOptions{}
	dopts := &DeployOptions{IO: s}
	var color, reason string
	cmd := &cobra.Command{
		Use:   "retire",
		Short: "Record that the old color is gone, so contract migrations may run",
		Long: `With a deploy: section in the configuration: the standing-by old color stops
being a rollback target, its scale-down hook runs, and contract migrations may
run. Without one: record a retirement in the migration history (--color,
--reason).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if dopts.hasDeployConfig() {
				dopts.DSN = opts.DSN
				return dopts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error { return d.Retire(ctx) })
			}
			conn, err := opts.connect(ctx, s)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if err := runner.Retire(ctx, conn, color, appliedBy(), reason); err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			fmt.Fprintln(s.Out, "old color retired: contract migrations may run")
			return nil
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&color, "color", "", "the color that was retired")
	cmd.Flags().StringVar(&reason, "reason", "", "a note recorded with the retirement")
	cmd.Flags().StringVar(&dopts.Config, "config", "", "configuration file (default: .bgmigrate.yaml found upwards)")
	cmd.Flags().StringVar(&dopts.Format, "format", "text", "text, or json for one event per line (with a deploy: section)")
	cmd.Flags().StringVar(&dopts.Actor, "actor", "", "who retires, for the event log")
	return cmd
}

func newCmdBaseline(s *IOStreams) *cobra.Command {
	opts := &DBOptions{}
	var from string
	cmd := &cobra.Command{
		Use:   "baseline --from TOOL",
		Short: "Adopt bgmigrate: record what another tool already applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			migs, conn, err := opts.open(ctx, s)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			done, err := runner.Baseline(ctx, conn, from, migs, appliedBy())
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			fmt.Fprintf(s.Out, "%d migrations recorded as applied from the %s history\n", len(done), from)
			return nil
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the tool whose history to read: dbmate, flyway, golang-migrate or goose")
	return cmd
}
