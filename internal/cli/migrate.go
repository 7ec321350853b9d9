package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/user"
	"slices"
	"time"

	"github.com/bgmigrate/bgmigrate/datacheck"
	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

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

// connect opens the database; errors never show the password.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, usage(fmt.Errorf("connect to %s: %w", Redact(dsn), err))
	}
	return conn, nil
}

// appliedBy names who runs bgmigrate, for the history.
func appliedBy() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// MigrateOptions are the flags of bgmigrate migrate.
type MigrateOptions struct {
	IO *IOStreams
	projectFlags
	DSN              string
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
	dataFlags
}

func newCmdMigrate(s *IOStreams) *cobra.Command {
	opts := &MigrateOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "migrate expand|contract|all",
		Short: "Apply pending migrations, phase by phase",
		Long: `Apply the pending migrations of a phase: expand (safe while the old color
runs: before the switch), contract (only once no color that may take traffic
needs what they remove) or all.

The migrations are read and linted as bgmigrate lint does, with
.bgmigrate.yaml (its migrations:, rules:, exclude: and pg_version); error
findings, breaking and mixed files stop the run. Every statement runs with
lock_timeout and statement_timeout (a SET of either in a file is left out:
the runner sets them) and is retried with backoff when the lock is not
granted in time. A file runs in one transaction unless it holds statements
that cannot (CREATE INDEX CONCURRENTLY…) or its tool turns transactions off;
then each statement runs on its own, and a rerun resumes after the last one
that finished, as long as those statements did not change.

With a deploy: section, contract and all follow the deployment state as
bgmigrate contract does; without one, contract migrations wait for
bgmigrate retire.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Phase = args[0]
			return migrateRun(cmd.Context(), opts)
		},
	}
	opts.projectFlags.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&opts.DSN, "dsn", "", "PostgreSQL URL (default deploy.database_url, then $DATABASE_URL)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	f.DurationVar(&opts.LockTimeout, "lock-timeout", 2*time.Second, "lock_timeout of every statement")
	f.DurationVar(&opts.StatementTimeout, "statement-timeout", 30*time.Minute, "statement_timeout of every statement")
	f.IntVar(&opts.Retries, "retries", 5, "tries after the first when a lock is not granted in time")
	f.BoolVar(&opts.LockWait, "lock-wait", false, "wait for another run's migration lock instead of failing")
	f.DurationVar(&opts.LockWaitTimeout, "lock-wait-timeout", 0, "how long --lock-wait waits (0: no limit)")
	f.BoolVar(&opts.Force, "force", false, "apply contract migrations while the old color is a rollback target (needs --reason)")
	f.StringVar(&opts.Reason, "reason", "", "why --force is used; recorded in the history")
	f.StringVar(&opts.Deployment, "deployment", "", "deployment id recorded with the migrations")
	opts.dataFlags.register(cmd)
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
	p, err := opts.load(ctx, opts.IO)
	if err != nil {
		return err
	}
	if opts.DryRun {
		return dryRun(ctx, opts.IO, p, opts.DSN, phase, opts.Force, opts.Reason, &opts.dataFlags)
	}
	dc, closeData, err := opts.dataChecks(ctx, p.cfg)
	if err != nil {
		return err
	}
	defer closeData()
	ro := runner.Options{
		Phase: phase, LockTimeout: opts.LockTimeout, StatementTimeout: opts.StatementTimeout, Retries: opts.Retries,
		LockWait: opts.LockWait, LockWaitTimeout: opts.LockWaitTimeout, Force: opts.Force, Reason: opts.Reason,
		Deployment: opts.Deployment, AppliedBy: appliedBy(), Log: opts.IO.ErrOut, DataChecks: dc,
	}
	if p.deploy != nil && phase != runner.PhaseExpand {
		// The service is deployed with bgmigrate deploy: the contract
		// migrations follow its deployment state, under its lock.
		do := &DeployOptions{IO: opts.IO, projectFlags: opts.projectFlags, DSN: opts.DSN, Format: "text"}
		return do.run(ctx, func(ctx context.Context, d *deploy.Deployer) error {
			d.Migrate = ro
			res, err := d.Contract(ctx, deploy.ContractOptions{Force: opts.Force, Reason: opts.Reason, Phase: phase})
			printResult(opts.IO, res)
			return err
		})
	}
	conn, _, err := p.connect(ctx, opts.DSN, opts.IO)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	res, err := runner.Migrate(ctx, conn, p.migs, ro)
	printResult(opts.IO, res)
	if err != nil {
		// A refused or failed run: lint errors, the contract gate, the
		// lock held by another run, a statement or lock timeout.
		return refused(err)
	}
	return nil
}

func printResult(s *IOStreams, res *runner.Result) {
	if res == nil {
		return
	}
	fmt.Fprintf(s.Out, "%d migrations applied", len(res.Applied))
	if len(res.Skipped) > 0 {
		fmt.Fprintf(s.Out, "; %d contract migrations wait", len(res.Skipped))
	}
	fmt.Fprintln(s.Out)
}

// dryRun prints what a run of the phase would do, from the history when
// the database is reachable (and the deployment state as recorded, with a
// deploy: section), without changing anything. With the database it also
// prints the pending statements' findings with their tables' sizes and the
// live rows they would fail on; a pending migration known to fail exits 1.
func dryRun(ctx context.Context, s *IOStreams, p *project, dsnFlag string, phase runner.Phase, force bool, reason string, df *dataFlags) error {
	f := gate.Facts{Migrations: runner.GateMigrations(p.migs)}
	var conn *pgx.Conn
	if dsn, err := p.databaseURL(dsnFlag, s); err == nil {
		if conn, err = connect(ctx, dsn); err != nil {
			return err
		}
		defer conn.Close(context.Background())
		if err := p.withTableSizes(ctx, conn); err != nil {
			return err
		}
		if f, _, err = runner.ReadFacts(ctx, conn, p.migs); err != nil {
			return usage(err)
		}
		if p.deploy != nil {
			if f.State, err = live.ReadState(ctx, conn, p.deploy.Service); err != nil {
				return usage(err)
			}
			if f.State != nil && p.deploy.RollbackWindow != nil {
				f.State.RollbackWindow = *p.deploy.RollbackWindow
			}
		}
	}
	run, later, v, err := runner.Schedule(f, p.migs, phase, force, reason)
	if err != nil {
		if conn != nil {
			printSized(s.Out, p.migs)
		}
		return refused(err)
	}
	runner.PrintPlan(s.Out, run, later, phase)
	for _, w := range v.Wait {
		fmt.Fprintf(s.Out, "%s waits: %s\n", w.Migration.Path, w.Reason)
	}
	if conn == nil {
		return nil
	}
	printSized(s.Out, append(slices.Clone(run), later...))
	dc, closeFn, err := df.dataChecks(ctx, p.cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	if dc == nil {
		return nil
	}
	var q datacheck.Querier = conn
	if dc.Replica != nil {
		q = dc.Replica
	}
	res, err := runner.PendingDataChecks(ctx, conn, q, p.migs, dc.Options)
	if err != nil {
		return usage(fmt.Errorf("data checks: %w", err))
	}
	if printDataChecks(s.Out, res) {
		return refused(errors.New("a pending migration would fail on the live data (see the data checks above)"))
	}
	return nil
}
