package schema

import (
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
)

// Apply records the effect of a statement on the catalog. Statements that
// do not change the schema are ignored; so are changes to unknown objects.
func (c *Catalog) Apply(st *parser.Statement) {
	switch n := st.Node.(type) {
	case *parser.CreateTable:
		c.createTable(n)
	case *parser.AlterTable:
		c.alterTable(n)
	case *parser.CreateIndex:
		if n.Name == "" {
			n.Name = n.Table.Name + "_" + strings.Join(n.Columns, "_") + "_idx"
		}
		key := parser.QName{Schema: n.Table.Schema, Name: n.Name}.Key()
		if _, ok := c.indexes[key]; ok && n.IfNotExists {
			return
		}
		// Index names are seldom the same: copies, not kept in names.
		name := n.Name
		if c.compacting() {
			key = strings.Clone(key)
			if name = key; name != n.Name {
				name = strings.Clone(n.Name)
			}
		}
		c.indexes[key] = &Index{Name: name, Table: c.name(n.Table.Key()), Columns: c.nameList(n.Columns), Unique: n.Unique, Partial: n.Partial, Method: c.name(n.Method), Origin: c.file}
	case *parser.Drop:
		for _, q := range n.Names {
			c.drop(n.Object, q)
		}
	case *parser.Rename:
		c.rename(n)
	case *parser.SetSchema:
		c.setSchema(n)
	case *parser.CreateEnum:
		c.enums[n.Type.Key()] = &Enum{Name: n.Type, Values: append([]string(nil), n.Values...), Origin: c.file}
	case *parser.AlterEnum:
		if e := c.enums[n.Type.Key()]; e != nil {
			if n.AddValue != "" {
				e.Values = append(e.Values, n.AddValue)
			}
			for i, v := range e.Values {
				if n.RenameFrom != "" && v == n.RenameFrom {
					e.Values[i] = n.RenameTo
				}
			}
		}
	case *parser.CreateDomain:
		c.domains[n.Name.Key()] = &Domain{Name: n.Name, Check: n.Check, Origin: c.file}
	case *parser.AlterDomain:
		if d := c.domains[n.Name.Key()]; d != nil && n.Op == "add constraint" && n.Constraint != nil && n.Constraint.Kind == parser.ConstraintCheck {
			d.Check = true
		}
	case *parser.CreateView:
		if _, ok := c.views[n.View.Key()]; !ok {
			c.views[n.View.Key()] = c.file
		}
		c.viewColumns[n.View.Key()] = n.Columns
	case *parser.CreateFunction:
		c.functions[strings.ToLower(n.Name.Name)] = &Function{Name: n.Name, Def: n, Origin: c.file}
	case *parser.CreateSequence:
		c.sequences[n.Name.Key()] = c.file
	case *parser.CreateSchema:
		if _, ok := c.schemas[n.Name]; !ok {
			c.schemas[n.Name] = c.file
		}
	case *parser.Do:
		for _, b := range n.Body {
			c.Apply(b)
		}
	}
}

func (c *Catalog) createTable(n *parser.CreateTable) {
	key := c.name(n.Table.Key())
	if _, ok := c.tables[key]; ok && n.IfNotExists {
		return
	}
	t := &Table{Name: c.qname(n.Table), Origin: c.file}
	if n.PartitionOf != nil {
		if parent := c.tables[n.PartitionOf.Key()]; parent != nil {
			for _, col := range parent.Columns {
				cp := *col
				cp.Origin = c.file
				c.keepExpr(&cp.Default, col.Default)
				t.Columns = append(t.Columns, &cp)
			}
		}
	}
	for _, cd := range n.Columns {
		t.Columns = append(t.Columns, c.newColumn(cd))
	}
	c.tables[key] = t
	for _, k := range n.Constraints {
		c.addConstraint(t, k, true)
	}
}

func (c *Catalog) newColumn(cd *parser.ColumnDef) *Column {
	col := &Column{Name: c.name(cd.Name), Type: c.typeName(cd.Type), NotNull: cd.NotNull,
		Identity: cd.Identity, Generated: cd.Generated, Serial: cd.Serial(), Origin: c.file}
	c.keepExpr(&col.Default, cd.Default)
	return col
}

// compacting reports whether the catalog holds compactAfter tables and
// indexes: it then keeps its own copies of names and types (name,
// typeName).
func (c *Catalog) compacting() bool { return len(c.tables)+len(c.indexes) >= compactAfter }

// typeName returns the catalog's copy of t, whose span it leaves out.
func (c *Catalog) typeName(t parser.TypeName) *parser.TypeName {
	t.Span = parser.Span{}
	if !c.compacting() {
		return &t
	}
	t.Name, t.Text = c.name(t.Name), c.name(t.Text)
	if t.Mods != nil {
		t.Mods = append([]int64(nil), t.Mods...) // few types have modifiers
		return &t
	}
	key := typeKey{t.Name, t.Text, t.Array}
	if k, ok := c.types[key]; ok {
		return k
	}
	if c.types == nil {
		c.types = map[typeKey]*parser.TypeName{}
	}
	c.types[key] = &t
	return &t
}

// keepExpr sets *at to e. The expressions a catalog keeps are detached
// (parser.Expr.Detached) once it holds detachAfter that are not: while
// few, they cost less memory than detaching them costs time.
func (c *Catalog) keepExpr(at **parser.Expr, e *parser.Expr) {
	*at = e
	if e == nil {
		return
	}
	c.attached = append(c.attached, at)
	if len(c.attached) >= detachAfter {
		for _, at := range c.attached {
			*at = c.expr(*at)
		}
		clear(c.attached)
		c.attached = c.attached[:0]
	}
}

const (
	detachAfter  = 4096
	compactAfter = 4096
)

// expr returns the catalog's copy of e, detached (parser.Expr.Detached).
func (c *Catalog) expr(e *parser.Expr) *parser.Expr {
	d, key := e.Detached()
	if key == "" {
		return d
	}
	if k, ok := c.exprs[key]; ok {
		return k
	}
	c.exprs[key] = d
	return d
}

// name returns the catalog's copy of s: the catalog outlives the
// statements, whose strings share memory with the rest of their parse.
// Until it holds compactAfter tables and indexes, the catalog keeps the
// statements' strings: what they keep alive costs less than copying.
func (c *Catalog) name(s string) string {
	if !c.compacting() {
		return s
	}
	if k, ok := c.names[s]; ok {
		return k
	}
	k := strings.Clone(s)
	c.names[k] = k
	return k
}

func (c *Catalog) nameList(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = c.name(s)
	}
	return out
}

func (c *Catalog) qname(q parser.QName) parser.QName {
	return parser.QName{Schema: c.name(q.Schema), Name: c.name(q.Name)}
}

func (c *Catalog) addConstraint(t *Table, k *parser.Constraint, validated bool) {
	name := k.Name
	if name == "" {
		name = defaultConstraintName(t.Name.Name, k)
	}
	name = c.name(name)
	t.Constraints = append(t.Constraints, &Constraint{Name: name, Kind: k.Kind, Columns: c.nameList(k.Columns),
		Validated: validated && !k.NotValid, NotNullColumn: c.name(k.NotNullColumn), References: k.References, Origin: c.file})
	c.keepExpr(&t.Constraints[len(t.Constraints)-1].Check, k.Check)
	switch k.Kind {
	case parser.ConstraintPrimaryKey, parser.ConstraintUnique, parser.ConstraintExclusion:
		ixName := name
		if k.UsingIndex != "" {
			if old := c.indexes[parser.QName{Schema: t.Name.Schema, Name: k.UsingIndex}.Key()]; old != nil {
				delete(c.indexes, parser.QName{Schema: t.Name.Schema, Name: k.UsingIndex}.Key())
				k.Columns = old.Columns
				t.Constraints[len(t.Constraints)-1].Columns = old.Columns
			}
		}
		c.indexes[parser.QName{Schema: t.Name.Schema, Name: ixName}.Key()] = &Index{Name: ixName, Table: t.Name.Key(),
			Columns: t.Constraints[len(t.Constraints)-1].Columns, Unique: k.Kind != parser.ConstraintExclusion, Origin: c.file}
		if k.Kind == parser.ConstraintPrimaryKey {
			for _, col := range k.Columns {
				if cl := t.Column(col); cl != nil {
					cl.NotNull = true
				}
			}
		}
	}
}

func defaultConstraintName(table string, k *parser.Constraint) string {
	suffix := map[parser.ConstraintKind]string{
		parser.ConstraintPrimaryKey: "pkey", parser.ConstraintUnique: "key", parser.ConstraintForeignKey: "fkey",
		parser.ConstraintCheck: "check", parser.ConstraintExclusion: "excl", parser.ConstraintNotNull: "not_null",
	}[k.Kind]
	if k.Kind == parser.ConstraintPrimaryKey {
		return table + "_pkey"
	}
	if k.Kind == parser.ConstraintCheck && len(k.Columns) != 1 {
		return table + "_check" // PostgreSQL names a check after its column only when it has one
	}
	return table + "_" + strings.Join(k.Columns, "_") + "_" + suffix
}

func (c *Catalog) alterTable(n *parser.AlterTable) {
	t := c.tables[n.Table.Key()]
	if t == nil {
		return
	}
	for _, cmd := range n.Cmds {
		col := t.Column(cmd.Column)
		switch cmd.Op {
		case parser.AddColumn:
			if cmd.ColumnDef == nil || (col != nil && cmd.IfExists) {
				continue
			}
			cd := cmd.ColumnDef
			t.Columns = append(t.Columns, c.newColumn(cd))
			for _, k := range cd.Constraints {
				c.addConstraint(t, k, true)
			}
		case parser.DropColumn:
			for i, cl := range t.Columns {
				if cl.Name == cmd.Column {
					t.Columns = append(t.Columns[:i], t.Columns[i+1:]...)
					break
				}
			}
			for ix, idx := range c.indexes {
				if idx.Table == t.Name.Key() && contains(idx.Columns, cmd.Column) {
					delete(c.indexes, ix)
				}
			}
		case parser.AlterColumnType:
			if col != nil && cmd.Type != nil {
				col.Type = c.typeName(*cmd.Type)
			}
		case parser.SetDefault:
			if col != nil {
				c.keepExpr(&col.Default, cmd.Default)
			}
		case parser.DropDefault:
			if col != nil {
				col.Default = nil
			}
		case parser.SetNotNull:
			if col != nil {
				col.NotNull = true
			}
		case parser.DropNotNull:
			if col != nil {
				col.NotNull = false
			}
		case parser.AddConstraint:
			if cmd.Constraint != nil {
				c.addConstraint(t, cmd.Constraint, true)
			}
		case parser.ValidateConstraint:
			if k := t.Constraint(cmd.Name); k != nil {
				k.Validated = true
			}
		case parser.DropConstraint:
			for i, k := range t.Constraints {
				if k.Name == cmd.Name {
					t.Constraints = append(t.Constraints[:i], t.Constraints[i+1:]...)
					delete(c.indexes, parser.QName{Schema: t.Name.Schema, Name: cmd.Name}.Key())
					break
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (c *Catalog) drop(object string, q parser.QName) {
	key := q.Key()
	switch object {
	case "table", "foreign table":
		delete(c.tables, key)
		for ix, idx := range c.indexes {
			if idx.Table == key {
				delete(c.indexes, ix)
			}
		}
	case "index":
		delete(c.indexes, key)
	case "view", "materialized view":
		delete(c.views, key)
		delete(c.viewColumns, key)
	case "type":
		delete(c.enums, key)
		delete(c.domains, key)
	case "domain":
		delete(c.domains, key)
	case "function", "procedure", "routine":
		delete(c.functions, strings.ToLower(q.Name))
	case "sequence":
		delete(c.sequences, key)
	case "schema":
		delete(c.schemas, q.Name)
		prefix := q.Name + "."
		for k := range c.tables {
			if strings.HasPrefix(k, prefix) {
				delete(c.tables, k)
			}
		}
	}
}

func (c *Catalog) rename(n *parser.Rename) {
	switch n.Object {
	case "table":
		if t := c.tables[n.Table.Key()]; t != nil {
			delete(c.tables, n.Table.Key())
			old := n.Table.Key()
			t.Name = parser.QName{Schema: n.Table.Schema, Name: n.NewName}
			c.tables[t.Name.Key()] = t
			for _, ix := range c.indexes {
				if ix.Table == old {
					ix.Table = t.Name.Key()
				}
			}
		}
	case "column":
		if col := c.tables[n.Table.Key()].Column(n.Old); col != nil {
			col.Name = n.NewName
		}
	case "index":
		if ix := c.indexes[n.Name.Key()]; ix != nil {
			delete(c.indexes, n.Name.Key())
			ix.Name = n.NewName
			c.indexes[parser.QName{Schema: n.Name.Schema, Name: n.NewName}.Key()] = ix
		}
	case "constraint":
		if k := c.tables[n.Table.Key()].Constraint(n.Old); k != nil {
			k.Name = n.NewName
		}
	}
}

func (c *Catalog) setSchema(n *parser.SetSchema) {
	if n.Object == "table" {
		if t := c.tables[n.Name.Key()]; t != nil {
			delete(c.tables, n.Name.Key())
			t.Name = parser.QName{Schema: n.NewSchema, Name: n.Name.Name}
			c.tables[t.Name.Key()] = t
		}
	}
}
