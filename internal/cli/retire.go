package cli

import (
	"context"
	"fmt"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/spf13/cobra"
)

// RetireOptions are the flags of bgmigrate retire.
type RetireOptions struct {
	DeployOptions
	Color  string
	Reason string
}

func newCmdRetire(s *IOStreams) *cobra.Command {
	opts := &RetireOptions{DeployOptions: DeployOptions{IO: s}}
	cmd := &cobra.Command{
		Use:   "retire [--color COLOR]",
		Short: "Stop the old color, so the contract migrations it held back may run",
		Long: `With a deploy: section in the configuration: the color standing by as the
rollback target stops being one, its scale-down hook runs, and the contract
migrations it held back may run. --color COLOR also stops a failed or
rolled-back deployment left running for inspection. A rerun finishes an
interrupted retire.

Without one: record a retirement in the migration history (--color,
--reason), which lets contract migrations run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return retireRun(cmd.Context(), opts)
		},
	}
	opts.DeployOptions.flags(cmd)
	cmd.Flags().StringVar(&opts.Color, "color", "", "the color to stop (default: the rollback target)")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "a note recorded with the retirement (without a deploy: section)")
	return cmd
}

func retireRun(ctx context.Context, opts *RetireOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var color switcher.Color
	if opts.Color != "" {
		c, err := switcher.ParseColor(opts.Color)
		if err != nil {
			return usageError("--color: %v", err)
		}
		color = c
	}
	if opts.hasDeployConfig() {
		return opts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error { return d.Retire(ctx, color) })
	}
	cfg, dc, err := opts.config(opts.IO)
	if err != nil {
		return err
	}
	conn, _, err := (&project{cfg: cfg, deploy: dc}).connect(ctx, opts.DSN, opts.IO)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := runner.Retire(ctx, conn, opts.Color, appliedBy(), opts.Reason); err != nil {
		return usage(err)
	}
	fmt.Fprintln(opts.IO.Out, "old color retired: contract migrations may run")
	return nil
}
