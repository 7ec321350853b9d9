package phases

// The class model: what each kind of statement does to the color that runs
// the previous release, in each situation the replayed schema tells apart.
// Classify is the implementation; Model is its specification, one row per
// statement and situation, each with an example. docs/classes.md is
// generated from it, and a test classifies every example and checks the row.

// ModelSchema is the schema the running color uses in the examples: the
// migrations of the releases already deployed.
const ModelSchema = `CREATE SCHEMA legacy;
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    email text,
    name text NOT NULL,
    region text DEFAULT 'eu',
    code varchar(20),
    score integer
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    note text,
    CONSTRAINT orders_note_length CHECK (length(note) < 1000)
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TYPE order_status AS ENUM ('open', 'closed');
CREATE VIEW open_orders AS SELECT id FROM orders;
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders $$;
CREATE DOMAIN amount AS numeric;
CREATE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch();`

// A ModelRow is one statement in one situation.
type ModelRow struct {
	Statement string // the kind of statement
	Situation string // what the replayed schema and the release say about it
	Class     Class  // the statement's class
	Why       string // why, in terms of the running color
	// Release holds statements of the same release that run before the
	// example, in earlier files; SQL is the example statement.
	Release, SQL string
	// Before and After, when set, are statements of the example's own
	// transaction, run before and after it.
	Before, After string
}

// row is a ModelRow without a transaction of its own.
func row(statement, situation string, class Class, why, release, sql string) ModelRow {
	return ModelRow{Statement: statement, Situation: situation, Class: class, Why: why, Release: release, SQL: sql}
}

// Model is the class model.
var Model = []ModelRow{
	// Tables.
	row("CREATE TABLE", "any", Expand, "the running color does not know the table", "",
		"CREATE TABLE invoices (id bigint PRIMARY KEY)"),
	row("DROP TABLE", "a table the running color has", Contract, "the running color reads and writes it", "",
		"DROP TABLE orders"),
	row("DROP TABLE", "a table of this release", None, "the running color never used it", "CREATE TABLE invoices (id bigint)",
		"DROP TABLE invoices"),
	row("ALTER TABLE … RENAME TO", "a table the running color has", Breaking, "the running color still uses the old name the moment it is gone", "",
		"ALTER TABLE orders RENAME TO purchases"),
	row("ALTER TABLE … RENAME TO", "a table of this release", None, "the running color never used either name", "CREATE TABLE invoices (id bigint)",
		"ALTER TABLE invoices RENAME TO bills"),
	{Statement: "ALTER TABLE … RENAME TO", Situation: "followed, in the same transaction, by a view with the old name", Class: Expand,
		Why: "the running color reaches the table through the view (a view over one table is updatable): the old name never stops working",
		SQL: "ALTER TABLE orders RENAME TO purchases", After: "CREATE VIEW orders AS SELECT * FROM purchases"},
	{Statement: "ALTER TABLE … RENAME TO, SET SCHEMA", Situation: "preceded, in the same transaction, by DROP VIEW of the new name", Class: Contract,
		Why:    "the new name never stops working (a view, then the table); the table's old name goes away",
		Before: "DROP VIEW open_orders", SQL: "ALTER TABLE orders RENAME TO open_orders"},
	{Statement: "DROP VIEW", Situation: "followed, in the same transaction, by a table renamed or moved to its name", Class: None,
		Why: "the name never stops working: the table takes it over",
		SQL: "DROP VIEW open_orders", After: "ALTER TABLE orders RENAME TO open_orders"},
	row("ALTER TABLE … SET SCHEMA", "a table the running color has", Breaking, "the running color looks for it in the old schema", "",
		"ALTER TABLE orders SET SCHEMA legacy"),
	row("TRUNCATE", "a table the running color has", Contract, "removes rows the running color uses", "",
		"TRUNCATE orders"),

	// Columns.
	row("ADD COLUMN", "nullable, or NOT NULL with a default", Expand, "the running color's inserts leave it NULL or to its default", "",
		"ALTER TABLE customers ADD COLUMN phone text NOT NULL DEFAULT ''"),
	row("ADD COLUMN", "NOT NULL without a default, on a table the running color has", Breaking, "the running color's inserts do not set it and fail", "",
		"ALTER TABLE customers ADD COLUMN phone text NOT NULL"),
	row("ADD COLUMN", "NOT NULL without a default, on a table of this release", Expand, "nobody inserts into the table yet", "CREATE TABLE invoices (id bigint)",
		"ALTER TABLE invoices ADD COLUMN total numeric NOT NULL"),
	row("DROP COLUMN", "a column the running color has", Contract, "the running color still reads and writes it", "",
		"ALTER TABLE customers DROP COLUMN region"),
	row("DROP COLUMN", "a column of this release", None, "the running color never used it", "ALTER TABLE customers ADD COLUMN phone text",
		"ALTER TABLE customers DROP COLUMN phone"),
	row("RENAME COLUMN", "a column the running color has", Breaking, "the running color still uses the old name", "",
		"ALTER TABLE customers RENAME COLUMN email TO mail"),
	row("RENAME COLUMN", "a column of this release", None, "the running color never used it", "ALTER TABLE customers ADD COLUMN phone text",
		"ALTER TABLE customers RENAME COLUMN phone TO mobile"),
	row("ALTER COLUMN … TYPE", "binary-compatible (varchar(n) longer, varchar to text, …) without USING, or with a USING that is the column or its cast to the new type", Expand, "values and their type's behaviour stay what the running color expects; no rewrite", "",
		"ALTER TABLE customers ALTER COLUMN code TYPE varchar(40) USING code::varchar(40)"),
	row("ALTER COLUMN … TYPE", "any other change of a column the running color has", Breaking, "the running color reads and writes the old type", "",
		"ALTER TABLE customers ALTER COLUMN score TYPE bigint"),
	row("ALTER COLUMN … TYPE", "a column of this release", None, "the running color never used it (the table is still rewritten)", "ALTER TABLE customers ADD COLUMN phone text",
		"ALTER TABLE customers ALTER COLUMN phone TYPE varchar(20)"),
	row("ALTER COLUMN … SET DEFAULT", "any", Expand, "the running color's inserts that set the column are unchanged", "",
		"ALTER TABLE customers ALTER COLUMN score SET DEFAULT 0"),
	row("ALTER COLUMN … DROP DEFAULT", "a column the running color has", Contract, "the running color's inserts may rely on the default", "",
		"ALTER TABLE customers ALTER COLUMN region DROP DEFAULT"),
	row("ALTER COLUMN … DROP DEFAULT", "a nullable column of this release", None, "the running color does not set it either way: it stays NULL", "ALTER TABLE customers ADD COLUMN phone text DEFAULT ''",
		"ALTER TABLE customers ALTER COLUMN phone DROP DEFAULT"),
	row("ALTER COLUMN … DROP DEFAULT", "a NOT NULL column of this release", Breaking, "the running color's inserts relied on the default without knowing it and fail", "ALTER TABLE customers ADD COLUMN phone text NOT NULL DEFAULT ''",
		"ALTER TABLE customers ALTER COLUMN phone DROP DEFAULT"),
	row("ALTER COLUMN … SET NOT NULL", "a column the running color has", Contract, "the running color may still write NULL", "",
		"ALTER TABLE customers ALTER COLUMN email SET NOT NULL"),
	row("ALTER COLUMN … SET NOT NULL", "the column is NOT NULL already", None, "nothing changes", "",
		"ALTER TABLE customers ALTER COLUMN name SET NOT NULL"),
	row("ALTER COLUMN … SET NOT NULL", "a CHECK (col IS NOT NULL), validated or not, is on the column", None, "the check already rejects the running color's NULLs; SET NOT NULL restricts nothing more", "ALTER TABLE customers ADD CONSTRAINT customers_email_not_null CHECK (email IS NOT NULL) NOT VALID",
		"ALTER TABLE customers ALTER COLUMN email SET NOT NULL"),
	row("ALTER COLUMN … SET NOT NULL", "a column of this release with a default", Expand, "the running color's inserts get the default", "ALTER TABLE customers ADD COLUMN phone text DEFAULT ''",
		"ALTER TABLE customers ALTER COLUMN phone SET NOT NULL"),
	row("ALTER COLUMN … SET NOT NULL", "a column of this release without a default", Breaking, "the running color's inserts do not set it and fail", "ALTER TABLE customers ADD COLUMN phone text",
		"ALTER TABLE customers ALTER COLUMN phone SET NOT NULL"),
	row("ALTER COLUMN … DROP NOT NULL", "any", Expand, "relaxes: the running color still writes values, and reads NULL only from the new color", "",
		"ALTER TABLE customers ALTER COLUMN name DROP NOT NULL"),

	// Constraints.
	row("ADD CONSTRAINT … CHECK", "on columns the running color writes (NOT VALID too: new writes are checked at once)", Contract, "the running color's writes may violate it", "",
		"ALTER TABLE customers ADD CONSTRAINT customers_score_positive CHECK (score > 0) NOT VALID"),
	row("ADD CONSTRAINT … CHECK", "only on columns of this release", Expand, "the running color never writes them", "ALTER TABLE customers ADD COLUMN phone text",
		"ALTER TABLE customers ADD CONSTRAINT customers_phone_length CHECK (length(phone) < 40)"),
	row("ADD CONSTRAINT … CHECK (col IS NOT NULL)", "a column of this release without a default", Breaking, "the running color's inserts leave it NULL and fail", "ALTER TABLE customers ADD COLUMN phone text",
		"ALTER TABLE customers ADD CONSTRAINT customers_phone_not_null CHECK (phone IS NOT NULL) NOT VALID"),
	row("ADD CONSTRAINT … FOREIGN KEY", "on columns the running color writes", Contract, "the running color's writes may reference missing rows", "",
		"ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID"),
	row("ADD CONSTRAINT … FOREIGN KEY", "a nullable column of this release without a default among its columns", Expand, "the running color leaves it NULL, which a foreign key does not check", "ALTER TABLE orders ADD COLUMN referrer_id bigint",
		"ALTER TABLE orders ADD CONSTRAINT orders_referrer_fk FOREIGN KEY (referrer_id) REFERENCES customers (id) NOT VALID"),
	row("ADD CONSTRAINT … UNIQUE", "on columns the running color writes", Contract, "the running color's writes may be duplicates", "",
		"ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email)"),
	row("ADD CONSTRAINT … UNIQUE", "a nullable column of this release without a default among its columns", Expand, "the running color leaves it NULL, and NULLs are distinct", "ALTER TABLE customers ADD COLUMN handle text",
		"ALTER TABLE customers ADD CONSTRAINT customers_email_handle_key UNIQUE (email, handle)"),
	row("VALIDATE CONSTRAINT", "any", None, "the constraint has rejected the running color's bad writes since it was added; validating checks the old rows only", "ALTER TABLE customers ADD CONSTRAINT customers_score_positive CHECK (score > 0) NOT VALID",
		"ALTER TABLE customers VALIDATE CONSTRAINT customers_score_positive"),
	row("DROP CONSTRAINT", "a CHECK, FOREIGN KEY or UNIQUE", None, "relaxes: the running color's writes meet fewer rules; it never makes a file mixed", "",
		"ALTER TABLE orders DROP CONSTRAINT orders_note_length"),
	row("CREATE UNIQUE INDEX", "on columns the running color writes", Contract, "the running color's writes may be duplicates", "",
		"CREATE UNIQUE INDEX CONCURRENTLY customers_email_idx ON customers (email)"),
	row("CREATE INDEX", "not unique", Expand, "queries of both colors may use it; nothing is rejected", "",
		"CREATE INDEX CONCURRENTLY customers_region_idx ON customers (region)"),
	row("DROP INDEX", "any", None, "relaxes, like dropping a constraint: the running color's queries still run, perhaps slower", "",
		"DROP INDEX CONCURRENTLY orders_customer_id_idx"),
	{Statement: "DROP VIEW", Situation: "followed, in the same transaction, by CREATE VIEW of the same name with every column it had", Class: None,
		Why: "the running color's queries of the view keep working; the CREATE VIEW is expand",
		SQL: "DROP VIEW open_orders", After: "CREATE VIEW open_orders AS SELECT id, note FROM orders"},
	{Statement: "DROP VIEW", Situation: "followed, in the same transaction, by CREATE VIEW of the same name without a column it had", Class: Contract,
		Why: "the running color may read the column left out (columns unknown on either side, a *, are taken to be kept)",
		SQL: "DROP VIEW open_orders", After: "CREATE VIEW open_orders AS SELECT note FROM orders"},
	row("DROP TRIGGER", "a trigger the running color's writes fire", Contract, "the running color may rely on what it does (a sync trigger of an expand step)", "",
		"DROP TRIGGER orders_touch ON orders"),
	{Statement: "DROP TRIGGER", Situation: "followed, in the same transaction, by CREATE TRIGGER of the same name on the same table", Class: None,
		Why: "the running color's writes still fire it",
		SQL: "DROP TRIGGER orders_touch ON orders", After: "CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch()"},

	// Types, views, functions, domains.
	row("CREATE TYPE … AS ENUM", "any", Expand, "the running color does not know the type", "",
		"CREATE TYPE priority AS ENUM ('low', 'high')"),
	row("ALTER TYPE … ADD VALUE", "any", Expand, "the running color's values stay valid", "",
		"ALTER TYPE order_status ADD VALUE 'cancelled'"),
	row("ALTER TYPE … RENAME VALUE", "an enum the running color has", Breaking, "the running color still writes the old value", "",
		"ALTER TYPE order_status RENAME VALUE 'closed' TO 'done'"),
	row("DROP TYPE", "a type the running color has", Contract, "the running color's columns and casts may use it", "",
		"DROP TYPE order_status"),
	row("CREATE VIEW", "any", Expand, "the running color does not know the view", "",
		"CREATE VIEW big_orders AS SELECT id FROM orders"),
	row("DROP VIEW", "a view the running color has", Contract, "the running color may query it", "",
		"DROP VIEW open_orders"),
	row("CREATE FUNCTION", "any", Expand, "the running color does not call it", "",
		"CREATE FUNCTION customer_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM customers $$"),
	row("DROP FUNCTION", "a function the running color has", Contract, "the running color may call it", "",
		"DROP FUNCTION order_count()"),
	row("ALTER FUNCTION … SET SCHEMA", "a function the running color has", Breaking, "the running color calls it by its old schema", "",
		"ALTER FUNCTION order_count() SET SCHEMA legacy"),
	row("CREATE DOMAIN", "any", Expand, "the running color does not know the domain", "",
		"CREATE DOMAIN percent AS numeric"),
	row("ALTER DOMAIN … ADD CONSTRAINT", "a domain the running color has", Contract, "the running color's writes to the domain's columns may violate it", "",
		"ALTER DOMAIN amount ADD CONSTRAINT amount_positive CHECK (VALUE > 0) NOT VALID"),
	row("DROP SCHEMA", "a schema the running color has", Contract, "removes what the running color may use", "",
		"DROP SCHEMA legacy"),

	// Privileges and row-level security.
	row("GRANT", "any", Expand, "the running color keeps the rights it had", "",
		"GRANT SELECT ON orders TO reporting"),
	row("REVOKE", "on objects the running color has", Contract, "the running color may use the rights", "",
		"REVOKE SELECT ON orders FROM reporting"),
	row("ENABLE ROW LEVEL SECURITY", "a table the running color has", Contract, "changes which rows the running color sees", "",
		"ALTER TABLE orders ENABLE ROW LEVEL SECURITY"),
	row("CREATE POLICY", "a table the running color has", Contract, "changes which rows the running color sees", "",
		"CREATE POLICY orders_own ON orders USING (customer_id = 1)"),

	// Data and maintenance.
	row("INSERT, UPDATE, DELETE", "any", None, "data, not schema: both colors read it the same way", "",
		"UPDATE customers SET region = 'eu' WHERE region IS NULL"),
	row("VACUUM, ANALYZE, REINDEX", "any", None, "maintenance: nothing the application sees changes", "",
		"REINDEX INDEX CONCURRENTLY orders_customer_id_idx"),
	row("DO, or a call of a function the migrations created", "any", Contract, "the class of the statements it runs, merged; here a DROP COLUMN", "",
		"DO $$ BEGIN ALTER TABLE customers DROP COLUMN region; END $$"),
	row("DROP DATABASE", "any", Breaking, "every color loses everything", "",
		"DROP DATABASE shop"),
}
