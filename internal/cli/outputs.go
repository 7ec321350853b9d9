package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/bgmigrate/bgmigrate/lint"
	"github.com/bgmigrate/bgmigrate/report"
	"github.com/spf13/cobra"
)

// Version is bgmigrate's version, reported in SARIF.
var Version = "0.1.0"

// Formats lists the output formats of lint.
var Formats = []string{"text", "json", "sarif", "github", "gitlab", "markdown"}

// writeReport prints res in one format.
func writeReport(w io.Writer, format string, res *lint.Result, opts *LintOptions) error {
	switch format {
	case "text":
		return report.Text(w, res.Files, report.TextOptions{Color: opts.IO.ColorEnabled() && w == opts.IO.Out, Quiet: opts.Quiet})
	case "json":
		return report.JSON(w, report.Build(res.Files))
	case "sarif":
		return report.SARIF(w, report.Build(res.Files), Version)
	case "github":
		return report.GitHub(w, report.Build(res.Files))
	case "gitlab":
		return report.GitLab(w, report.Build(res.Files))
	case "markdown":
		return report.Markdown(w, report.Build(res.Files))
	}
	return fmt.Errorf("unknown format %q", format)
}

// writeFiles writes the extra outputs a run asked for: --sarif-file,
// --json-file, --markdown-file, the GitHub step summary and outputs.
func writeFiles(res *lint.Result, opts *LintOptions) error {
	for format, path := range map[string]string{"sarif": opts.SARIFFile, "json": opts.JSONFile, "markdown": opts.MarkdownFile} {
		if path == "" {
			continue
		}
		if err := writeOutput(path, false, func(w io.Writer) error { return writeReport(w, format, res, opts) }); err != nil {
			return err
		}
	}
	if opts.Format == "github" {
		if path := opts.IO.Env("GITHUB_STEP_SUMMARY"); path != "" {
			if err := writeOutput(path, true, func(w io.Writer) error { return report.StepSummary(w, report.Build(res.Files)) }); err != nil {
				return err
			}
		}
	}
	if opts.GitHubOutput != "" {
		rep := report.Build(res.Files)
		err := writeOutput(opts.GitHubOutput, true, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "sarif-file=%s\nworst-class=%s\nfindings=%d\n", opts.SARIFFile, rep.Summary.WorstClass,
				rep.Summary.Errors+rep.Summary.Warnings+rep.Summary.Infos)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writeOutput(path string, appendTo bool, write func(io.Writer) error) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// newCmdGitHubEventBase prints the base commit of the pull request an
// Actions event describes, for the GitHub Action's shell step.
func newCmdGitHubEventBase(s *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "github-event-base EVENT.json",
		Short:  "Print the base commit of a GitHub pull request event",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usage(err)
			}
			var ev struct {
				PullRequest *struct {
					Base struct {
						SHA string `json:"sha"`
					} `json:"base"`
				} `json:"pull_request"`
				Before string `json:"before"`
			}
			if err := json.Unmarshal(data, &ev); err != nil {
				return usage(fmt.Errorf("%s: %w", args[0], err))
			}
			switch {
			case ev.PullRequest != nil:
				fmt.Fprintln(s.Out, ev.PullRequest.Base.SHA)
			case ev.Before != "" && ev.Before != "0000000000000000000000000000000000000000":
				fmt.Fprintln(s.Out, ev.Before) // a push: lint what the push added
			}
			return nil
		},
	}
}
