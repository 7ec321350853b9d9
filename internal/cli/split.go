package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bgmigrate/bgmigrate/split"
	"github.com/spf13/cobra"
)

// SplitOptions are the flags of bgmigrate split.
type SplitOptions struct {
	IO        *IOStreams
	Write     bool
	Format    string
	PGVersion int
	Fill      []string
}

func newCmdSplit(s *IOStreams) *cobra.Command {
	opts := &SplitOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "split FILE",
		Short: "Turn a breaking or mixed migration into expand and contract migrations",
		Long: `Read a migration and, for each breaking or mixed statement, write the safe
sequence: expand migrations (one of its own for a step that must run outside
a transaction), contract migrations, the backfill directives they need, and
a note of what the application must do between them, in the migration
tool's format and naming. The schema before FILE is replayed from the
earlier migrations of its set, as lint does.

Without --write the files are printed; with --write they are written: the
first takes FILE's place, the others the next free versions of the tool's
scheme. Statements that are already safe stay where they are. A statement
that cannot be split is named with the reason, and the exit code is 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return opts.run(args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Write, "write", false, "write the migrations (FILE is replaced)")
	f.StringVar(&opts.Format, "format", "text", "output format: text or json")
	f.IntVar(&opts.PGVersion, "pg-version", 15, "PostgreSQL major version")
	f.StringArrayVar(&opts.Fill, "fill", nil, "TABLE.COLUMN=EXPR: the value existing rows get when a NOT NULL column without a default is split (repeatable)")
	return cmd
}

type splitJSON struct {
	Source   string          `json:"source"`
	Changed  bool            `json:"changed"`
	Written  bool            `json:"written"`
	Files    []splitFileJSON `json:"files"`
	Notes    []string        `json:"notes"`
	Problems []split.Problem `json:"problems"`
}

type splitFileJSON struct {
	Path          string `json:"path"`
	Phase         string `json:"phase"`
	Replaces      bool   `json:"replaces"`
	NoTransaction bool   `json:"no_transaction"`
	Content       string `json:"content"`
}

func (o *SplitOptions) run(file string) error {
	if o.Format != "text" && o.Format != "json" {
		return usageError("--format %q: want text or json", o.Format)
	}
	fill := map[string]string{}
	for _, f := range o.Fill {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !strings.Contains(k, ".") || strings.TrimSpace(v) == "" {
			return usageError("--fill %q: want TABLE.COLUMN=EXPR", f)
		}
		fill[k] = v
	}
	plan, files, err := split.PlanFile(file, split.Options{PGVersion: o.PGVersion, Fill: fill})
	if err != nil {
		return usage(err)
	}
	if o.Write && plan.Changed && len(plan.Problems) == 0 {
		if err := writeSplit(file, files); err != nil {
			return usage(err)
		}
	}
	written := o.Write && plan.Changed && len(plan.Problems) == 0
	if o.Format == "json" {
		out := splitJSON{Source: plan.Path, Changed: plan.Changed, Written: written, Files: []splitFileJSON{}, Notes: plan.Notes, Problems: plan.Problems}
		if out.Notes == nil {
			out.Notes = []string{}
		}
		if out.Problems == nil {
			out.Problems = []split.Problem{}
		}
		for i, f := range files {
			out.Files = append(out.Files, splitFileJSON{Path: f.Path, Phase: f.Phase.String(), Replaces: f.Replaces,
				NoTransaction: plan.Migrations[i].NoTransaction, Content: f.Content})
		}
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printSplit(o.IO, plan, files, written)
	}
	if len(plan.Problems) > 0 {
		return errFindings
	}
	return nil
}

func printSplit(s *IOStreams, plan *split.Plan, files []split.File, written bool) {
	w := s.Out
	switch {
	case len(plan.Problems) > 0:
		for _, p := range plan.Problems {
			fmt.Fprintf(w, "%s:%d: cannot split %s: %s\n", plan.Path, p.Line, p.Statement, p.Reason)
		}
		fmt.Fprintf(w, "nothing written: split the statements above by hand, or change them\n")
		return
	case !plan.Changed:
		fmt.Fprintf(w, "%s: nothing to split: every statement is safe where it is\n", plan.Path)
		return
	}
	if written {
		for _, f := range files {
			what := "new"
			if f.Replaces {
				what = "replaced"
			}
			fmt.Fprintf(w, "%s  %s (%s)\n", f.Path, f.Phase, what)
		}
	} else {
		for i, f := range files {
			what := "new file"
			if f.Replaces {
				what = "replaces the original"
			}
			tx := ""
			if plan.Migrations[i].NoTransaction {
				tx = ", outside a transaction"
			}
			fmt.Fprintf(w, "== %s (%s, %s%s)\n%s\n", f.Path, f.Phase, what, tx, f.Content)
		}
	}
	if len(plan.Notes) > 0 {
		fmt.Fprintf(w, "\nWhat the application must do:\n")
		for _, n := range plan.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	if !written {
		fmt.Fprintf(w, "\nrun with --write to write these files\n")
	}
}

// writeSplit writes the files: new ones first, the replacement of the
// source last, so that an interrupted write leaves the source as it was.
func writeSplit(source string, files []split.File) error {
	sort.SliceStable(files, func(i, j int) bool { return !files[i].Replaces && files[j].Replaces })
	for _, f := range files {
		path := filepath.FromSlash(f.Path)
		if !f.Replaces {
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s exists already", f.Path)
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		for p, content := range f.Extra {
			if err := os.WriteFile(filepath.FromSlash(p), []byte(content), 0o644); err != nil {
				return err
			}
		}
		if err := writeFileAtomic(path, []byte(f.Content)); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic replaces path through a temporary file in its directory.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bgmigrate-split-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
