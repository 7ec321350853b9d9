package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/spf13/cobra"
)

// DeployCmdOptions are the flags of bgmigrate deploy.
type DeployCmdOptions struct {
	DeployOptions
	Version string
	Steps   []int
	Resume  bool
	DryRun  bool
}

func newCmdDeploy(s *IOStreams) *cobra.Command {
	opts := &DeployCmdOptions{DeployOptions: DeployOptions{IO: s}}
	var steps string
	cmd := &cobra.Command{
		Use:   "deploy --version V",
		Short: "Release a version: expand, deploy the idle color, check, gate, switch, watch",
		Long: `Release version V of the service the deploy: section of .bgmigrate.yaml
describes, in the only safe order:

  lock → plan (lint, the state of both colors, and the gate's schema
  comparison of both colors against the schema after the expand migrations,
  replayed on the dev database: a refusal stops the deploy before anything
  changes) → expand migrations → deploy hook for the idle color → readiness →
  smoke checks → warm-up → gate → switch (at once, or in --steps with checks
  between them) → confidence window (automatic rollback on failure) → drain →
  the old color stands by as the rollback target for deploy.rollback_window.

Contract migrations wait until no color that may take traffic needs what
they remove (bgmigrate retire, or the window's end) and run with bgmigrate
contract. A failure before the switch leaves traffic where it was and the new
color running for inspection (bgmigrate retire --color stops it). Every step
is recorded before it acts: --resume finishes a deploy that was interrupted
(it reads the load balancer to know whether the switch happened), and
bgmigrate rollback undoes it. --dry-run prints the same steps, what each would
do and the reason the deploy would be refused, if any, and changes nothing.

Exit status: 0 released, 1 refused, failed or rolled back, 2 usage or
configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("steps") {
				var err error
				if opts.Steps, err = parseSteps(steps); err != nil {
					return usageError("--steps: %v", err)
				}
			}
			return deployRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd)
	cmd.Flags().StringVar(&opts.Version, "version", "", "the version to release (passed to the deploy hook as {version})")
	cmd.Flags().StringVar(&steps, "steps", "", "percentages of a gradual switch, e.g. 10,50,100 (a weighted switcher is needed)")
	cmd.Flags().BoolVar(&opts.Resume, "resume", false, "finish the interrupted deployment")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what the deploy would do and change nothing")
	return cmd
}

func deployRun(ctx context.Context, opts *DeployCmdOptions) error {
	if opts.Version == "" && !opts.Resume {
		return usageError("--version is required")
	}
	o := deploy.DeployOptions{Version: opts.Version, Resume: opts.Resume, Steps: opts.Steps}
	if opts.DryRun {
		return opts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error { return d.Plan(ctx, opts.IO.Out, o) })
	}
	return opts.run(ctx, func(ctx context.Context, d *deploy.Deployer) error { return d.Deploy(ctx, o) })
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
