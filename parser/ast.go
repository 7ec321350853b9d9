package parser

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// The statement model: the parts of PostgreSQL's parse tree that migration
// analysis needs, in the project's own types. Nothing outside this package
// sees pg_query's protobuf AST.

// QName is a possibly schema-qualified object name.
type QName struct {
	Schema string
	Name   string
}

func (q QName) String() string {
	if q.Schema == "" {
		return q.Name
	}
	return q.Schema + "." + q.Name
}

// Key is the name used to look the object up in a catalog: unqualified
// names and names in "public" are the same object.
func (q QName) Key() string {
	if q.Schema == "" || q.Schema == "public" {
		return q.Name
	}
	return q.Schema + "." + q.Name
}

// TypeName is a column or cast type. Name is PostgreSQL's internal name with
// pg_catalog stripped ("int4", "varchar", "timestamptz"); Mods are the type
// modifiers (varchar(20) → [20], numeric(10,2) → [10 2]).
type TypeName struct {
	Name  string
	Mods  []int64
	Array bool
	Text  string // as written
	Span  Span
}

// Expr summarises an expression: the functions it calls and whether it is
// a constant. Text prints it.
type Expr struct {
	Funcs []string // called function names, lower case, schema stripped
	Const bool     // a literal, a cast of a literal, or NULL
	Null  bool     // the literal NULL
	// NextVal is set when the expression calls nextval (a serial default).
	NextVal bool
	// Column is set when the expression, casts left aside, is a bare
	// column reference: the column's name; Casts are the types it is cast
	// to, outermost first.
	Column string
	Casts  []TypeName
	Span   Span

	text func() string
	tree *pg.Node // the expression's parse tree, which text prints
}

// Text prints the expression as PostgreSQL would (deparsed on first use).
func (e *Expr) Text() string {
	if e == nil || e.text == nil {
		return ""
	}
	return e.text()
}

// ConstraintKind names the type of a table constraint.
type ConstraintKind string

const (
	ConstraintCheck      ConstraintKind = "check"
	ConstraintUnique     ConstraintKind = "unique"
	ConstraintPrimaryKey ConstraintKind = "primary key"
	ConstraintForeignKey ConstraintKind = "foreign key"
	ConstraintExclusion  ConstraintKind = "exclude"
	ConstraintNotNull    ConstraintKind = "not null"
)

// ForeignKey is the referencing side and the referenced table of a foreign key.
type ForeignKey struct {
	Table      QName
	RefColumns []string
}

// Constraint is a table or column constraint.
type Constraint struct {
	Name       string
	Kind       ConstraintKind
	Columns    []string // constrained columns (referencing columns for a foreign key)
	NotValid   bool
	UsingIndex string // ADD CONSTRAINT … USING INDEX name
	Check      *Expr
	// NotNullColumn is set for CHECK (col IS NOT NULL).
	NotNullColumn string
	References    *ForeignKey
	Span          Span
}

// ColumnDef is a column of CREATE TABLE or ALTER TABLE … ADD COLUMN.
type ColumnDef struct {
	Name        string
	Type        TypeName
	NotNull     bool
	PrimaryKey  bool
	Unique      bool
	Default     *Expr
	Generated   bool // GENERATED ALWAYS AS (…) STORED
	Identity    bool // GENERATED … AS IDENTITY
	Constraints []*Constraint
	Span        Span
}

// Serial reports whether the column type is one of the serial pseudo-types.
func (c *ColumnDef) Serial() bool {
	switch c.Type.Name {
	case "serial", "serial4", "bigserial", "serial8", "smallserial", "serial2":
		return true
	}
	return false
}

// Node is the payload of a statement; its dynamic type says what it is.
type Node interface{ node() }

// CreateTable is CREATE TABLE (including PARTITION OF and AS).
type CreateTable struct {
	Table       QName
	Columns     []*ColumnDef
	Constraints []*Constraint // table constraints and column constraints with a name or FK
	IfNotExists bool
	Temporary   bool
	Unlogged    bool
	PartitionOf *QName
	AsSelect    bool
}

// AlterOp is the kind of one ALTER TABLE sub-command.
type AlterOp string

const (
	AddColumn          AlterOp = "add column"
	DropColumn         AlterOp = "drop column"
	AlterColumnType    AlterOp = "alter column type"
	SetDefault         AlterOp = "set default"
	DropDefault        AlterOp = "drop default"
	SetNotNull         AlterOp = "set not null"
	DropNotNull        AlterOp = "drop not null"
	AddConstraint      AlterOp = "add constraint"
	ValidateConstraint AlterOp = "validate constraint"
	DropConstraint     AlterOp = "drop constraint"
	SetLogged          AlterOp = "set logged"
	SetUnlogged        AlterOp = "set unlogged"
	SetTablespace      AlterOp = "set tablespace"
	SetAccessMethod    AlterOp = "set access method"
	AttachPartition    AlterOp = "attach partition"
	DetachPartition    AlterOp = "detach partition"
	EnableRLS          AlterOp = "enable row level security"
	DisableRLS         AlterOp = "disable row level security"
	ForceRLS           AlterOp = "force row level security"
	NoForceRLS         AlterOp = "no force row level security"
	AddIdentity        AlterOp = "add identity"
	DropIdentity       AlterOp = "drop identity"
	SetIdentity        AlterOp = "set identity"
	DropExpression     AlterOp = "drop expression"
	SetStatistics      AlterOp = "set statistics"
	SetStorage         AlterOp = "set storage"
	SetOptions         AlterOp = "set options"
	ChangeOwner        AlterOp = "owner to"
	ClusterOn          AlterOp = "cluster on"
	ReplicaIdentity    AlterOp = "replica identity"
	TriggerToggle      AlterOp = "enable/disable trigger"
	Inherit            AlterOp = "inherit"
	OtherAlter         AlterOp = "other"
)

// AlterCmd is one sub-command of ALTER TABLE.
type AlterCmd struct {
	Op           AlterOp
	Column       string     // the column the command acts on
	ColumnDef    *ColumnDef // AddColumn
	Type         *TypeName  // AlterColumnType
	Using        *Expr      // AlterColumnType … USING
	Default      *Expr      // SetDefault
	Constraint   *Constraint
	Name         string // constraint name (Validate/DropConstraint), tablespace, access method
	Partition    *QName // Attach/DetachPartition
	Concurrently bool   // DETACH PARTITION … CONCURRENTLY
	IfExists     bool
	Cascade      bool
	Span         Span
}

// AlterTable is ALTER TABLE (and ALTER INDEX/VIEW/SEQUENCE… that share its tree).
type AlterTable struct {
	Table    QName
	Object   string // "table", "index", "view", "materialized view", "sequence", "foreign table", "type"
	IfExists bool
	Cmds     []*AlterCmd
}

// CreateIndex is CREATE [UNIQUE] INDEX.
type CreateIndex struct {
	Name         string
	Table        QName
	Columns      []string // column names; "" for an expression
	Unique       bool
	Concurrently bool
	IfNotExists  bool
	Partial      bool
	Method       string
}

// Drop is DROP <object type> … (not DROP DATABASE).
type Drop struct {
	Object       string // "table", "index", "view", "materialized view", "function", "procedure", "schema", "type", "sequence", "trigger", "policy", "extension", "domain", …
	Names        []QName
	On           []QName // the table of DROP TRIGGER / POLICY / RULE … ON t
	Concurrently bool
	IfExists     bool
	Cascade      bool
}

// Rename is ALTER … RENAME.
type Rename struct {
	Object  string // "table", "column", "index", "view", "materialized view", "constraint", "schema", "type", "function", "sequence", "trigger", "policy", "attribute", …
	Table   QName  // the relation (for column, constraint, trigger, policy: the table)
	Name    QName  // the renamed object for non-relation objects
	Old     string // old column / constraint / trigger name
	NewName string
}

// SetSchema is ALTER … SET SCHEMA.
type SetSchema struct {
	Object    string
	Name      QName
	NewSchema string
}

// AlterEnum is ALTER TYPE … ADD VALUE / RENAME VALUE.
type AlterEnum struct {
	Type        QName
	AddValue    string
	RenameFrom  string
	RenameTo    string
	IfNotExists bool
	// Neighbor is the value of ADD VALUE … BEFORE/AFTER ("" when the new
	// value goes last); After says which.
	Neighbor string
	After    bool
}

// CreateDomain is CREATE DOMAIN.
type CreateDomain struct {
	Name    QName
	Type    TypeName
	NotNull bool
	Check   bool // it has a CHECK constraint
}

// AlterDomain is ALTER DOMAIN.
type AlterDomain struct {
	Name QName
	// Op is "add constraint", "validate constraint", "drop constraint",
	// "set not null", "drop not null", "set default" or "drop default".
	Op         string
	Constraint *Constraint // AddConstraint
}

// CreateEnum is CREATE TYPE … AS ENUM.
type CreateEnum struct {
	Type   QName
	Values []string
}

// CreateView is CREATE [OR REPLACE] [MATERIALIZED] VIEW.
type CreateView struct {
	View         QName
	Replace      bool
	Materialized bool
	// Columns are the names of the view's columns, as PostgreSQL names
	// them (the column list, else the query's output names); nil when a *
	// leaves them unknown.
	Columns []string
}

// CreateFunction is CREATE [OR REPLACE] FUNCTION / PROCEDURE. Body returns
// the parsed statements of a plpgsql or sql body, which run when it is
// called; it is parsed on first use.
type CreateFunction struct {
	Name      QName
	Procedure bool
	Replace   bool
	Language  string

	body func() []*Statement
}

// Body returns the statements the function runs.
func (c *CreateFunction) Body() []*Statement {
	if c.body == nil {
		return nil
	}
	return c.body()
}

// Do is a DO block; Body holds the statements it runs.
type Do struct {
	Language string
	Body     []*Statement
}

// Truncate is TRUNCATE.
type Truncate struct {
	Tables  []QName
	Cascade bool
}

// Comment is COMMENT ON TABLE or COLUMN (other objects leave Table empty).
type Comment struct {
	Object string // "table", "column", …
	Table  QName
}

// DropDatabase is DROP DATABASE.
type DropDatabase struct{ Name string }

// Reindex is REINDEX.
type Reindex struct {
	Target       string // "index", "table", "schema", "database", "system"
	Name         QName
	Concurrently bool
}

// Cluster is CLUSTER.
type Cluster struct{ Table QName }

// Vacuum is VACUUM or ANALYZE.
type Vacuum struct {
	Full    bool
	Analyze bool // ANALYZE without VACUUM
	Tables  []QName
}

// Grant is GRANT or REVOKE of privileges (not role membership).
type Grant struct {
	Revoke  bool
	Object  string
	Objects []QName
}

// Policy is CREATE / ALTER POLICY.
type Policy struct {
	Create bool
	Name   string
	Table  QName
}

// TxOp is the operation of a transaction control statement.
type TxOp string

const (
	TxBegin      TxOp = "begin"
	TxCommit     TxOp = "commit"
	TxRollback   TxOp = "rollback"
	TxSavepoint  TxOp = "savepoint"
	TxRelease    TxOp = "release"
	TxRollbackTo TxOp = "rollback to"
	TxPrepare    TxOp = "prepare"
	TxOther      TxOp = "other"
)

// Transaction is BEGIN / COMMIT / ROLLBACK / SAVEPOINT ….
type Transaction struct{ Op TxOp }

// SetParam is SET / RESET of a run-time parameter.
type SetParam struct {
	Name  string // lower case: "lock_timeout"
	Value string // as written, without quotes; "" for RESET and DEFAULT
	Local bool
	Reset bool
}

// Update is UPDATE.
type Update struct {
	Table    QName
	HasWhere bool
	// Columns are the columns SET assigns, in order (with a subscript or
	// field, as "a[…]" or "a.…", which may repeat).
	Columns []string
}

// Delete is DELETE.
type Delete struct {
	Table    QName
	HasWhere bool
}

// Insert is INSERT.
type Insert struct {
	Table      QName
	FromSelect bool
	// Columns is the column list, in order (nil when there is none).
	Columns []string
}

// Select is SELECT (and VALUES); Calls lists the functions it calls.
type Select struct {
	// Tables are the tables the FROM clause reads directly.
	Tables   []QName
	HasWhere bool
}

// Call is CALL procedure.
type Call struct{ Name QName }

// LockTable is LOCK TABLE.
type LockTable struct {
	Tables []QName
	Mode   string // "ACCESS EXCLUSIVE", …
}

// Refresh is REFRESH MATERIALIZED VIEW.
type Refresh struct {
	View         QName
	Concurrently bool
}

// CreateTrigger is CREATE TRIGGER.
type CreateTrigger struct {
	Name  string
	Table QName
}

// CreateSequence is CREATE SEQUENCE.
type CreateSequence struct{ Name QName }

// CreateSchema is CREATE SCHEMA.
type CreateSchema struct{ Name string }

// Other is any statement the model has no detail for; Tag names it.
type Other struct{}

func (*CreateTable) node()    {}
func (*AlterTable) node()     {}
func (*CreateIndex) node()    {}
func (*Drop) node()           {}
func (*Rename) node()         {}
func (*SetSchema) node()      {}
func (*AlterEnum) node()      {}
func (*CreateEnum) node()     {}
func (*CreateDomain) node()   {}
func (*AlterDomain) node()    {}
func (*CreateView) node()     {}
func (*CreateFunction) node() {}
func (*Do) node()             {}
func (*Truncate) node()       {}
func (*Comment) node()        {}
func (*DropDatabase) node()   {}
func (*Reindex) node()        {}
func (*Cluster) node()        {}
func (*Vacuum) node()         {}
func (*Grant) node()          {}
func (*Policy) node()         {}
func (*Transaction) node()    {}
func (*SetParam) node()       {}
func (*Update) node()         {}
func (*Delete) node()         {}
func (*Insert) node()         {}
func (*Select) node()         {}
func (*Call) node()           {}
func (*LockTable) node()      {}
func (*Refresh) node()        {}
func (*CreateTrigger) node()  {}
func (*CreateSequence) node() {}
func (*CreateSchema) node()   {}
func (*Other) node()          {}

// Ident is an identifier token as written in the source.
type Ident struct {
	Name string // without quotes
	Span Span
}

// Statement is one SQL statement of a migration.
type Statement struct {
	Node Node
	Tag  string // the command, e.g. "ALTER TABLE", "CREATE INDEX"
	Text string // source text without the final semicolon
	Span Span
	// Calls lists the functions and procedures the statement calls
	// (lower case, schema stripped), so bodies defined earlier can be followed.
	Calls []string
	// LongIdents are identifiers over 63 bytes, which PostgreSQL truncates.
	LongIdents []Ident
	// Dynamic marks an EXECUTE of a string built at run time inside a body;
	// DynamicDDL is set when its literal parts look like DDL.
	Dynamic    bool
	DynamicDDL bool
	// Nested is set for statements inside a DO block or a function body.
	Nested bool
}

// Is reports whether the statement's tag is one of tags (case-insensitive).
func (s *Statement) Is(tags ...string) bool {
	for _, t := range tags {
		if strings.EqualFold(s.Tag, t) {
			return true
		}
	}
	return false
}
