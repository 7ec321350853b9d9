package cli

import (
	"context"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/spf13/cobra"
)

// SwitchOptions are the flags of bgmigrate switch.
type SwitchOptions struct {
	DeployOptions
	To string
}

func newCmdSwitch(s *IOStreams) *cobra.Command {
	opts := &SwitchOptions{DeployOptions: DeployOptions{IO: s}}
	cmd := &cobra.Command{
		Use:   "switch --to COLOR",
		Short: "Switch traffic by hand to a color that is ready or stands by, after the gate",
		Long: `Move all traffic to COLOR, which must hold a deployment that is ready or
stands by as the rollback target, after the gate and a readiness probe. A
rerun finishes an interrupted switch; a color taking traffic that the record
does not have as active (moved outside bgmigrate) is adopted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return switchRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&opts.To, "to", "", "blue or green")
	return cmd
}

func switchRun(ctx context.Context, opts *SwitchOptions) error {
	c, err := switcher.ParseColor(opts.To)
	if err != nil {
		return usageError("--to: %v", err)
	}
	return opts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error { return d.Switch(ctx, c) })
}
