package parser

import "testing"

func TestQuoteIdent(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"name": "name", "full_name": "full_name", "Name": `"Name"`, "user": `"user"`, "select": `"select"`,
		"order": `"order"`, "a b": `"a b"`, `q"t`: `"q""t"`, "status": "status", "1x": `"1x"`,
	} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRewriteColumns(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, qual, want string }{
		{"length(name) < 100", "", "length(full_name) < 100"},
		{"name::integer", "new", "new.full_name::int"},
		{"t.name = name", "", "t.name = full_name"},
		{"lower(other)", "new", "lower(other)"},
	} {
		got, err := RewriteColumns(c.in, map[string]string{"name": "full_name"}, c.qual)
		if err != nil || got != c.want {
			t.Errorf("RewriteColumns(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := RewriteColumns("1; DROP TABLE t", nil, ""); err == nil {
		t.Error("two statements accepted")
	}
}

func TestAlterCommands(t *testing.T) {
	t.Parallel()
	got, err := AlterCommands("ALTER TABLE users ADD COLUMN a text, RENAME COLUMN b TO c")
	if err == nil {
		t.Fatalf("RENAME is not a subcommand of ALTER TABLE: %v", got)
	}
	got, err = AlterCommands("ALTER TABLE public.users ADD COLUMN a text NOT NULL DEFAULT '', ALTER COLUMN b SET NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ALTER TABLE public.users ADD COLUMN a text NOT NULL DEFAULT ''", "ALTER TABLE public.users ALTER COLUMN b SET NOT NULL"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNotValidConstraint(t *testing.T) {
	t.Parallel()
	got, err := NotValidConstraint("ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE", "orders_customer_id_fkey")
	want := "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE NOT VALID"
	if err != nil || got != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
	got, err = NotValidConstraint("ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0)", "x")
	want = "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID"
	if err != nil || got != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
}

func TestColumnConstraints(t *testing.T) {
	t.Parallel()
	add, cons, err := ColumnConstraints("ALTER TABLE orders ADD COLUMN code text NOT NULL DEFAULT 'x' UNIQUE CHECK (length(code) < 9) REFERENCES codes (code)",
		func(kind string) string { return "orders_code_" + kind })
	if err != nil {
		t.Fatal(err)
	}
	if add != "ALTER TABLE orders ADD COLUMN code text NOT NULL DEFAULT 'x'" {
		t.Errorf("add = %q", add)
	}
	want := []string{
		"ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code)",
		"ALTER TABLE orders ADD CONSTRAINT orders_code_check CHECK (length(code) < 9)",
		"ALTER TABLE orders ADD CONSTRAINT orders_code_fkey FOREIGN KEY (code) REFERENCES codes (code)",
	}
	if len(cons) != len(want) {
		t.Fatalf("constraints %q", cons)
	}
	for i := range want {
		if cons[i] != want[i] {
			t.Errorf("constraint %d = %q, want %q", i, cons[i], want[i])
		}
	}
}

func TestColumnEdits(t *testing.T) {
	t.Parallel()
	got, err := WithoutNotNull("ALTER TABLE users ADD COLUMN region text NOT NULL")
	if err != nil || got != "ALTER TABLE users ADD COLUMN region text" {
		t.Errorf("WithoutNotNull = %q, %v", got, err)
	}
	got, err = SetColumnDefault("ALTER TABLE users ADD COLUMN region text NOT NULL", "'eu'")
	if err != nil || got != "ALTER TABLE users ADD COLUMN region text NOT NULL DEFAULT 'eu'" {
		t.Errorf("SetColumnDefault = %q, %v", got, err)
	}
	got, err = Concurrently("CREATE UNIQUE INDEX users_email_idx ON users (lower(email)) WHERE active")
	if err != nil || got != "CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users USING btree (lower(email)) WHERE active" {
		t.Errorf("Concurrently = %q, %v", got, err)
	}
	e, err := ParseExpr("now()")
	if err != nil || len(e.Funcs) != 1 || e.Text() != "now()" {
		t.Errorf("ParseExpr = %+v, %v", e, err)
	}
	if _, err := ParseExpr("1 FROM t"); err == nil {
		t.Error("ParseExpr took a query")
	}
}
