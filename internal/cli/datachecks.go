package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/datacheck"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/bgmigrate/bgmigrate/tablestats"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

// dataFlags are the flags of the commands that count the live rows the
// pending migrations would fail on (plan, migrate, gate, deploy); they
// beat the configuration's data_checks: section.
type dataFlags struct {
	NoDataChecks bool
	DataTimeout  time.Duration
	SampleAbove  int
	ReplicaURL   string
	changed      func(string) bool
}

func (d *dataFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&d.NoDataChecks, "no-data-checks", false, "do not count the live rows the pending migrations would fail on (default data_checks.disable)")
	f.DurationVar(&d.DataTimeout, "data-timeout", datacheck.DefaultTimeout, "statement_timeout of each count of live rows (default data_checks.timeout)")
	f.IntVar(&d.SampleAbove, "data-sample-above", 10_000_000, "count a table estimated larger than this many rows on a TABLESAMPLE sample and scale the count; 0 never samples (default data_checks.sample_above_rows)")
	f.StringVar(&d.ReplicaURL, "replica-url", "", "PostgreSQL URL of a read replica to count the live rows on (read only) instead of the primary")
	d.changed = f.Changed
}

func (d *dataFlags) dataChanged(name string) bool { return d.changed != nil && d.changed(name) }

// dataChecks returns what the counts run with, nil when they are off;
// closeFn closes the replica's connection.
func (d *dataFlags) dataChecks(ctx context.Context, cfg *config.Config) (dc *runner.DataChecks, closeFn func(), err error) {
	closeFn = func() {}
	if d.NoDataChecks || (cfg.DataChecks.Disable && !d.dataChanged("no-data-checks")) {
		return nil, closeFn, nil
	}
	dc = dataChecksOf(cfg)
	if d.dataChanged("data-timeout") {
		if d.DataTimeout <= 0 {
			// A count with no time limit could hold a replica's or the
			// primary's resources for hours: refused, not read as "none".
			return nil, closeFn, usageError("--data-timeout %s: want a duration above 0s", d.DataTimeout)
		}
		dc.Timeout = d.DataTimeout
	}
	if d.dataChanged("data-sample-above") {
		if d.SampleAbove < 0 {
			return nil, closeFn, usageError("--data-sample-above %d: want 0 or more rows", d.SampleAbove)
		}
		dc.SampleAbove = int64(d.SampleAbove)
	}
	if d.ReplicaURL != "" {
		conn, err := connect(ctx, d.ReplicaURL)
		if err != nil {
			return nil, closeFn, err
		}
		dc.Replica = conn
		closeFn = func() { conn.Close(context.WithoutCancel(ctx)) }
	}
	return dc, closeFn, nil
}

// dataChecksOf is the configuration's data_checks: section as the runner
// takes it; nil when it turns the counts off.
func dataChecksOf(cfg *config.Config) *runner.DataChecks {
	if cfg.DataChecks.Disable {
		return nil
	}
	return &runner.DataChecks{Options: datacheck.Options{
		Timeout:     cfg.DataChecks.TimeoutOrDefault(),
		SampleAbove: cfg.DataChecks.SampleAbove(),
	}}
}

// printDataChecks prints the counts and reports whether a pending
// migration is known to fail.
func printDataChecks(w io.Writer, res []datacheck.Result) (failing bool) {
	if len(res) == 0 {
		return false
	}
	fmt.Fprintln(w, "data checks (the live rows each pending statement would fail on):")
	for _, r := range res {
		fmt.Fprintf(w, "  %s\n", r.Message())
		failing = failing || r.Failing()
	}
	return failing
}

// withTableSizes reads the sizes of the live database's tables and lints
// the migrations again with them, so that the findings about locks and
// rewrites carry their table's size and rules.small_table_rows sets their
// severity (as lint --dsn does).
func (p *project) withTableSizes(ctx context.Context, conn *pgx.Conn) error {
	tables, err := tablestats.Read(ctx, conn)
	if err != nil {
		return usage(fmt.Errorf("read table sizes: %w", err))
	}
	migs, err := loadMigrations(ctx, p.cfg, p.dir, p.pgFlag, tables)
	if err != nil {
		return err
	}
	p.migs, p.sized = migs, true
	return nil
}

// printSized prints the pending migrations' findings that carry their
// table's size.
func printSized(w io.Writer, migs []*runner.Migration) {
	var lines []string
	for _, m := range migs {
		for _, fd := range m.Sized {
			lines = append(lines, fmt.Sprintf("  %s:%d:%d: %s: %s [%s]", fd.Path, fd.Span.Start.Line, fd.Span.Start.Column, fd.Severity, fd.Message, fd.Rule))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "table sizes (from the live database's statistics):")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// sizedConfig is the rules' configuration with the live table sizes.
func sizedConfig(cfg *config.Config, tables map[string]rules.TableStats) rules.Config {
	rc := cfg.RulesConfig()
	if tables != nil {
		rc.Tables, rc.SmallTableRows = tables, cfg.SmallTableRowsLimit()
	}
	return rc
}
