package cli

import (
	"context"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/spf13/cobra"
)

func newCmdRollback(s *IOStreams) *cobra.Command {
	opts := &DeployOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Send traffic back to the old color while it is the rollback target",
		Long: `Switch traffic back to the old color at once, after one readiness probe of
it. Refused (with the reason) when the old color was retired, its rollback
window ended, or a contract migration removed what it needs. A rerun of an
interrupted rollback finishes that rollback; a deploy interrupted after its
switch is undone; one interrupted before its switch is given up (recorded as
failed, its color left running for inspection).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return rollbackRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	return cmd
}

func rollbackRun(ctx context.Context, opts *DeployOptions) error {
	return opts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error { return d.Rollback(ctx) })
}
