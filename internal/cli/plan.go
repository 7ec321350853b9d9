package cli

import (
	"context"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/spf13/cobra"
)

// PlanOptions are the flags of bgmigrate plan.
type PlanOptions struct {
	IO *IOStreams
	projectFlags
	DSN string
	dataFlags
}

func newCmdPlan(s *IOStreams) *cobra.Command {
	opts := &PlanOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what runs before the switch and what waits, and whether a deploy would be refused",
		Long: `Print every pending migration with its transaction grouping, lock and
class: what runs before the switch and what waits, and why each contract
migration waits. With a deploy: section in the configuration it also
evaluates the next deploy as bgmigrate deploy --dry-run does: the state of
both colors, the lint verdicts, the contract rule and the gate's comparison of
both colors' schemas with the schema the live database will have once the
expand migrations ran (replayed on the dev database).

With a database, the findings about locks and rewrites of the pending
migrations carry their tables' sizes and estimated lock durations (as lint
--dsn prints them; rules.small_table_rows sets their severity), and the live
rows each pending statement would fail on are counted: NULLs under SET NOT
NULL, duplicates under a unique index or constraint, orphans under a
foreign key, rows a CHECK rejects, values a type change cannot convert
("003 will fail: 50 rows of users have name NULL"). Each count is read only,
bounded by --data-timeout, sampled above --data-sample-above rows, and runs
on --replica-url when given. Exit 1 when a pending migration is known to
fail or the deploy would be refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return planRun(cmd.Context(), opts)
		},
	}
	opts.projectFlags.register(cmd, true)
	cmd.Flags().StringVar(&opts.DSN, "dsn", "", "PostgreSQL URL (default deploy.database_url, then $DATABASE_URL)")
	opts.dataFlags.register(cmd)
	return cmd
}

func planRun(ctx context.Context, opts *PlanOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p, err := opts.load(ctx, opts.IO)
	if err != nil {
		return err
	}
	if err := dryRun(ctx, opts.IO, p, opts.DSN, runner.PhaseAll, false, "", &opts.dataFlags); err != nil {
		return err
	}
	if p.deploy == nil {
		return nil
	}
	do := &DeployOptions{IO: opts.IO, projectFlags: opts.projectFlags, DSN: opts.DSN, Format: "text"}
	return do.run(ctx, func(ctx context.Context, d *deploy.Deployer) error {
		d.Report = deploy.Discard
		return d.Plan(ctx, opts.IO.Out, deploy.DeployOptions{Version: "next"})
	})
}
