package cli

import (
	"context"
	"encoding/json"

	"github.com/bgmigrate/bgmigrate/deploy"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/spf13/cobra"
)

// StatusOptions are the flags of bgmigrate status.
type StatusOptions struct {
	DeployOptions
	Events int
}

func newCmdStatus(s *IOStreams) *cobra.Command {
	opts := &StatusOptions{DeployOptions: DeployOptions{IO: s}}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show both colors, the traffic, the rollback window, what needs attention and the pending migrations",
		Long: `With a deploy: section in the configuration: both colors with their versions
and states, where the load balancer sends traffic (the record is reconciled
with it, and a load balancer that disagrees with itself is repaired), the
rollback target and its window (a target whose window ended is retired here),
every interrupted command with how to finish it, failed colors left running,
the pending expand and contract migrations with why each contract waits, what
the decision answers for deploy and rollback, and the last events.

Without one: the applied and pending migrations, the contract gate and the
migration lock holder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return statusRun(cmd.Context(), opts)
		},
	}
	opts.DeployOptions.flags(cmd)
	cmd.Flags().IntVar(&opts.Events, "events", 10, "how many of the last events to show")
	return cmd
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.hasDeployConfig() {
		format := opts.Format
		opts.Format = "text"
		d, closeFn, err := opts.deployer(ctx)
		if err != nil {
			return err
		}
		defer closeFn()
		d.Report = deploy.Discard
		r, err := d.Status(ctx, opts.Events)
		if err != nil {
			return usage(err)
		}
		if format == "json" {
			enc := json.NewEncoder(opts.IO.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}
		r.Print(opts.IO.Out)
		return nil
	}
	if opts.Format != "text" {
		return usageError("--format json needs a deploy: section in the configuration")
	}
	p, err := opts.load(ctx, opts.IO)
	if err != nil {
		return err
	}
	conn, _, err := p.connect(ctx, opts.DSN, opts.IO)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	st, err := runner.ReadStatus(ctx, conn, p.migs, runner.Options{})
	if err != nil {
		return usage(err)
	}
	st.Print(opts.IO.Out)
	return nil
}
