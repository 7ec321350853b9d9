package cli

import (
	"context"
	"github.com/bgmigrate/bgmigrate/rules"
	"path/filepath"

	"github.com/bgmigrate/bgmigrate/config"
	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/gate/live"
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
)

// project is what every command that runs migrations reads the same way:
// the configuration (.bgmigrate.yaml, found upwards or named by
// --config), the migration directory and its migrations, linted through
// the pipeline bgmigrate lint uses with the configuration's rules,
// severities, formats, PostgreSQL versions and exclusions.
type project struct {
	cfg *config.Config
	// deploy is the deploy: section with its ${VAR}s expanded, nil when
	// the file has none.
	deploy *config.Deploy
	dir    string
	migs   []*runner.Migration
	// pgFlag says --pg-version was given; sized that migs were linted
	// with the live table sizes (withTableSizes).
	pgFlag, sized bool
}

// projectFlags are the flags of the commands that read the project.
type projectFlags struct {
	Config    string
	Dir       string
	PGVersion int
	changed   func(string) bool
}

func (p *projectFlags) register(cmd *cobra.Command, withConfig bool) {
	f := cmd.Flags()
	f.StringVar(&p.Dir, "dir", "", "directory of the migrations (default deploy.migrations, then the migrations: entry of .bgmigrate.yaml, then ./migrations)")
	f.IntVar(&p.PGVersion, "pg-version", 15, "PostgreSQL major version, for linting (default pg_version of .bgmigrate.yaml)")
	if withConfig {
		f.StringVar(&p.Config, "config", "", "configuration file (default: .bgmigrate.yaml found upwards)")
	}
	p.changed = f.Changed
}

func (p *projectFlags) isChanged(name string) bool { return p.changed != nil && p.changed(name) }

// config reads the configuration and expands its deploy: section.
func (p *projectFlags) config(s *IOStreams) (*config.Config, *config.Deploy, error) {
	cfg, err := loadConfig(p.Config)
	if err != nil {
		return nil, nil, err
	}
	if p.isChanged("pg-version") {
		cfg.PGVersion = p.PGVersion
	}
	if cfg.Deploy == nil {
		return cfg, nil, nil
	}
	dc, err := cfg.Deploy.Expand(s.Env)
	if err != nil {
		return nil, nil, usage(err)
	}
	return cfg, dc, nil
}

// migrationDir is the directory the commands run: --dir, deploy.migrations
// (relative to the file), the one migrations: entry, or ./migrations.
func (p *projectFlags) migrationDir(cfg *config.Config, dc *config.Deploy) (string, error) {
	switch {
	case p.Dir != "":
		return p.Dir, nil
	case dc != nil && dc.Migrations != "":
		dir := filepath.FromSlash(dc.Migrations)
		if cfg.Dir != "" && !filepath.IsAbs(dir) {
			dir = filepath.Join(cfg.Dir, dir)
		}
		return dir, nil
	}
	switch dirs := cfg.MigrationDirs(); len(dirs) {
	case 0:
		return "migrations", nil
	case 1:
		return dirs[0], nil
	default:
		return "", usageError("%s lists %d migration directories (%v); pass --dir, or set deploy.migrations", cfg.Path, len(dirs), dirs)
	}
}

// load reads the configuration and the migrations.
func (p *projectFlags) load(ctx context.Context, s *IOStreams) (*project, error) {
	cfg, dc, err := p.config(s)
	if err != nil {
		return nil, err
	}
	dir, err := p.migrationDir(cfg, dc)
	if err != nil {
		return nil, err
	}
	migs, err := loadMigrations(ctx, cfg, dir, p.isChanged("pg-version"), nil)
	if err != nil {
		return nil, err
	}
	return &project{cfg: cfg, deploy: dc, dir: dir, migs: migs, pgFlag: p.isChanged("pg-version")}, nil
}

// loadMigrations lints and loads the migrations of dir with the
// configuration, as bgmigrate lint would lint them (with --dsn when
// tables, the live table sizes, are given).
func loadMigrations(ctx context.Context, cfg *config.Config, dir string, pgFlag bool, tables map[string]rules.TableStats) ([]*runner.Migration, error) {
	perFile := func(path string) (parser.Format, int) {
		v := cfg.PGVersionFor(path)
		if v == cfg.PGVersion || pgFlag {
			v = 0
		}
		return cfg.FormatFor(path), v
	}
	migs, err := runner.LoadWith(ctx, runner.LoadOptions{Dirs: []string{dir}, Rules: sizedConfig(cfg, tables), Exclude: cfg.Excluded, PerFile: perFile})
	if err != nil {
		return nil, usage(err)
	}
	return migs, nil
}

// databaseURL is where the migrations run: --dsn, deploy.database_url,
// then $DATABASE_URL.
func (p *project) databaseURL(flag string, s *IOStreams) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case p.deploy != nil && p.deploy.DatabaseURL != "":
		return p.deploy.DatabaseURL, nil
	case s.Env("DATABASE_URL") != "":
		return s.Env("DATABASE_URL"), nil
	}
	return "", usageError("no database: pass --dsn, set deploy.database_url in %s or set DATABASE_URL", orDefault(p.cfg.Path, config.FileName))
}

// connect opens the database the migrations run on (see databaseURL); it
// returns its URL too.
func (p *project) connect(ctx context.Context, flag string, s *IOStreams) (*pgx.Conn, string, error) {
	dsn, err := p.databaseURL(flag, s)
	if err != nil {
		return nil, "", err
	}
	conn, err := connect(ctx, dsn)
	return conn, dsn, err
}

// devURL is where the gate replays schemas: --dev-url, deploy.gate.dev_url,
// then the database URL itself (a scratch database is created on that
// server and dropped).
func (p *project) devURL(flag, dbURL string) string {
	switch {
	case flag != "":
		return flag
	case p.deploy != nil && p.deploy.Gate.DevURL != "":
		return p.deploy.Gate.DevURL
	}
	return dbURL
}

// queries reads the colors' queries: the flags, else deploy.gate.queries
// and new_queries (a file relative to the configuration's directory).
func (p *project) queries(ctx context.Context, conn *pgx.Conn, oldFlag, newFlag string) (oldQ, newQ []gate.Query, err error) {
	oldSrc, newSrc, dir := oldFlag, newFlag, ""
	if p.deploy != nil {
		if oldSrc == "" {
			oldSrc, dir = p.deploy.Gate.Queries, p.cfg.Dir
		}
		if newSrc == "" {
			newSrc = p.deploy.Gate.NewQueries
		}
	}
	read := func(src, dir string) ([]gate.Query, error) {
		if src == "" {
			return nil, nil
		}
		q, err := live.ReadQueries(ctx, conn, src, dir)
		if err != nil {
			return nil, usage(err)
		}
		return q, nil
	}
	if oldQ, err = read(oldSrc, dir); err != nil {
		return nil, nil, err
	}
	newDir := ""
	if newFlag == "" {
		newDir = p.cfg.Dir
	}
	newQ, err = read(newSrc, newDir)
	return oldQ, newQ, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
