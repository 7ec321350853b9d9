package cli

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/spf13/cobra"
)

// ExplainOptions are the arguments of bgmigrate explain.
type ExplainOptions struct {
	IO   *IOStreams
	Rule string
}

func newCmdExplain(s *IOStreams) *cobra.Command {
	opts := &ExplainOptions{IO: s}
	return &cobra.Command{
		Use:   "explain RULE",
		Short: "Print a rule's documentation: why, the lock, the safe recipe",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Rule = args[0]
			return explainRun(opts)
		},
	}
}

func explainRun(opts *ExplainOptions) error {
	r := rules.ByID(strings.ToLower(opts.Rule))
	if r == nil {
		return usageError("unknown rule %q (see bgmigrate rules)", opts.Rule)
	}
	fmt.Fprint(opts.IO.Out, Explain(r))
	return nil
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
