package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/spf13/cobra"
)

// RulesOptions are the flags of bgmigrate rules (none yet).
type RulesOptions struct {
	IO *IOStreams
}

func newCmdRules(s *IOStreams) *cobra.Command {
	opts := &RulesOptions{IO: s}
	return &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return rulesRun(opts)
		},
	}
}

func rulesRun(opts *RulesOptions) error {
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tGROUP\tPOSTGRES\tSUMMARY")
	for _, r := range rules.All() {
		group := "default"
		if r.Style {
			group = "style"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, group, versions(r), r.Summary)
	}
	return tw.Flush()
}

func versions(r *rules.Rule) string {
	switch {
	case r.MinPG > 0 && r.MaxPG > 0:
		return fmt.Sprintf("%d-%d", r.MinPG, r.MaxPG)
	case r.MinPG > 0:
		return fmt.Sprintf("%d+", r.MinPG)
	case r.MaxPG > 0:
		return fmt.Sprintf("≤%d", r.MaxPG)
	}
	return "all"
}
