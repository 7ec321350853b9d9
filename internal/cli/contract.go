package cli

import (
	"context"
	"strings"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/spf13/cobra"
)

// ContractOptions are the flags of bgmigrate contract.
type ContractOptions struct {
	DeployOptions
	Force  bool
	Reason string
}

func newCmdContract(s *IOStreams) *cobra.Command {
	opts := &ContractOptions{DeployOptions: DeployOptions{IO: s}}
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Apply the contract migrations no color that may take traffic still needs",
		Long: `Apply the pending contract migrations the decision allows: a contract
migration runs only when the color serving all traffic runs a release that
includes it and no other color that may take traffic (standing by as the
rollback target, draining, deploying, ready, or part of a split) runs a release
before it. Later ones wait, each named with why. A rollback target whose
window ended is retired here first. --force --reason runs them while a
rollback target still needs what they remove (it then stops being one), and
records why; it never runs a migration the color serving traffic needs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return contractRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "run while the old color is a rollback target (needs --reason)")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why --force is used; recorded in the history")
	return cmd
}

func contractRun(ctx context.Context, opts *ContractOptions) error {
	if opts.Force && strings.TrimSpace(opts.Reason) == "" {
		return usageError("--force needs --reason")
	}
	return opts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error {
		_, err := d.Contract(ctx, deploy.ContractOptions{Force: opts.Force, Reason: opts.Reason})
		return err
	})
}
