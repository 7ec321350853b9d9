package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/trace"
	"github.com/spf13/cobra"
)

// TraceOptions are the flags of bgmigrate trace.
type TraceOptions struct {
	IO *IOStreams
	projectFlags
	DevURL             string
	Format             string
	Rows               int
	FailOnDisagreement bool
	LockTimeout        time.Duration
	StatementTimeout   time.Duration
}

func newCmdTrace(s *IOStreams) *cobra.Command {
	opts := &TraceOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "trace [PATH...]",
		Short: "Run migrations on a scratch database and show what PostgreSQL did to each statement, beside lint's prediction",
		Long: `Create a scratch database on the server --dev-url names (a PostgreSQL URL, or
docker://IMAGE), apply the migrations before the traced ones, then run each
statement of the traced files as bgmigrate migrate would (the same
transactions and timeouts) and record the relation locks it took, the
tables and indexes it rewrote, the tables it scanned, the rows it touched
and its duration, beside lint's prediction (lock, rewrite, scan). The
scratch database is dropped at the end, also on failure or interrupt; the
database --dev-url names and every other is left as it is.

PATHs choose the files to trace (default: every migration of --dir). With
--rows N every table that exists before them first gets N synthetic rows,
so that durations mean something. Statements that act outside the scratch
database (roles, databases, tablespaces, COPY) are not run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return opts.run(cmd.Context(), args)
		},
	}
	opts.projectFlags.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&opts.DevURL, "dev-url", "", "server of the scratch database: a PostgreSQL URL or docker://IMAGE (default deploy.gate.dev_url)")
	f.StringVar(&opts.Format, "format", "text", "output format: text or json")
	f.IntVar(&opts.Rows, "rows", 0, "synthetic rows for every existing table before the trace")
	f.BoolVar(&opts.FailOnDisagreement, "fail-on-disagreement", false, "exit 1 when lint's prediction of a statement disagrees with the trace")
	f.DurationVar(&opts.LockTimeout, "lock-timeout", 2*time.Second, "lock_timeout of every statement")
	f.DurationVar(&opts.StatementTimeout, "statement-timeout", 0, "statement_timeout of every statement (0: none)")
	return cmd
}

func (o *TraceOptions) run(ctx context.Context, paths []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Format != "text" && o.Format != "json" {
		return usageError("--format %q: want text or json", o.Format)
	}
	if o.Rows < 0 {
		return usageError("--rows %d: want 0 or more", o.Rows)
	}
	p, err := o.load(ctx, o.IO)
	if err != nil {
		return err
	}
	devURL := o.DevURL
	if devURL == "" && p.deploy != nil {
		devURL = p.deploy.Gate.DevURL
	}
	if devURL == "" {
		return usageError("no dev server: pass --dev-url (a PostgreSQL URL or docker://IMAGE), or set deploy.gate.dev_url")
	}
	want := map[string]bool{}
	for _, a := range paths {
		want[filepath.ToSlash(filepath.Clean(a))] = true
	}
	found := map[string]bool{}
	traced := func(i int) bool {
		path := filepath.ToSlash(filepath.Clean(p.migs[i].Path))
		if len(want) == 0 || want[path] {
			found[path] = true
			return true
		}
		return false
	}
	for i := range p.migs {
		traced(i)
	}
	for a := range want {
		if !found[a] {
			return usageError("%s is not a migration of %s", a, p.dir)
		}
	}
	res, err := trace.Run(ctx, p.migs, traced, trace.Options{DevURL: devURL, Rows: o.Rows,
		LockTimeout: o.LockTimeout, StatementTimeout: o.StatementTimeout, Log: o.IO.ErrOut})
	if err != nil {
		return usage(err)
	}
	if o.Format == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printTrace(o.IO, res)
	}
	if o.FailOnDisagreement && len(res.Disagreements()) > 0 {
		return errFindings
	}
	return nil
}

func printTrace(s *IOStreams, res *trace.Result) {
	w := s.Out
	var total, agree, judged int
	for _, f := range res.Files {
		for _, st := range f.Statements {
			total++
			fmt.Fprintf(w, "%s:%d  %s\n", f.Path, st.Line, firstLineOf(st.SQL))
			switch {
			case st.Skipped != "":
				fmt.Fprintf(w, "    not run: %s\n", st.Skipped)
				continue
			case st.Error != "":
				fmt.Fprintf(w, "    failed: %s\n", st.Error)
				continue
			}
			var locks []string
			for _, l := range st.Locks {
				locks = append(locks, l.Mode+" on "+l.Table)
			}
			seen := "took"
			if st.Observed == "sampled" {
				seen = "seen holding (sampled: it runs outside a transaction)"
			}
			fmt.Fprintf(w, "    %s: %s; rewrote: %s; scanned: %s; rows: %d; %.1f ms\n", seen, orNone(strings.Join(locks, ", ")),
				orNone(strings.Join(append(st.Rewritten, st.Truncated...), ", ")), orNone(strings.Join(st.Scanned, ", ")), st.Rows, st.DurationMS)
			pred := orNone(st.Predicted.Lock)
			if st.Predicted.Table != "" && st.Predicted.Lock != "" {
				pred += " on " + st.Predicted.Table
			}
			if st.Predicted.Rewrite {
				pred += ", rewrite"
			} else if st.Predicted.Scan {
				pred += ", scan"
			}
			verdict := "not judged"
			if st.Agrees != nil {
				judged++
				verdict = "agrees"
				if *st.Agrees {
					agree++
				} else {
					verdict = "DISAGREES: " + strings.Join(st.Differences, "; ")
				}
			}
			fmt.Fprintf(w, "    lint: %s — %s\n", pred, verdict)
		}
	}
	fmt.Fprintf(w, "\n%d statements traced, %d judged: %d agree with lint, %d disagree\n", total, judged, agree, judged-agree)
	for _, d := range res.Disagreements() {
		fmt.Fprintf(w, "  %s:%d %s: %s\n", d.Path, d.Line, firstLineOf(d.SQL), strings.Join(d.Differences, "; "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func firstLineOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
