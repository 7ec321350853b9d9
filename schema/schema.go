// Package schema is an in-memory catalog built by replaying migrations in
// order. Rules ask it what existed before a statement: whether a table is
// new, what type a column had, which constraints and indexes there are.
package schema

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

// Catalog holds the objects created by the migrations replayed so far.
type Catalog struct {
	tables  map[string]*Table
	indexes map[string]*Index
	enums   map[string]*Enum
	domains map[string]*Domain
	views   map[string]int
	// viewColumns are the views' column names, nil when unknown (a *).
	viewColumns map[string][]string
	functions   map[string]*Function
	sequences   map[string]int
	schemas     map[string]int
	// file is the ordinal of the file being replayed; objects remember the
	// file that created them.
	file int
	// pending holds the ordinals of the files of the release being
	// deployed: objects they create are unknown to the running color.
	pending map[int]bool
	// names, types and exprs are the names, column types and
	// expressions the catalog keeps, one copy of each (name, typeName,
	// expr, keepExpr).
	names map[string]string
	types map[typeKey]*parser.TypeName
	exprs map[string]*parser.Expr
	// attached are where the catalog keeps expressions not yet detached.
	attached []**parser.Expr
}

// typeKey is a column type without modifiers, as Catalog.types keys it.
type typeKey struct {
	name, text string
	array      bool
}

// Table is a table or partition.
type Table struct {
	Name        parser.QName
	Columns     []*Column
	Constraints []*Constraint
	Origin      int
	Partitioned bool
}

// Column is a column of a table.
type Column struct {
	Name string
	// Type is shared by the catalog's columns of the same type: replace
	// it, never change it.
	Type    *parser.TypeName
	NotNull bool
	// Default is the default expression, detached (parser.Expr.Detached)
	// and shared by the columns with the same default: replace it, never
	// change it.
	Default *parser.Expr
	// Identity, Generated and Serial: GENERATED … AS IDENTITY, GENERATED
	// ALWAYS AS (…) STORED, a serial type.
	Identity, Generated, Serial bool
	Origin                      int
}

// Constraint is a table constraint.
type Constraint struct {
	Name          string
	Kind          parser.ConstraintKind
	Columns       []string
	Validated     bool
	NotNullColumn string
	References    *parser.ForeignKey
	// Check is the expression of a CHECK constraint.
	Check  *parser.Expr
	Origin int
}

// Index is an index, including those behind primary keys and unique constraints.
type Index struct {
	Name    string
	Table   string   // table key
	Columns []string // "" for an expression
	Unique  bool
	// Partial, Method: a WHERE clause; the access method ("" for btree).
	Partial bool
	Method  string
	Origin  int
}

// Enum is an enum type.
type Enum struct {
	Name   parser.QName
	Values []string
	Origin int
}

// Domain is a domain type; Check says it has a CHECK constraint.
type Domain struct {
	Name   parser.QName
	Check  bool
	Origin int
}

// Function is a function or procedure.
type Function struct {
	Name   parser.QName
	Def    *parser.CreateFunction
	Origin int
}

// Body returns the statements the function runs (parsed on first use).
func (f *Function) Body() []*parser.Statement { return f.Def.Body() }

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{
		tables: map[string]*Table{}, indexes: map[string]*Index{}, enums: map[string]*Enum{}, domains: map[string]*Domain{},
		views: map[string]int{}, viewColumns: map[string][]string{}, functions: map[string]*Function{}, sequences: map[string]int{},
		pending: map[int]bool{}, names: map[string]string{}, exprs: map[string]*parser.Expr{},
		schemas: map[string]int{},
	}
}

// BeginFile starts the replay of the file with the given ordinal (1-based,
// increasing). pending marks the file as part of the release being
// deployed; objects created by the file being replayed always count as
// not deployed, and so do those of earlier pending files.
func (c *Catalog) BeginFile(ordinal int, pending bool) {
	c.file = ordinal
	if pending {
		c.pending[ordinal] = true
	}
}

// Pending reports whether the file with ordinal origin belongs to the
// release being deployed.
func (c *Catalog) Pending(origin int) bool { return c.pending[origin] }

// File returns the ordinal of the file being replayed.
func (c *Catalog) File() int { return c.file }

// Fresh reports whether an object created by the file with ordinal origin
// is unknown to the running application: created by the file being replayed
// or by an earlier file of the same pending release.
func (c *Catalog) Fresh(origin int) bool {
	return origin > 0 && (origin == c.file || c.pending[origin])
}

// Table returns the table named q, or nil.
func (c *Catalog) Table(q parser.QName) *Table { return c.tables[q.Key()] }

// FreshTable reports whether q was created by a file that is not deployed.
// Tables the catalog has never seen are taken to exist already.
func (c *Catalog) FreshTable(q parser.QName) bool {
	t := c.tables[q.Key()]
	return t != nil && c.Fresh(t.Origin)
}

// Column returns the column of the table, or nil.
func (t *Table) Column(name string) *Column {
	if t == nil {
		return nil
	}
	for _, col := range t.Columns {
		if col.Name == name {
			return col
		}
	}
	return nil
}

// Constraint returns the named constraint of the table, or nil.
func (t *Table) Constraint(name string) *Constraint {
	if t == nil {
		return nil
	}
	for _, k := range t.Constraints {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// HasNotNullCheck reports whether a CHECK (col IS NOT NULL) exists,
// validated or not: either way it rejects new writes of NULL.
func (t *Table) HasNotNullCheck(col string) bool {
	if t == nil {
		return false
	}
	for _, k := range t.Constraints {
		if k.Kind == parser.ConstraintCheck && k.NotNullColumn == col {
			return true
		}
	}
	return false
}

// HasValidatedNotNullCheck reports whether a validated CHECK (col IS NOT
// NULL) exists, which lets SET NOT NULL skip its table scan (PostgreSQL 12+).
func (t *Table) HasValidatedNotNullCheck(col string) bool {
	if t == nil {
		return false
	}
	for _, k := range t.Constraints {
		if k.Kind == parser.ConstraintCheck && k.NotNullColumn == col && k.Validated {
			return true
		}
	}
	return false
}

// Tables returns every table, in no particular order.
func (c *Catalog) Tables() []*Table {
	out := make([]*Table, 0, len(c.tables))
	for _, t := range c.tables {
		out = append(out, t)
	}
	return out
}

// Index returns the index named name, or nil.
func (c *Catalog) Index(q parser.QName) *Index { return c.indexes[q.Key()] }

// IndexesOn returns the indexes of a table.
func (c *Catalog) IndexesOn(q parser.QName) []*Index {
	key := q.Key()
	var out []*Index
	for _, ix := range c.indexes {
		if ix.Table == key {
			out = append(out, ix)
		}
	}
	return out
}

// Covered reports whether some index of the table starts with cols (in any order).
func (c *Catalog) Covered(q parser.QName, cols []string) bool {
	for _, ix := range c.IndexesOn(q) {
		if len(ix.Columns) < len(cols) {
			continue
		}
		want := map[string]bool{}
		for _, col := range cols {
			want[col] = true
		}
		ok := true
		for _, col := range ix.Columns[:len(cols)] {
			if !want[col] {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Enum returns the enum type named q, or nil.
func (c *Catalog) Enum(q parser.QName) *Enum { return c.enums[q.Key()] }

// Domain returns the domain named q, or nil.
func (c *Catalog) Domain(q parser.QName) *Domain { return c.domains[q.Key()] }

// Function returns the function or procedure with the given name (without
// schema), or nil.
func (c *Catalog) Function(name string) *Function { return c.functions[strings.ToLower(name)] }

// ViewColumns returns the column names of a view, nil when they are
// unknown (the view selects *, or the catalog has not seen it).
func (c *Catalog) ViewColumns(q parser.QName) []string { return c.viewColumns[q.Key()] }

// ViewOrigin returns the ordinal of the file that created a view, 0 if unknown.
func (c *Catalog) ViewOrigin(q parser.QName) int { return c.views[q.Key()] }

// SequenceOrigin returns the ordinal of the file that created a sequence, 0 if unknown.
func (c *Catalog) SequenceOrigin(q parser.QName) int { return c.sequences[q.Key()] }

// SchemaOrigin returns the ordinal of the file that created a schema, 0 if unknown.
func (c *Catalog) SchemaOrigin(name string) int { return c.schemas[name] }

// Runs returns the statements st runs besides itself: the body of a DO
// block, or the bodies of the functions it calls that the catalog knows.
// Statements of a function defined in another file take st's position, so
// findings point at the call in the file being linted.
func (c *Catalog) Runs(st *parser.Statement) []*parser.Statement {
	switch n := st.Node.(type) {
	case *parser.Do:
		return n.Body
	case *parser.Select, *parser.Call:
		var out []*parser.Statement
		for _, name := range st.Calls {
			fn := c.Function(name)
			if fn == nil {
				continue
			}
			for _, b := range fn.Body() {
				if fn.Origin != c.file {
					cp := *b
					cp.Span = st.Span
					b = &cp
				}
				out = append(out, b)
			}
		}
		return out
	}
	return nil
}
