package live

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/bgmigrate/bgmigrate/internal/pgtest"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/runner"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestReadCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := pgtest.Conn(t)
	for _, q := range []string{
		`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
		`CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email varchar(100) NOT NULL,
			status text NOT NULL DEFAULT 'new', feeling mood, lower_email text GENERATED ALWAYS AS (lower(email)) STORED,
			CONSTRAINT users_email_check CHECK (email <> ''))`,
		`ALTER TABLE users ADD COLUMN gone int`,
		`ALTER TABLE users DROP COLUMN gone`,
		`CREATE TABLE empty ()`,
		`CREATE SEQUENCE invoice_no`,
		`CREATE VIEW active_users AS SELECT id, email FROM users WHERE status <> 'gone'`,
		`CREATE FUNCTION user_count(min_id bigint, OUT n bigint) LANGUAGE sql AS 'SELECT count(*) FROM users WHERE id >= min_id'`,
		`CREATE SCHEMA billing`,
		`CREATE TABLE billing.invoices (id int PRIMARY KEY, user_id bigint REFERENCES users (id))`,
		`CREATE SCHEMA IF NOT EXISTS bgmigrate`,
		`CREATE TABLE bgmigrate.ignored (id int)`,
		`INSERT INTO users (email) VALUES ('a'), ('a')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)`); err == nil {
		t.Fatal("unique index built over duplicates")
	}

	cat, err := ReadCatalog(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, tb := range cat.Tables {
		tables = append(tables, tb.Name)
	}
	if want := []string{"billing.invoices", "public.empty", "public.users"}; !slices.Equal(tables, want) {
		t.Errorf("tables %v, want %v", tables, want)
	}
	users := cat.Tables[2]
	wantCols := []gate.Column{
		{Name: "id", Type: "bigint", NotNull: true, Generated: true},
		{Name: "email", Type: "character varying(100)", NotNull: true},
		{Name: "status", Type: "text", NotNull: true, Default: "'new'::text"},
		{Name: "feeling", Type: "mood"},
		{Name: "lower_email", Type: "text", Generated: true},
	}
	if !slices.Equal(users.Columns, wantCols) {
		t.Errorf("columns\n%+v\nwant\n%+v", users.Columns, wantCols)
	}
	wantCons := []gate.Constraint{{Name: "users_email_check", Def: "CHECK (((email)::text <> ''::text))"}, {Name: "users_pkey", Def: "PRIMARY KEY (id)"}}
	if !slices.Equal(users.Constraints, wantCons) {
		t.Errorf("constraints %+v, want %+v", users.Constraints, wantCons)
	}
	if want := []string{"public.active_users"}; !slices.Equal(cat.Views, want) {
		t.Errorf("views %v, want %v", cat.Views, want)
	}
	if want := []string{"public.user_count(min_id bigint, OUT n bigint)"}; !slices.Equal(cat.Functions, want) {
		t.Errorf("functions %v, want %v", cat.Functions, want)
	}
	if want := []string{"public.invoice_no", "public.users_id_seq"}; !slices.Equal(cat.Sequences, want) {
		t.Errorf("sequences %v, want %v", cat.Sequences, want)
	}
	if len(cat.Enums) != 1 || cat.Enums[0].Name != "public.mood" || !slices.Equal(cat.Enums[0].Values, []string{"sad", "ok", "happy"}) {
		t.Errorf("enums %+v", cat.Enums)
	}
	valid := map[string]bool{}
	for _, ix := range cat.Indexes {
		valid[ix.Name] = ix.Valid
	}
	if v, ok := valid["public.users_email_key"]; !ok || v {
		t.Errorf("users_email_key: present %v valid %v; indexes %+v", ok, v, cat.Indexes)
	}
	if !valid["public.users_pkey"] || !valid["billing.invoices_pkey"] {
		t.Errorf("indexes %+v", cat.Indexes)
	}

	only, err := ReadCatalog(ctx, conn, []string{"billing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Tables) != 1 || only.Tables[0].Name != "billing.invoices" || len(only.Views) != 0 {
		t.Errorf("schema billing: %+v", only)
	}
}

func TestGateReplayDropsDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"001_users.sql":  "CREATE TABLE users (id bigint PRIMARY KEY);\n",
		"002_broken.sql": "ALTER TABLE missing ADD COLUMN x text;\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	migs, err := runner.Load(ctx, dir, rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dev := pgtest.AdminURL(t)
	cats, err := Replay(ctx, dev, migs, []int{0, 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cats[0].Tables) != 0 || len(cats[1].Tables) != 1 {
		t.Errorf("replays: %+v, %+v", cats[0], cats[1])
	}
	if _, err := Replay(ctx, dev, migs, []int{1, 2}, nil, nil); err == nil || !strings.Contains(err.Error(), "replay migrations up to 002") {
		t.Errorf("broken replay: %v", err)
	}
	conn, err := pgx.Connect(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'bgmigrate\_gate\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, n := range names {
		if scratchName.MatchString(n) { // TestDropAbandoned makes one of another name
			left = append(left, n)
		}
	}
	if len(left) != 0 {
		t.Errorf("replay databases left behind: %v", left)
	}
}
