package cli

import (
	"context"
	"fmt"

	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/spf13/cobra"
)

// BaselineOptions are the flags of bgmigrate baseline.
type BaselineOptions struct {
	IO *IOStreams
	projectFlags
	DSN  string
	From string
}

func newCmdBaseline(s *IOStreams) *cobra.Command {
	opts := &BaselineOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "baseline --from TOOL",
		Short: "Adopt bgmigrate: record what another tool already applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return baselineRun(cmd.Context(), opts)
		},
	}
	opts.projectFlags.register(cmd, true)
	cmd.Flags().StringVar(&opts.DSN, "dsn", "", "PostgreSQL URL (default deploy.database_url, then $DATABASE_URL)")
	cmd.Flags().StringVar(&opts.From, "from", "", "the tool whose history to read: dbmate, flyway, golang-migrate or goose")
	return cmd
}

func baselineRun(ctx context.Context, opts *BaselineOptions) error {
	if ctx == nil {
		ctx = context.Background()
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
	done, err := runner.Baseline(ctx, conn, opts.From, p.migs, appliedBy())
	if err != nil {
		return usage(err)
	}
	fmt.Fprintf(opts.IO.Out, "%d migrations recorded as applied from the %s history\n", len(done), opts.From)
	return nil
}
