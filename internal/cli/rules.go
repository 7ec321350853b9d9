package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/spf13/cobra"
)

func newCmdRules(s *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tSEVERITY\tGROUP\tPOSTGRES\tSUMMARY")
			for _, r := range rules.All() {
				group := "default"
				if r.Style {
					group = "style"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, group, versions(r), r.Summary)
			}
			return tw.Flush()
		},
	}
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

func newCmdExplain(s *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "explain RULE",
		Short: "Print a rule's documentation: why, the lock, the safe recipe",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := rules.ByID(strings.ToLower(args[0]))
			if r == nil {
				return usageError("unknown rule %q (see bgmigrate rules)", args[0])
			}
			fmt.Fprint(s.Out, Explain(r))
			return nil
		},
	}
}

// Explain renders a rule's documentation as Markdown.
func Explain(r *rules.Rule) string {
	var b strings.Builder
	group := ""
	if r.Style {
		group = ", style group (opt-in: --style)"
	}
	fmt.Fprintf(&b, "# %s\n\n%s.\n\nSeverity: %s%s. PostgreSQL: %s. Since %s.\n\n%s\n\n**Fix.** %s.\n",
		r.ID, upperFirst(r.Summary), r.Severity, group, versions(r), r.Since, strings.TrimSpace(r.Doc), upperFirst(r.Help))
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
