package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// sizeMigrations is a set whose second file rewrites "accounts" (a volatile
// default) and scans it (SET NOT NULL), with timeouts set; SET NOT NULL is
// also reported by rules that have nothing to do with the table's size.
var sizeMigrations = map[string]string{
	"0001_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, plan text);\n",
	"0002_change.sql": "SET lock_timeout = '2s';\nSET statement_timeout = '5min';\n" +
		"ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n" +
		"ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n",
}

// sizeDir writes the migrations, and a config file when config is not
// empty, and returns the migration directory and the config's path.
func sizeDir(t *testing.T, config string) (dir, cfgPath string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, sql := range sizeMigrations {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if config == "" {
		config = "version: 1\n"
	}
	cfgPath = filepath.Join(root, ".bgmigrate.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfgPath
}

// sizeDB returns the URL of a fresh database whose "accounts" table holds
// rows rows, analyzed; rows < 0 makes no table at all.
func sizeDB(t *testing.T, rows int) string {
	t.Helper()
	url := pgtest.DB(t)
	if rows < 0 {
		return url
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"CREATE TABLE accounts (id bigint PRIMARY KEY, email text, plan text)",
		"INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'free' FROM generate_series(1, $1::int) g",
		"ANALYZE accounts",
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = []any{rows}
		}
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return url
}

type sizeFinding struct{ Rule, Severity, Message string }

// sizeLint runs lint --format json over the migrations and returns the
// findings of the second file by rule.
func sizeLint(t *testing.T, dir, cfgPath string, args ...string) (map[string]sizeFinding, result) {
	t.Helper()
	r := run(t, "", append([]string{"lint", "--format", "json", "--fail-on", "none", "--config", cfgPath, dir}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var doc struct {
		Files []struct {
			Path     string
			Findings []sizeFinding
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	out := map[string]sizeFinding{}
	for _, f := range doc.Files {
		if strings.HasSuffix(f.Path, "0002_change.sql") {
			for _, fd := range f.Findings {
				out[fd.Rule] = fd
			}
		}
	}
	return out, r
}

const (
	rewriteRule = "adding-field-with-default" // a warning by default
	scanRule    = "adding-not-nullable-field" // a warning by default
)

// TestLintDSNSizes lints the same migration against a 10-row and a
// 1,000,000-row table of a real database: info on the small one, error for
// the rewrite and the rule's warning for the scan on the large one, each
// message carrying the table's size and the estimated lock duration.
func TestLintDSNSizes(t *testing.T) {
	t.Parallel()
	dir, cfg := sizeDir(t, "")
	plain, _ := sizeLint(t, dir, cfg)
	if plain[rewriteRule].Severity != "warning" || plain[scanRule].Severity != "warning" || len(plain) != 4 {
		t.Fatalf("without --dsn: %+v", plain)
	}
	for _, tc := range []struct {
		name          string
		rows          int
		rewrite, scan string // severities
		note          string
	}{
		{"10 rows", 10, "info", "info", "(accounts: about 10 rows, "},
		{"1,000,000 rows", 1_000_000, "error", "warning", "(accounts: about 1M rows, "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _ := sizeLint(t, dir, cfg, "--dsn", sizeDB(t, tc.rows))
			for rule, sev := range map[string]string{rewriteRule: tc.rewrite, scanRule: tc.scan} {
				fd := got[rule]
				if fd.Severity != sev {
					t.Errorf("%s: %s, want %s", rule, fd.Severity, sev)
				}
				if !strings.HasPrefix(fd.Message, plain[rule].Message+" "+tc.note) || !strings.Contains(fd.Message, "; ACCESS EXCLUSIVE for ") {
					t.Errorf("%s: message %q, want %q followed by %q and an estimate", rule, fd.Message, plain[rule].Message, tc.note)
				}
			}
			// The other findings (tightening-constraint, mixed-expand-contract)
			// are not about the table's size: they stay as they are.
			for rule, fd := range plain {
				if rule != rewriteRule && rule != scanRule && got[rule] != fd {
					t.Errorf("%s: %+v, want %+v", rule, got[rule], fd)
				}
			}
			if len(got) != len(plain) {
				t.Errorf("findings %+v, want the same rules as %+v", got, plain)
			}
		})
	}
}

// TestLintDSNThreshold: rules.small_table_rows decides what is small, and
// 0 keeps the rules' severities (the size is still shown).
func TestLintDSNThreshold(t *testing.T) {
	t.Parallel()
	dsn := sizeDB(t, 10)
	for _, tc := range []struct {
		name, config  string
		rewrite, scan string
	}{
		{"5 rows is small", "version: 1\nrules:\n  small_table_rows: 5\n", "error", "warning"},
		{"0 turns it off", "version: 1\nrules:\n  small_table_rows: 0\n", "warning", "warning"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, cfg := sizeDir(t, tc.config)
			got, _ := sizeLint(t, dir, cfg, "--dsn", dsn)
			if got[rewriteRule].Severity != tc.rewrite || got[scanRule].Severity != tc.scan {
				t.Errorf("got %+v, want %s and %s", got, tc.rewrite, tc.scan)
			}
			if !strings.Contains(got[rewriteRule].Message, "(accounts: about 10 rows, ") {
				t.Errorf("message %q carries no size", got[rewriteRule].Message)
			}
		})
	}
}

// TestLintDSNUnknownTable: a database without the table changes nothing:
// the output is byte for byte the one without --dsn, in every format.
func TestLintDSNUnknownTable(t *testing.T) {
	t.Parallel()
	dir, cfg := sizeDir(t, "")
	dsn := sizeDB(t, -1)
	for _, format := range []string{"text", "json", "sarif"} {
		args := []string{"lint", "--format", format, "--config", cfg, dir}
		want := run(t, "", args...)
		got := run(t, "", append(args, "--dsn", dsn)...)
		if got != want {
			t.Errorf("%s: with --dsn of a database without the table:\n%+v\nwithout:\n%+v", format, got, want)
		}
	}
}

// TestLintDSNUnreachable: a database that cannot be reached is a clear
// error, exit 2, with the password hidden.
func TestLintDSNUnreachable(t *testing.T) {
	t.Parallel()
	dir, cfg := sizeDir(t, "")
	r := run(t, "", "lint", "--config", cfg, dir, "--dsn", "postgres://someone:secret@127.0.0.1:1/nothing?connect_timeout=5")
	if r.code != ExitUsage || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want %d and nothing", r.code, r.stdout, ExitUsage)
	}
	if !strings.Contains(r.stderr, "bgmigrate: connect to postgres://someone:xxxxx@127.0.0.1:1/nothing") || strings.Contains(r.stderr, "secret") {
		t.Errorf("stderr %q", r.stderr)
	}
}
