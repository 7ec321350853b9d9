package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/lint"
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/tablestats"
	"github.com/spf13/cobra"
)

// LintOptions are the flags of bgmigrate lint.
type LintOptions struct {
	IO *IOStreams

	Paths        []string
	Format       string
	PGVersion    int
	FailOn       string
	Rules        []string
	ExcludeRules []string
	Style        bool
	Tool         string
	StdinName    string
	AssumeTx     bool
	Quiet        bool
	ChangedSince string
	ConfigPath   string
	SARIFFile    string
	JSONFile     string
	MarkdownFile string
	GitHubOutput string
	// DSN, when set, names a live database to read table sizes from.
	DSN string
	// Cache, when set, is the directory parse trees are kept in between runs.
	Cache string
	// Changed reports whether a flag was set on the command line (flags
	// beat the config file).
	Changed func(name string) bool
}

func newCmdLint(s *IOStreams, runF func(*LintOptions) error) *cobra.Command {
	opts := &LintOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Lint migrations and classify them for blue-green deploys",
		Long: `Lint SQL migrations: files, directories (searched recursively) and glob
patterns (** for any depth), or "-" for standard input. Files are grouped into
migration sets by directory and replayed in the order their tool applies them,
so every file is checked against the schema the earlier ones built.

Exit codes: 0 nothing at the --fail-on level, 1 findings at that level (syntax
errors included), 2 usage, configuration or I/O errors.`,
		Example: `  bgmigrate lint db/migrations
  bgmigrate lint --format json 'migrations/**/*.up.sql'
  git show HEAD:db/0042_add.sql | bgmigrate lint - --stdin-filename db/0042_add.sql`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.Changed = cmd.Flags().Changed
			if runF != nil {
				return runF(opts)
			}
			return lintRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "", "output format: text, json, sarif, github, gitlab or markdown (default github when GITHUB_ACTIONS=true, else text)")
	f.StringVar(&opts.SARIFFile, "sarif-file", "", "also write a SARIF 2.1.0 report to this file")
	f.StringVar(&opts.JSONFile, "json-file", "", "also write the JSON report to this file")
	f.StringVar(&opts.MarkdownFile, "markdown-file", "", "also write the Markdown summary to this file")
	f.StringVar(&opts.GitHubOutput, "github-output", "", "append sarif-file, worst-class and findings to this GitHub Actions output file")
	f.IntVar(&opts.PGVersion, "pg-version", 15, "PostgreSQL major version the migrations run on")
	f.StringVar(&opts.FailOn, "fail-on", "error", "lowest severity that makes the exit code 1: error, warning, info or none")
	f.StringSliceVar(&opts.Rules, "rules", nil, "run only these rules (comma-separated ids)")
	f.StringSliceVar(&opts.ExcludeRules, "exclude-rules", nil, "turn these rules off (comma-separated ids)")
	f.BoolVar(&opts.Style, "style", false, "also run the opt-in style rules")
	f.StringVar(&opts.Tool, "tool", "auto", "migration tool format: "+formatList())
	f.StringVar(&opts.StdinName, "stdin-filename", "", "the file name to report for input read from -")
	f.BoolVar(&opts.AssumeTx, "assume-in-transaction", false, "treat plain .sql files as run inside a transaction")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print class lines only for files with findings")
	f.StringVar(&opts.ConfigPath, "config", "", "config file (default: .bgmigrate.yaml found from the working directory up to the repository root)")
	f.StringVar(&opts.DSN, "dsn", "", "PostgreSQL URL of a database to read table sizes from: findings about locks and rewrites then carry the table's size and an estimated lock duration, and rules.small_table_rows sets their severity")
	f.StringVar(&opts.Cache, "cache", "", "keep parse trees in this directory between runs, so unchanged migrations are not parsed again (off by default)")
	f.StringVar(&opts.ChangedSince, "changed-since", "", "lint only migrations added or modified since the merge base of this git ref (the release); the others still build the schema")
	return cmd
}

func formatList() string {
	var names []string
	for _, f := range parser.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// loadConfig finds and reads the config file; a missing file is the defaults.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		found, err := config.Find(".")
		if err != nil {
			return nil, usage(err)
		}
		path = found
	}
	if path == "" {
		return config.Default(), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usage(err)
	}
	return cfg, nil
}

// applyConfig fills the options the command line left unset from the file.
func (opts *LintOptions) applyConfig(cfg *config.Config) {
	changed := opts.Changed
	if changed == nil {
		changed = func(string) bool { return true }
	}
	if !changed("pg-version") {
		opts.PGVersion = cfg.PGVersion
	}
	if !changed("fail-on") {
		opts.FailOn = cfg.FailOn
	}
	if !changed("style") {
		opts.Style = cfg.Style
	}
	if !changed("assume-in-transaction") {
		opts.AssumeTx = cfg.AssumeInTransaction
	}
	if len(opts.Paths) == 0 {
		opts.Paths = cfg.MigrationDirs()
	}
}

func lintRun(ctx context.Context, opts *LintOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := loadConfig(opts.ConfigPath)
	if err != nil {
		return err
	}
	opts.applyConfig(cfg)
	if len(opts.Paths) == 0 {
		return usageError("lint needs at least one path (a file, a directory, a glob, or - for standard input), or migrations: in .bgmigrate.yaml")
	}
	failOn := rules.Severity(0)
	if opts.FailOn != "none" {
		sev, err := rules.ParseSeverity(opts.FailOn)
		if err != nil {
			return usageError("--fail-on: %v", err)
		}
		failOn = sev
	}
	tool := parser.Format(opts.Tool)
	if !validFormat(tool) {
		return usageError("--tool: unknown format %q (want %s)", opts.Tool, formatList())
	}
	if opts.Format == "" {
		opts.Format = "text"
		if opts.IO.Env("GITHUB_ACTIONS") == "true" {
			opts.Format = "github"
		}
	}
	if !slices.Contains(Formats, opts.Format) {
		return usageError("--format: unknown format %q (want %s)", opts.Format, strings.Join(Formats, ", "))
	}
	if opts.PGVersion < 9 || opts.PGVersion > 18 {
		return usageError("--pg-version: %d is not a supported PostgreSQL major version (9 to 18)", opts.PGVersion)
	}
	rc := cfg.RulesConfig()
	rc.PGVersion, rc.Style, rc.AssumeInTransaction = opts.PGVersion, opts.Style, opts.AssumeTx
	if len(opts.Rules) > 0 {
		rc.Only = opts.Rules
	}
	rc.Exclude = append(rc.Exclude, opts.ExcludeRules...)
	if opts.DSN != "" {
		tables, err := readTableStats(ctx, opts.DSN)
		if err != nil {
			return err
		}
		rc.Tables, rc.SmallTableRows = tables, cfg.SmallTableRowsLimit()
	}
	perFile := func(p string) (parser.Format, int) {
		v := cfg.PGVersionFor(p)
		if v == cfg.PGVersion || (opts.Changed != nil && opts.Changed("pg-version")) {
			v = 0 // the run's version
		}
		return cfg.FormatFor(p), v
	}
	var prepare func(*parser.File)
	if cfg.Runner == config.RunnerBgmigrate {
		// Linted as bgmigrate migrate runs them: a file in one transaction
		// unless it holds a statement that cannot run in one.
		prepare = func(f *parser.File) { f.Tx = parser.AutoTx(f) }
	}
	res, err := lint.Run(ctx, lint.Options{
		Paths: opts.Paths, Stdin: opts.IO.In, StdinName: opts.StdinName, Format: tool, ChangedSince: opts.ChangedSince,
		Rules: rc, Exclude: cfg.Excluded, PerFile: perFile, Prepare: prepare, CacheDir: opts.Cache,
		TuneGC: opts.IO.Env("GOGC") == "" && opts.IO.Env("GOMEMLIMIT") == "",
	})
	if err != nil {
		return usage(err)
	}
	if err := writeReport(opts.IO.Out, opts.Format, res, opts); err != nil {
		return usage(fmt.Errorf("write output: %w", err))
	}
	if err := writeFiles(res, opts); err != nil {
		return usage(err)
	}
	if failOn > 0 && res.Count(failOn) > 0 {
		return errFindings
	}
	return nil
}

// readTableStats reads the sizes of the tables of the database dsn names;
// it gives up after statsTimeout, so that lint never hangs on a server that
// does not answer.
func readTableStats(ctx context.Context, dsn string) (map[string]rules.TableStats, error) {
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tables, err := tablestats.Read(ctx, conn)
	if err != nil {
		return nil, usage(fmt.Errorf("%s: %w", Redact(dsn), err))
	}
	return tables, nil
}

// statsTimeout bounds lint --dsn's connection and reading of table sizes.
const statsTimeout = 30 * time.Second

func validFormat(f parser.Format) bool {
	for _, k := range parser.Formats {
		if k == f {
			return true
		}
	}
	return false
}
