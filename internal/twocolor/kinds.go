package twocolor

import "fmt"

// A Kind is one breaking statement with the two releases around it: the
// schema of the previous release, the migration the next release wants,
// and how each release's code reads and writes the rows.
type Kind struct {
	// Name is an identifier: "rename_column".
	Name string
	// Title is for the tables: "rename column".
	Title string
	// Schema is the previous release's schema.
	Schema string
	// Seed fills the tables, a format: %[1]d is Config.Rows (and %% a %).
	Seed string
	// Migration is the breaking migration as the next release wrote it.
	Migration string
	// Fill are bgmigrate split's --fill values ("users.plan='free'").
	Fill []string
	// Old is the previous release's code; New the next release's, for the
	// schema the split gives while both colors run.
	Old, New Color
	// NewFinal is the next release's code for the schema the migration
	// gives as written (Unsplit, Pgroll), when it differs from New: a
	// type change split keeps the column as c_new.
	NewFinal *Color
	// Fix is what the application does once the old color is retired and
	// before the contract, as the split's notes ask (fill the rows the
	// old color left NULL, ...), in batches of at most 1000 rows. Unsplit
	// runs it just before the migration, as a careful team would.
	Fix []string
	// Violations counts the rows Fix is for; Fix runs until it is 0.
	Violations string
	// Renamed maps a column of the split's final schema to its name in
	// the migration's ("orders.qty_new": "qty"), for the catalog check.
	Renamed map[string]string
	// Pgroll is the equivalent pgroll migration (JSON), "" when there is
	// none; PgrollNone then says why.
	Pgroll     string
	PgrollNone string
	// Value formats the n-th value written (default "v<n>"); the
	// columns' text must read back equal to it.
	Value func(n int64) string
}

// Color is one release's code: its statements on the rows of the table
// under test. $1 is the row's id (bigint), $2 the value (text; the
// column's type when the statement sends it to a typed column).
type Color struct {
	Insert string // $1, $2
	Update string // $1, $2
	Delete string // $1
	// Read returns the row's value as its first column (others are read
	// and ignored), no row when there is none.
	Read string // $1
	// ReadAll returns id and value of every row.
	ReadAll string
}

func (k Kind) value(n int64) string {
	if k.Value != nil {
		return k.Value(n)
	}
	return fmt.Sprintf("v%d", n)
}

func (k Kind) newFinal() Color {
	if k.NewFinal != nil {
		return *k.NewFinal
	}
	return k.New
}

// Kinds are the statement kinds the proof covers.
func Kinds() []Kind {
	return []Kind{
		renameColumn(), renameConstrainedColumn(), renameNullableColumn(), renameTable(), changeType(), addNotNullColumn(), addNotNullColumnNoFill(), setNotNull(),
		addForeignKey(), addCheck(), addUnique(), addPrimaryKey(), dropColumn(),
	}
}

// KindByName returns the kind named name.
func KindByName(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// simple is the code of a release that keeps the value in column col of
// table, with insert's other columns and values given by extraCols and
// extraVals (", email" and ", $2 || '@example.com'").
func simple(table, col, extraCols, extraVals string) Color {
	return Color{
		Insert:  fmt.Sprintf("INSERT INTO %s (id, %s%s) VALUES ($1, $2%s)", table, col, extraCols, extraVals),
		Update:  fmt.Sprintf("UPDATE %s SET %s = $2 WHERE id = $1", table, col),
		Delete:  fmt.Sprintf("DELETE FROM %s WHERE id = $1", table),
		Read:    fmt.Sprintf("SELECT %s FROM %s WHERE id = $1", col, table),
		ReadAll: fmt.Sprintf("SELECT id, %s FROM %s", col, table),
	}
}

func renameColumn() Kind {
	return Kind{
		Name: "rename_column", Title: "rename column",
		Schema: `CREATE TABLE users (
    id bigint PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    email text
);
CREATE INDEX users_name_idx ON users (name);
`,
		Seed:      `INSERT INTO users (id, name, email) SELECT g, 's' || g, 'u' || g || '@example.com' FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE users RENAME COLUMN name TO full_name;\n",
		Old:       simple("users", "name", ", email", ", $2 || '@example.com'"),
		New:       simple("users", "full_name", ", email", ", $2 || '@example.com'"),
		Pgroll:    `{"operations": [{"rename_column": {"table": "users", "from": "name", "to": "full_name"}}]}`,
	}
}

// renameConstrainedColumn renames a column that a unique constraint, a
// check and NOT NULL without a default hold: the split carries each over
// to the new column and gives it the old one's name back.
func renameConstrainedColumn() Kind {
	return Kind{
		Name: "rename_constrained_column", Title: "rename unique column",
		Schema: `CREATE TABLE items (
    id bigint PRIMARY KEY,
    code text NOT NULL,
    CONSTRAINT items_code_key UNIQUE (code),
    CONSTRAINT items_code_check CHECK (code <> '')
);
`,
		Seed:      `INSERT INTO items (id, code) SELECT g, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE items RENAME COLUMN code TO sku;\n",
		Old:       simple("items", "code", "", ""),
		New:       simple("items", "sku", "", ""),
		Pgroll:    `{"operations": [{"rename_column": {"table": "items", "from": "code", "to": "sku"}}]}`,
	}
}

// renameNullableColumn renames a nullable column with a default, which
// both releases sometimes set to NULL (as an ORM that lists every column
// does): a NULL must stay a NULL whichever color wrote it.
func renameNullableColumn() Kind {
	nullable := func(col string) Color {
		c := simple("users", col, "", "")
		c.Insert = fmt.Sprintf("INSERT INTO users (id, %s) VALUES ($1, NULLIF($2, 'NULL'))", col)
		c.Update = fmt.Sprintf("UPDATE users SET %s = NULLIF($2, 'NULL') WHERE id = $1", col)
		return c
	}
	return Kind{
		Name: "rename_nullable_column", Title: "rename nullable column",
		Schema:    "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    status text DEFAULT 'active'\n);\n",
		Seed:      `INSERT INTO users (id, status) SELECT g, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE users RENAME COLUMN status TO state;\n",
		Old:       nullable("status"),
		New:       nullable("state"),
		Pgroll:    `{"operations": [{"rename_column": {"table": "users", "from": "status", "to": "state"}}]}`,
		// One value in five is NULL.
		Value: func(n int64) string {
			if n%5 == 0 {
				return "NULL"
			}
			return fmt.Sprintf("v%d", n)
		},
	}
}

func renameTable() Kind {
	return Kind{
		Name: "rename_table", Title: "rename table",
		Schema: `CREATE TABLE users (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
`,
		Seed:      `INSERT INTO users (id, name) SELECT g, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE users RENAME TO accounts;\n",
		Old:       simple("users", "name", "", ""),
		New:       simple("accounts", "name", "", ""),
		Pgroll:    `{"operations": [{"rename_table": {"from": "users", "to": "accounts"}}]}`,
	}
}

func changeType() Kind {
	final := simple("orders", "qty", ", note", ", 'new'")
	return Kind{
		Name: "change_type", Title: "column type int→bigint",
		Schema: `CREATE TABLE orders (
    id bigint PRIMARY KEY,
    qty integer NOT NULL DEFAULT 0,
    note text
);
CREATE INDEX orders_qty_idx ON orders (qty);
`,
		Seed:      `INSERT INTO orders (id, qty, note) SELECT g, g, 'seed' FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;\n",
		// The old release reads qty as the integer it was: a cached plan
		// of its SELECT breaks when the column's type changes under it.
		Old:      simple("orders", "qty", ", note", ", 'old'"),
		New:      simple("orders", "qty_new", ", note", ", 'new'"),
		NewFinal: &final,
		Renamed:  map[string]string{"orders.qty_new": "qty"},
		Pgroll:   `{"operations": [{"alter_column": {"table": "orders", "column": "qty", "type": "bigint", "up": "CAST(qty AS bigint)", "down": "CAST(qty AS integer)"}}]}`,
		Value:    func(n int64) string { return fmt.Sprint(n) },
	}
}

func addNotNullColumn() Kind {
	return Kind{
		Name: "add_not_null_column", Title: "add NOT NULL column",
		Schema:    "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    name text NOT NULL\n);\n",
		Seed:      `INSERT INTO users (id, name) SELECT g, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE users ADD COLUMN plan text NOT NULL;\n",
		Fill:      []string{"users.plan='free'"},
		Old:       simple("users", "name", "", ""),
		New: Color{
			Insert: "INSERT INTO users (id, name, plan) VALUES ($1, $2, 'pro')",
			Update: "UPDATE users SET name = $2, plan = 'pro' WHERE id = $1",
			Delete: "DELETE FROM users WHERE id = $1",
			// A row without a plan reads as missing.
			Read:    "SELECT name, plan FROM users WHERE id = $1 AND plan IS NOT NULL",
			ReadAll: "SELECT id, name FROM users WHERE plan IS NOT NULL",
		},
		Pgroll: `{"operations": [{"add_column": {"table": "users", "column": {"name": "plan", "type": "text", "nullable": false}, "up": "'free'"}}]}`,
	}
}

// addNotNullColumnNoFill is the same column without --fill: the split adds
// it nullable and sets NOT NULL in the contract, once the application
// filled the rows the old color inserted.
func addNotNullColumnNoFill() Kind {
	k := addNotNullColumn()
	k.Name, k.Title = "add_not_null_column_nofill", "add NOT NULL column, no fill"
	k.Fill = nil
	// Until the contract, rows the old color inserted have no plan.
	k.New.Read = "SELECT name, plan FROM users WHERE id = $1"
	k.New.ReadAll = "SELECT id, name FROM users"
	k.Fix = []string{"UPDATE users SET plan = 'free' WHERE id IN (SELECT id FROM users WHERE plan IS NULL LIMIT 1000)"}
	k.Violations = "SELECT count(*) FROM users WHERE plan IS NULL"
	return k
}

// usersEmail is the schema of the kinds on users.email, and
// usersEmailSeed its rows, each with an address.
const (
	usersEmail     = "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    email text\n);\n"
	usersEmailSeed = `INSERT INTO users (id, name, email) SELECT g, 's' || g, 'u' || g || '@example.com' FROM generate_series(1, %[1]d) g;`
)

func setNotNull() Kind {
	return Kind{
		Name: "set_not_null", Title: "set NOT NULL",
		Schema:    usersEmail,
		Seed:      usersEmailSeed,
		Migration: "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
		// The previous release never wrote email.
		Old:        simple("users", "name", "", ""),
		New:        simple("users", "name", ", email", ", $2 || '@example.com'"),
		Fix:        []string{"UPDATE users SET email = 'u' || id || '@example.com' WHERE id IN (SELECT id FROM users WHERE email IS NULL LIMIT 1000)"},
		Violations: "SELECT count(*) FROM users WHERE email IS NULL",
		Pgroll:     `{"operations": [{"alter_column": {"table": "users", "column": "email", "nullable": false, "up": "COALESCE(email, 'u' || id || '@example.com')", "down": "email"}}]}`,
	}
}

func addForeignKey() Kind {
	return Kind{
		Name: "add_foreign_key", Title: "add foreign key",
		Schema: `CREATE TABLE customers (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    note text NOT NULL
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
`,
		Seed: `INSERT INTO customers (id, name) SELECT g, 'c' || g FROM generate_series(1, 100) g;
INSERT INTO orders (id, customer_id, note) SELECT g, 1 + g %% 100, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);\n",
		// The previous release did not check customers: a third of its
		// orders name one that does not exist.
		Old:        simple("orders", "note", ", customer_id", ", 1 + $1::bigint % 150"),
		New:        simple("orders", "note", ", customer_id", ", 1 + $1::bigint % 100"),
		Fix:        []string{"UPDATE orders SET customer_id = NULL WHERE id IN (SELECT id FROM orders WHERE customer_id NOT IN (SELECT id FROM customers) LIMIT 1000)"},
		Violations: "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)",
		Pgroll: `{"operations": [{"create_constraint": {"type": "foreign_key", "table": "orders", "name": "orders_customer_id_fkey", "columns": ["customer_id"],
  "references": {"table": "customers", "columns": ["id"]},
  "up": {"customer_id": "CASE WHEN customer_id IN (SELECT c.id FROM customers c) THEN customer_id END"}, "down": {"customer_id": "customer_id"}}}]}`,
	}
}

func addCheck() Kind {
	old := simple("orders", "note", ", qty", ", $1::bigint % 5 - 1")
	// The previous release let stock go below zero.
	old.Update = "UPDATE orders SET note = $2, qty = qty - 1 WHERE id = $1"
	next := simple("orders", "note", ", qty", ", $1::bigint % 5")
	next.Update = "UPDATE orders SET note = $2, qty = greatest(qty - 1, 0) WHERE id = $1"
	return Kind{
		Name: "add_check", Title: "add check",
		Schema: `CREATE TABLE orders (
    id bigint PRIMARY KEY,
    qty integer NOT NULL DEFAULT 0,
    note text NOT NULL
);
`,
		Seed:       `INSERT INTO orders (id, qty, note) SELECT g, 1000, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration:  "ALTER TABLE orders ADD CONSTRAINT orders_qty_check CHECK (qty >= 0);\n",
		Old:        old,
		New:        next,
		Fix:        []string{"UPDATE orders SET qty = 0 WHERE id IN (SELECT id FROM orders WHERE qty < 0 LIMIT 1000)"},
		Violations: "SELECT count(*) FROM orders WHERE qty < 0",
		Pgroll: `{"operations": [{"create_constraint": {"type": "check", "table": "orders", "name": "orders_qty_check", "columns": ["qty"], "check": "qty >= 0",
  "up": {"qty": "CASE WHEN qty < 0 THEN 0 ELSE qty END"}, "down": {"qty": "qty"}}}]}`,
	}
}

func addUnique() Kind {
	return Kind{
		Name: "add_unique", Title: "add unique",
		Schema:    usersEmail,
		Seed:      usersEmailSeed,
		Migration: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\n",
		// The previous release gave a quarter of its users one shared
		// address.
		Old:        simple("users", "name", ", email", ", CASE WHEN $1::bigint % 4 = 0 THEN 'shared@example.com' ELSE 'u' || $1::bigint || '@example.com' END"),
		New:        simple("users", "name", ", email", ", 'u' || $1::bigint || '@example.com'"),
		Fix:        []string{"UPDATE users SET email = 'u' || id || '@example.com' WHERE id IN (SELECT id FROM users WHERE email = 'shared@example.com' LIMIT 1000)"},
		Violations: "SELECT count(*) FROM users WHERE email = 'shared@example.com'",
		Pgroll: `{"operations": [{"create_constraint": {"type": "unique", "table": "users", "name": "users_email_key", "columns": ["email"],
  "up": {"email": "CASE WHEN email = 'shared@example.com' THEN 'u' || id || '@example.com' ELSE email END"}, "down": {"email": "email"}}}]}`,
	}
}

func addPrimaryKey() Kind {
	read := func(c Color) Color {
		c.Read = "SELECT payload FROM events WHERE id = $1 LIMIT 1"
		c.ReadAll = "SELECT DISTINCT id, payload FROM events"
		return c
	}
	old := read(simple("events", "payload", "", ""))
	// The previous release delivered some events twice.
	old.Insert = "INSERT INTO events (id, payload) SELECT $1::bigint, $2::text FROM generate_series(1, CASE WHEN $1::bigint % 4 = 0 THEN 2 ELSE 1 END)"
	return Kind{
		Name: "add_primary_key", Title: "add primary key",
		Schema: `CREATE TABLE events (
    id bigint,
    payload text NOT NULL
);
CREATE INDEX events_id_idx ON events (id);
`,
		Seed:       `INSERT INTO events (id, payload) SELECT g, 's' || g FROM generate_series(1, %[1]d) g;`,
		Migration:  "ALTER TABLE events ADD PRIMARY KEY (id);\n",
		Old:        old,
		New:        read(simple("events", "payload", "", "")),
		Fix:        []string{"DELETE FROM events WHERE ctid IN (SELECT e.ctid FROM events e JOIN events d ON d.id = e.id AND d.ctid < e.ctid LIMIT 1000)"},
		Violations: "SELECT count(*) - count(DISTINCT id) FROM events",
		Pgroll: `{"operations": [{"create_constraint": {"type": "primary_key", "table": "events", "name": "events_pkey", "columns": ["id"],
  "up": {"id": "id"}, "down": {"id": "id"}}}]}`,
	}
}

func dropColumn() Kind {
	old := simple("users", "name", ", legacy", ", 'l' || $2")
	// The previous release still reads legacy.
	old.Read = "SELECT name, legacy FROM users WHERE id = $1"
	old.Update = "UPDATE users SET name = $2, legacy = 'l' || $2 WHERE id = $1"
	return Kind{
		Name: "drop_column", Title: "drop column",
		Schema:    "CREATE TABLE users (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n    legacy text\n);\n",
		Seed:      `INSERT INTO users (id, name, legacy) SELECT g, 's' || g, 'l' FROM generate_series(1, %[1]d) g;`,
		Migration: "ALTER TABLE users DROP COLUMN legacy;\n",
		Old:       old,
		New:       simple("users", "name", "", ""),
		Pgroll:    `{"operations": [{"drop_column": {"table": "users", "column": "legacy", "down": "'l'"}}]}`,
	}
}
