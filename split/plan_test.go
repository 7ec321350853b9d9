package split_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/bgmigrate/bgmigrate/schema"
	"github.com/bgmigrate/bgmigrate/split"
)

// deployed is the schema of the release the old color runs.
const deployed = `
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
CREATE TABLE users (
    id bigint PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    email text,
    age integer,
    serial_no bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT users_name_length CHECK (length(name) < 200)
);
CREATE INDEX users_name_idx ON users (name);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id integer REFERENCES customers (id),
    total numeric(10,2) NOT NULL DEFAULT 0,
    code text,
    note text
);
CREATE TABLE events (name text, at timestamptz);
CREATE TABLE codes (id bigint PRIMARY KEY, code text UNIQUE);
CREATE TABLE items (id bigint PRIMARY KEY, code text REFERENCES codes (code));
`

func plan(t *testing.T, sql string, opts split.Options) *split.Plan {
	t.Helper()
	cat := schema.New()
	cat.BeginFile(1, false)
	base := parser.Parse("0001_schema.sql", []byte(deployed), parser.Options{Format: parser.FormatPlain})
	if len(base.Errors) > 0 {
		t.Fatal(base.Errors[0])
	}
	split.Replay(cat, base.Statements)
	cat.BeginFile(2, false)
	f := parser.Parse("0002_change.sql", []byte(sql), parser.Options{Format: parser.FormatPlain})
	return split.Split(f, cat, opts)
}

// lintPlan lints the plan's migrations as a release after the deployed
// schema: no error may be found, and each file's class must be its phase
// (or none).
func lintPlan(t *testing.T, p *split.Plan) {
	t.Helper()
	runner, err := rules.NewRunner(rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	files := []*parser.File{parser.Parse("0001_schema.sql", []byte(deployed), parser.Options{Format: parser.FormatPlain})}
	infos := []rules.FileInfo{{}}
	for i, m := range p.Migrations {
		name := fmt.Sprintf("%04d_step.sql", i+2)
		content := m.SQL
		if m.Phase == phases.Contract {
			content = "-- bgmigrate:phase contract -- " + strings.Join(strings.Fields(m.Why), " ") + "x\n" + content
		}
		f := parser.Parse(name, []byte(content), parser.Options{Format: parser.FormatPlain})
		// As bgmigrate migrate runs it.
		f.Tx = parser.AutoTx(f)
		files = append(files, f)
		infos = append(infos, rules.FileInfo{InRelease: true, Report: true})
	}
	for i, res := range runner.RunRelease(files, infos) {
		m := p.Migrations[i]
		for _, fd := range res.Findings {
			if fd.Severity >= rules.Error && fd.Suppressed == nil {
				t.Errorf("migration %d (%s): %s: %s\n%s", i+1, m.Phase, fd.Rule, fd.Message, m.SQL)
			}
		}
		if res.Class != m.Phase && res.Class != phases.None {
			t.Errorf("migration %d is %s, planned as %s\n%s", i+1, res.Class, m.Phase, m.SQL)
		}
	}
}

func phasesOf(p *split.Plan) string {
	var out []string
	for _, m := range p.Migrations {
		s := m.Phase.String()
		if m.NoTransaction {
			s += "(no tx)"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestSplitKinds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, sql string
		fill      map[string]string
		phases    string
		contains  []string
	}{
		{"rename column", "ALTER TABLE users RENAME COLUMN name TO full_name;", nil,
			"expand expand expand(no tx) contract contract",
			[]string{"ADD COLUMN full_name text DEFAULT '';", "CREATE TRIGGER users_sync_name_full_name BEFORE INSERT OR UPDATE ON users",
				"-- bgmigrate:backfill table=users", "CREATE INDEX CONCURRENTLY users_name_idx_full_name ON users (full_name);",
				"IF new.full_name IS NOT DISTINCT FROM '' AND new.name IS DISTINCT FROM '' THEN", "CHECK (length(full_name) < 200) NOT VALID", "CHECK (full_name IS NOT NULL) NOT VALID",
				"DROP COLUMN name;", "ALTER COLUMN full_name SET NOT NULL;", "ALTER INDEX users_name_idx_full_name RENAME TO users_name_idx;",
				"RENAME CONSTRAINT users_name_length_full_name TO users_name_length;"}},
		{"rename unique column", "ALTER TABLE users RENAME COLUMN email TO mail;", nil,
			"expand expand expand(no tx) contract contract",
			[]string{"CREATE UNIQUE INDEX CONCURRENTLY users_email_idx_mail ON users (mail);", "DROP COLUMN email;"}},
		{"rename table", "ALTER TABLE customers RENAME TO clients;", nil, "expand contract",
			[]string{"ALTER TABLE customers RENAME TO clients;\nCREATE VIEW customers AS SELECT * FROM clients;", "DROP VIEW customers;"}},
		{"set schema", "ALTER TABLE events SET SCHEMA archive;", nil, "expand contract",
			[]string{"ALTER TABLE events SET SCHEMA archive;\nCREATE VIEW events AS SELECT * FROM archive.events;", "DROP VIEW events;"}},
		{"type change", "ALTER TABLE users ALTER COLUMN age TYPE bigint;", nil, "expand expand contract",
			[]string{"ADD COLUMN age_new bigint;", "new.age_new := new.age::bigint;", "new.age := new.age_new::integer;", "DROP COLUMN age;"}},
		{"type change with USING", "ALTER TABLE orders ALTER COLUMN code TYPE integer USING nullif(code, '')::integer;", nil, "expand expand contract",
			[]string{"new.code_new := (CAST(NULLIF(new.code, '') AS int))::integer;", "new.code := new.code_new::text;", "UPDATE orders SET code_new = (CAST(NULLIF(code, '') AS int))::integer"}},
		{"required column with a fill", "ALTER TABLE orders ADD COLUMN region text NOT NULL;", map[string]string{"orders.region": "'eu'"}, "expand contract",
			[]string{"ADD COLUMN region text NOT NULL DEFAULT 'eu';", "ALTER COLUMN region DROP DEFAULT;"}},
		{"required column without a fill", "ALTER TABLE orders ADD COLUMN region text NOT NULL;", nil, "expand contract contract",
			[]string{"ADD COLUMN region text;", "CHECK (region IS NOT NULL) NOT VALID;", "ALTER COLUMN region SET NOT NULL;"}},
		{"required column with a volatile fill", "ALTER TABLE orders ADD COLUMN token uuid NOT NULL;", map[string]string{"orders.token": "gen_random_uuid()"},
			"expand contract contract contract", []string{"ADD COLUMN token uuid;", "UPDATE orders SET token = gen_random_uuid() WHERE token IS NULL;", "ALTER COLUMN token SET NOT NULL;"}},
		{"set not null", "ALTER TABLE orders ALTER COLUMN code SET NOT NULL;", nil, "contract contract",
			[]string{"CHECK (code IS NOT NULL) NOT VALID;", "VALIDATE CONSTRAINT orders_code_not_null;\nALTER TABLE orders ALTER COLUMN code SET NOT NULL;"}},
		{"foreign key", "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;", nil, "contract contract",
			[]string{"ADD CONSTRAINT orders_customer_id_fkey1 FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE NOT VALID;", "VALIDATE CONSTRAINT orders_customer_id_fkey1;"}},
		{"check", "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);", nil, "contract contract",
			[]string{"CHECK (total >= 0) NOT VALID;", "VALIDATE CONSTRAINT orders_total_positive;"}},
		{"unique", "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);", nil, "contract(no tx) contract",
			[]string{"CREATE UNIQUE INDEX CONCURRENTLY orders_code_key ON orders (code);", "ADD CONSTRAINT orders_code_key UNIQUE USING INDEX orders_code_key;"}},
		{"primary key", "ALTER TABLE events ADD PRIMARY KEY (name);", nil, "contract contract contract(no tx) contract",
			[]string{"CHECK (name IS NOT NULL) NOT VALID;", "CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (name);", "ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;"}},
		{"column with inline check on an existing table", "ALTER TABLE orders ADD COLUMN discount numeric CHECK (discount >= 0);", nil, "expand expand",
			[]string{"ADD COLUMN discount numeric;", "ADD CONSTRAINT orders_discount_check CHECK (discount >= 0) NOT VALID;", "VALIDATE CONSTRAINT orders_discount_check;"}},
		{"index", "CREATE INDEX orders_note_idx ON orders (note);", nil, "expand(no tx)",
			[]string{"CREATE INDEX CONCURRENTLY orders_note_idx ON orders USING btree (note);"}},
		{"drop column", "ALTER TABLE orders ADD COLUMN notes text;\nALTER TABLE orders DROP COLUMN note;", nil, "expand contract",
			[]string{"ADD COLUMN notes text;", "DROP COLUMN note;"}},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := plan(t, c.sql, split.Options{Fill: c.fill})
			if len(p.Problems) > 0 {
				t.Fatalf("problems: %+v", p.Problems)
			}
			if !p.Changed {
				t.Fatal("nothing split")
			}
			if got := phasesOf(p); got != c.phases {
				t.Errorf("migrations %s, want %s", got, c.phases)
			}
			var all strings.Builder
			for _, m := range p.Migrations {
				all.WriteString(m.SQL)
			}
			for _, want := range c.contains {
				if !strings.Contains(all.String(), want) {
					t.Errorf("no %q in\n%s", want, all.String())
				}
			}
			lintPlan(t, p)
		})
	}
}

func TestSplitRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, sql, reason string }{
		{"identity column", "ALTER TABLE users RENAME COLUMN serial_no TO number;", "takes its values from a sequence"},
		{"primary key column", "ALTER TABLE users RENAME COLUMN id TO user_id;", "primary key"},
		{"referenced primary key column", "ALTER TABLE customers RENAME COLUMN id TO customer_id;", "primary key"},
		{"referenced column", "ALTER TABLE codes RENAME COLUMN code TO label;", "referenced by the foreign key \"items_code_fkey\" of \"items\""},
		{"unknown column", "ALTER TABLE users RENAME COLUMN nope TO yes;", "unknown"},
		{"a moved column named again", "ALTER TABLE users ALTER COLUMN age TYPE bigint;\nCREATE INDEX users_age_idx ON users (age);", "moves to age_new"},
		{"drop database", "DROP DATABASE shop;", "dropping database"},
		{"rename of an enum value", "CREATE TYPE mood AS ENUM ('ok');\nCREATE TABLE m (x mood);\n", ""},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := plan(t, c.sql, split.Options{})
			if c.reason == "" {
				if len(p.Problems) > 0 {
					t.Fatalf("problems: %+v", p.Problems)
				}
				return
			}
			if len(p.Problems) == 0 || !strings.Contains(p.Problems[0].Reason, c.reason) {
				t.Fatalf("problems %+v, want one saying %q", p.Problems, c.reason)
			}
			if p.Problems[0].Line == 0 || p.Problems[0].Statement == "" {
				t.Errorf("the problem names no line or statement: %+v", p.Problems[0])
			}
		})
	}
}

// TestSplitKeepsSafeFiles: a file of expand statements is left alone, and
// a mixed file is split by phase, in order.
func TestSplitKeepsSafeFiles(t *testing.T) {
	t.Parallel()
	p := plan(t, "ALTER TABLE orders ADD COLUMN notes text;\nCREATE TABLE tags (id bigint PRIMARY KEY);\n", split.Options{})
	if p.Changed || len(p.Problems) > 0 {
		t.Errorf("a safe file was changed: %+v", p)
	}
	p = plan(t, "ALTER TABLE orders ADD COLUMN notes text;\nALTER TABLE orders DROP COLUMN note;\nCREATE TABLE tags (id bigint PRIMARY KEY);\nDROP TABLE events;\n", split.Options{})
	if !p.Changed || phasesOf(p) != "expand contract" {
		t.Fatalf("mixed file: %s", phasesOf(p))
	}
	if e, c := p.Migrations[0].SQL, p.Migrations[1].SQL; !strings.Contains(e, "notes text;\nCREATE TABLE tags") || !strings.Contains(c, "DROP COLUMN note;\nDROP TABLE events;") {
		t.Errorf("order not kept:\n%s\n%s", e, c)
	}
	lintPlan(t, p)
}
