package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/spf13/cobra"
)

// GateOptions are the flags of bgmigrate gate.
type GateOptions struct {
	IO *IOStreams
	projectFlags
	DSN               string
	DevURL            string
	OldVersion        string
	NewVersion        string
	Stage             string
	Format            string
	MaxTransactionAge time.Duration
	Schemas           []string
	Service           string
	Queries           string
	NewQueries        string
	dataFlags
}

func newCmdGate(s *IOStreams) *cobra.Command {
	opts := &GateOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "gate",
		Short: "Prove the live schema is right for both colors before the switch",
		Long: `Decide whether traffic may switch to the new color (--stage pre-switch) or
contract migrations may start (--stage pre-contract).

The migrations are replayed up to the old color's version and up to the new
color's version in a throwaway database on the dev server (--dev-url, else
deploy.gate.dev_url, else the database itself: a database
bgmigrate_gate_<random> is created and dropped, also the ones a killed run
left behind; or docker://IMAGE), and both schemas are compared with the live
one. The gate also checks the history (every expand migration applied with its
checksum, no breaking migration pending, no contract applied while the old
color is a rollback target) and the live sessions (INVALID indexes, the
migration lock, old transactions, lock queues on the release's tables).

--new-version defaults to the last migration of the directory; --old-version
to the last migration applied before the most recent run, told apart by the
deployment id of bgmigrate migrate --deployment (pass it when runs carry
none). "none" is the empty schema.

With the deployment state of bgmigrate deploy (--service, or deploy.service
of the configuration), the old version defaults to the schema version of the
deployment taking traffic, an interrupted command or an unfinished deployment
blocks both stages, and --stage pre-contract blocks while a pending contract
migration waits under the contract rule (see bgmigrate contract).

--queries SOURCE (and deploy.gate.queries) are the old color's queries, and
--new-queries (deploy.gate.new_queries) the new color's: a file of SQL
statements ($1 parameters allowed), or pg_stat_statements[?role=R&database=D]
read from the live database. Each is prepared, never run, on a scratch
database as the migrations are applied: the old color's at its own schema,
then after each migration up to the schema it will meet at the switch; the
new color's at that schema; both after each contract migration. A query that
stops preparing, or whose result columns change (the old color's prepared
statements would fail with "cached plan must not change result type"),
blocks, naming the query, the error and the migration.

The live rows each pending statement would fail on are counted (data
checks; --no-data-checks or data_checks.disable turns them off): NULLs under
SET NOT NULL, duplicates under a unique index or constraint, orphans under a
foreign key, rows a CHECK rejects, values a type change cannot convert. A
pending migration the new color needs that would fail blocks; a contract
migration that would fail is a risk before the switch and blocks
pre-contract. The findings about locks and rewrites of the pending
migrations carry their tables' sizes (read from pg_class; rules.
small_table_rows sets their severity): an error (a rewrite of a large table)
blocks the same way, a warning is a risk.

The migrations, the database (--dsn, deploy.database_url, $DATABASE_URL) and
the lint rules come from .bgmigrate.yaml as for every command.

Exit status: 0 allow, 1 block, 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return gateRun(cmd.Context(), opts)
		},
	}
	opts.projectFlags.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&opts.DSN, "dsn", "", "PostgreSQL URL of the live database (default deploy.database_url, then $DATABASE_URL)")
	f.StringVar(&opts.DevURL, "dev-url", "", "where the colors' schemas are replayed: a PostgreSQL URL or docker://IMAGE (default deploy.gate.dev_url, then the database)")
	f.StringVar(&opts.OldVersion, "old-version", "", "the last migration the old color's code needs (default: applied before the latest run)")
	f.StringVar(&opts.NewVersion, "new-version", "", "the last migration the new color's code needs (default: the last of the directory)")
	f.StringVar(&opts.Stage, "stage", string(gate.PreSwitch), "pre-switch or pre-contract")
	f.StringVar(&opts.Format, "format", "text", "text or json")
	f.DurationVar(&opts.MaxTransactionAge, "max-transaction-age", gate.DefaultMaxTransactionAge, "an older open transaction blocks")
	f.StringSliceVar(&opts.Schemas, "schema", nil, "schemas to compare (default: all but PostgreSQL's and bgmigrate's)")
	f.StringVar(&opts.Service, "service", "", "read the deployment state of this service (default deploy.service of .bgmigrate.yaml)")
	f.StringVar(&opts.Queries, "queries", "", "the old color's queries: a file of SQL statements, or pg_stat_statements[?role=R&database=D] (default deploy.gate.queries)")
	opts.dataFlags.register(cmd)
	f.StringVar(&opts.NewQueries, "new-queries", "", "the new color's queries, the same way (default deploy.gate.new_queries)")
	return cmd
}

func gateRun(ctx context.Context, opts *GateOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	stage, err := gate.ParseStage(opts.Stage)
	if err != nil {
		return usageError("%v", err)
	}
	if opts.Format != "text" && opts.Format != "json" {
		return usageError("unknown format %q (want text or json)", opts.Format)
	}
	p, err := opts.load(ctx, opts.IO)
	if err != nil {
		return err
	}
	dsn, err := p.databaseURL(opts.DSN, opts.IO)
	if err != nil {
		return err
	}
	devURL := p.devURL(opts.DevURL, dsn)
	if opts.Service == "" && p.deploy != nil {
		opts.Service = p.deploy.Service
	}
	schemas, maxAge := opts.Schemas, opts.MaxTransactionAge
	if p.deploy != nil {
		if len(schemas) == 0 {
			schemas = p.deploy.Gate.Schemas
		}
		if !opts.isChanged("max-transaction-age") && p.deploy.Gate.MaxTransactionAge > 0 {
			maxAge = p.deploy.Gate.MaxTransactionAge
		}
	}
	conn, err := connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var st *gate.State
	if opts.Service != "" {
		if st, err = live.ReadState(ctx, conn, opts.Service); err != nil {
			return usage(err)
		}
		if st != nil && p.deploy != nil && p.deploy.RollbackWindow != nil {
			st.RollbackWindow = *p.deploy.RollbackWindow
		}
	}
	oldQ, newQ, err := p.queries(ctx, conn, opts.Queries, opts.NewQueries)
	if err != nil {
		return err
	}
	if err := p.withTableSizes(ctx, conn); err != nil {
		return err
	}
	dc, closeData, err := opts.dataChecks(ctx, p.cfg)
	if err != nil {
		return err
	}
	defer closeData()
	in, _, err := live.Collect(ctx, conn, live.CollectOptions{
		Stage: stage, Migrations: p.migs, OldVersion: opts.OldVersion, NewVersion: opts.NewVersion,
		DevURL: devURL, Schemas: schemas, MaxTransactionAge: maxAge, Log: opts.IO.ErrOut, State: st,
		OldQueries: oldQ, NewQueries: newQ, Data: dc, Sized: p.sized,
	})
	if err != nil {
		var ve *live.VersionError
		if errors.As(err, &ve) {
			return usageError("%v", err)
		}
		return usage(err)
	}
	d := gate.Evaluate(in)
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return usage(err)
		}
	} else {
		printDecision(opts.IO.Out, in, d)
	}
	if !d.Allow {
		return errFindings
	}
	return nil
}

func printDecision(w io.Writer, in gate.Input, d gate.Decision) {
	old := in.OldVersion
	if old == "" {
		old = live.NoVersion
	}
	fmt.Fprintf(w, "gate %s: old color at %s, new color at %s\n", in.Stage, old, in.NewVersion)
	for _, c := range d.Checks {
		fmt.Fprintf(w, "  %-5s %-19s %s\n", c.Status, c.Name, c.Reason)
	}
	if d.Allow {
		fmt.Fprintln(w, "allow")
	} else {
		fmt.Fprintf(w, "block: %d checks failed\n", len(d.Blocks()))
	}
}
