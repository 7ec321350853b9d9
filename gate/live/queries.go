package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// StatStatements is the query source that reads the live database's
// pg_stat_statements.
const StatStatements = "pg_stat_statements"

// ReadQueries reads a color's queries from source: a file of SQL
// statements (one per ";", $1 parameters allowed; relative to dir unless
// absolute), or "pg_stat_statements", optionally "?role=R&database=D",
// read from live (the normalized queries, $1 for their constants).
// Statements that are not queries (DDL, SET, BEGIN…) are left out.
func ReadQueries(ctx context.Context, live *pgx.Conn, source, dir string) ([]gate.Query, error) {
	if rest, ok := strings.CutPrefix(source, StatStatements); ok && (rest == "" || strings.HasPrefix(rest, "?")) {
		return statStatements(ctx, live, strings.TrimPrefix(rest, "?"))
	}
	path := source
	if !filepath.IsAbs(path) && dir != "" {
		path = filepath.Join(dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("queries: %w", err)
	}
	f := parser.Parse(filepath.ToSlash(source), data, parser.Options{Format: parser.FormatPlain})
	if len(f.Errors) > 0 {
		return nil, fmt.Errorf("queries: %w", f.Errors[0])
	}
	var out []gate.Query
	for _, st := range f.Statements {
		if isQuery(st) {
			out = append(out, gate.Query{Source: fmt.Sprintf("%s:%d", source, st.Span.Start.Line), SQL: st.Text})
		}
	}
	return out, nil
}

func isQuery(st *parser.Statement) bool {
	switch strings.ToUpper(st.Tag) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE":
		return true
	}
	return false
}

// statStatements reads the normalized queries of pg_stat_statements,
// filtered by role and database ("role=app&database=shop").
func statStatements(ctx context.Context, live *pgx.Conn, filter string) ([]gate.Query, error) {
	if live == nil {
		return nil, errors.New("queries: pg_stat_statements needs the live database")
	}
	args, err := url.ParseQuery(filter)
	if err != nil {
		return nil, fmt.Errorf("queries: %s?%s: %w", StatStatements, filter, err)
	}
	var schema string
	if err := live.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`).Scan(&schema); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errors.New("queries: pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements, with shared_preload_libraries = 'pg_stat_statements')")
		}
		return nil, fmt.Errorf("queries: %w", err)
	}
	q := `SELECT s.query FROM ` + pgx.Identifier{schema, "pg_stat_statements"}.Sanitize() + ` s
		JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
		WHERE ($1 = '' OR r.rolname = $1) AND ($2 = '' OR d.datname = $2)
		GROUP BY s.query ORDER BY sum(s.calls) DESC, s.query`
	for k := range args {
		if k != "role" && k != "database" {
			return nil, fmt.Errorf("queries: %s: unknown filter %q (want role and database)", StatStatements, k)
		}
	}
	rows, err := live.Query(ctx, q, args.Get("role"), args.Get("database"))
	if err != nil {
		return nil, fmt.Errorf("queries: %s: %w", StatStatements, err)
	}
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("queries: %s: %w", StatStatements, err)
	}
	var out []gate.Query
	for _, text := range texts {
		f := parser.Parse(StatStatements, []byte(text), parser.Options{Format: parser.FormatPlain})
		if len(f.Errors) > 0 || len(f.Statements) != 1 || !isQuery(f.Statements[0]) {
			continue // a utility statement, or a query cut short by track_activity_query_size
		}
		out = append(out, gate.Query{Source: StatStatements, SQL: text})
	}
	return out, nil
}

// QueryOptions say which queries to prepare at which schemas.
type QueryOptions struct {
	DevURL     string
	Log        io.Writer
	Migrations []*runner.Migration
	// Base are the positions of the old color's schema, Meet those applied
	// after them to make the schema both colors meet at the switch (in
	// order), Contract the contract migrations that run once the old color
	// is retired (in order).
	Base, Meet, Contract []int
	Old, New             []gate.Query
}

// prepared is a query being followed through the migrations.
type prepared struct {
	q      gate.Query
	fields []pgconn.FieldDescription
	failed bool
}

// CheckQueries prepares (never runs) the colors' queries on a scratch
// database as the migrations are applied one by one: the old color's at
// its own schema first (a query that does not prepare there is not
// checked), then after each migration of Meet (a query that stops
// preparing, or whose result columns change, is a failure of the
// migration just applied); the new color's once Meet is applied; then
// both after each contract migration.
func CheckQueries(ctx context.Context, o QueryOptions) (*gate.QueryReport, error) {
	rep := &gate.QueryReport{Old: len(o.Old), New: len(o.New)}
	if len(o.Old) == 0 && len(o.New) == 0 {
		return rep, nil
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	conn, drop, err := Scratch(ctx, o.DevURL, log)
	if err != nil {
		return nil, err
	}
	defer drop()
	migs := ReplayCopies(o.Migrations)
	apply := func(pos []int) error {
		if len(pos) == 0 {
			return nil
		}
		var todo []*runner.Migration
		for _, p := range pos {
			todo = append(todo, migs[p])
		}
		_, err := runner.Migrate(ctx, conn, todo, runner.Options{
			Phase: runner.PhaseAll, Force: true, Reason: "gate queries", AppliedBy: "bgmigrate gate",
			LockTimeout: 10 * time.Second, Retries: 1, Log: io.Discard,
		})
		if err != nil {
			return fmt.Errorf("replay migrations up to %s: %w", todo[len(todo)-1].Version, err)
		}
		return nil
	}
	name := func(p int) string { return fmt.Sprintf("%s (%s)", o.Migrations[p].Version, o.Migrations[p].Path) }
	fmt.Fprintf(log, "preparing %d queries of the old color and %d of the new\n", len(o.Old), len(o.New))
	if err := apply(o.Base); err != nil {
		return nil, err
	}
	old := make([]*prepared, len(o.Old))
	for i, q := range o.Old {
		old[i] = &prepared{q: q}
		fields, err := prepare(ctx, conn, q.SQL)
		if err != nil {
			old[i].failed = true
			rep.OldNotPrepared++
			continue
		}
		old[i].fields = fields
	}
	// follow re-prepares the queries still working after a migration.
	follow := func(qs []*prepared, schema, migration string, compare bool) ([]gate.QueryFailure, error) {
		var out []gate.QueryFailure
		for _, p := range qs {
			if p.failed {
				continue
			}
			fields, err := prepare(ctx, conn, p.q.SQL)
			if err != nil {
				var pe *pgconn.PgError
				if !errors.As(err, &pe) {
					return nil, err
				}
				p.failed = true
				out = append(out, gate.QueryFailure{Query: p.q, Error: pe.Message, Schema: schema, Migration: migration})
				continue
			}
			if compare && p.fields != nil {
				if diff := fieldDiff(ctx, conn, p.fields, fields); diff != "" {
					p.failed = true
					out = append(out, gate.QueryFailure{Query: p.q, Error: diff, Schema: schema, Migration: migration, ResultChanged: true})
					continue
				}
			}
			p.fields = fields
		}
		return out, nil
	}
	for _, p := range o.Meet {
		if err := apply([]int{p}); err != nil {
			return nil, err
		}
		fails, err := follow(old, "at the schema it will meet", name(p), true)
		if err != nil {
			return nil, err
		}
		rep.OldFailures = append(rep.OldFailures, fails...)
	}
	nw := make([]*prepared, len(o.New))
	for i, q := range o.New {
		nw[i] = &prepared{q: q}
	}
	fails, err := follow(nw, "at the schema it will meet", "", false)
	if err != nil {
		return nil, err
	}
	rep.NewFailures = append(rep.NewFailures, fails...)
	for _, p := range o.Contract {
		if err := apply([]int{p}); err != nil {
			return nil, err
		}
		fails, err := follow(old, "after the contract migrations", name(p), true)
		if err != nil {
			return nil, err
		}
		rep.OldAfterContract = append(rep.OldAfterContract, fails...)
		if fails, err = follow(nw, "after the contract migrations", name(p), false); err != nil {
			return nil, err
		}
		rep.NewFailures = append(rep.NewFailures, fails...)
	}
	return rep, nil
}

// prepare prepares sql as the unnamed statement and returns its result
// columns.
func prepare(ctx context.Context, conn *pgx.Conn, sql string) ([]pgconn.FieldDescription, error) {
	sd, err := conn.PgConn().Prepare(ctx, "", sql, nil)
	if err != nil {
		return nil, err
	}
	return sd.Fields, nil
}

// fieldDiff says how two result descriptions differ, "" when alike.
func fieldDiff(ctx context.Context, conn *pgx.Conn, before, after []pgconn.FieldDescription) string {
	typ := func(f pgconn.FieldDescription) string {
		var s string
		if err := conn.QueryRow(ctx, `SELECT format_type($1, nullif($2, -1))`, f.DataTypeOID, f.TypeModifier).Scan(&s); err != nil {
			return fmt.Sprint(f.DataTypeOID)
		}
		return s
	}
	var diffs []string
	for i := 0; i < len(before) || i < len(after); i++ {
		switch {
		case i >= len(after):
			diffs = append(diffs, fmt.Sprintf("column %q is gone", before[i].Name))
		case i >= len(before):
			diffs = append(diffs, fmt.Sprintf("a new column %q", after[i].Name))
		case before[i].Name != after[i].Name:
			diffs = append(diffs, fmt.Sprintf("column %d is %q, was %q", i+1, after[i].Name, before[i].Name))
		case before[i].DataTypeOID != after[i].DataTypeOID || before[i].TypeModifier != after[i].TypeModifier:
			diffs = append(diffs, fmt.Sprintf("column %q is %s, was %s", after[i].Name, typ(after[i]), typ(before[i])))
		}
	}
	return strings.Join(diffs, "; ")
}
