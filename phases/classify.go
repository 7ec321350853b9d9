package phases

import (
	"fmt"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// Info is what one statement does to a running database.
type Info struct {
	Class  Class
	Reason string // why the class is contract or breaking
	// Lock is the strongest table lock the statement takes on a table that
	// already exists (NoLock when it only touches new objects).
	Lock  Lock
	Table string // the table Lock is taken on
	// Rewrite is set when the table is rewritten (and its indexes rebuilt).
	Rewrite bool
	// Scan is set when the whole table is read while the lock is held.
	Scan bool
}

// Classify says what st does, given the catalog as it was just before st.
func Classify(st *parser.Statement, cat *schema.Catalog, pgVersion int) Info {
	return classify(st, cat, pgVersion, 0)
}

// maxDepth bounds how deep calls are followed (functions may recurse).
const maxDepth = 3

func classify(st *parser.Statement, cat *schema.Catalog, pgVersion, depth int) Info {
	var in Info
	switch n := st.Node.(type) {
	case *parser.CreateTable:
		in.Class = Expand
		for _, k := range n.Constraints {
			if k.References != nil && !cat.FreshTable(k.References.Table) {
				in.lock(ShareRowExclusive, k.References.Table)
			}
		}
		if n.PartitionOf != nil && !cat.FreshTable(*n.PartitionOf) {
			in.lock(AccessExclusive, *n.PartitionOf)
		}
	case *parser.AlterTable:
		classifyAlter(&in, n, cat, pgVersion)
	case *parser.CreateIndex:
		in.Class = Expand
		if !cat.FreshTable(n.Table) {
			if n.Concurrently {
				in.lock(ShareUpdateExclusive, n.Table)
			} else {
				in.lock(Share, n.Table)
				in.Scan = true
			}
			if n.Unique && !freshColumns(cat, n.Table, n.Columns) {
				in.Class = Contract // tightening only: not expand as well
				in.Reason = fmt.Sprintf("unique index on existing columns of %q: the old color's writes may violate it", n.Table.String())
			}
		}
	case *parser.Drop:
		classifyDrop(&in, n, cat)
	case *parser.Rename:
		switch n.Object {
		case "table", "view", "materialized view", "column", "schema", "type", "function", "procedure", "sequence", "attribute", "foreign table":
			if !renamedFresh(n, cat) {
				in.breaking(fmt.Sprintf("renaming %s %q breaks the running color, which still uses the old name", n.Object, renamedName(n)))
			}
		}
		if n.Table.Name != "" && !cat.FreshTable(n.Table) {
			in.lock(AccessExclusive, n.Table)
		}
	case *parser.SetSchema:
		if !FreshObject(cat, n.Object, n.Name) {
			in.breaking(fmt.Sprintf("moving %s %q to schema %q breaks the running color, which looks for it in the old schema", n.Object, n.Name.String(), n.NewSchema))
			if n.Object == "table" {
				in.lock(AccessExclusive, n.Name)
			}
		}
	case *parser.AlterEnum:
		if n.RenameFrom != "" {
			if e := cat.Enum(n.Type); e == nil || !cat.Fresh(e.Origin) {
				in.breaking(fmt.Sprintf("renaming value %q of enum %q breaks the running color, which still writes the old value", n.RenameFrom, n.Type.String()))
			}
		} else {
			in.Class = Expand
		}
	case *parser.CreateEnum, *parser.CreateView, *parser.CreateFunction, *parser.CreateSequence,
		*parser.CreateSchema, *parser.CreateTrigger:
		in.Class = Expand
		if ct, ok := n.(*parser.CreateTrigger); ok && !cat.FreshTable(ct.Table) {
			in.lock(ShareRowExclusive, ct.Table)
		}
	case *parser.Do:
		classifyBody(&in, cat.Runs(st), cat, pgVersion, depth)
	case *parser.Truncate:
		for _, t := range n.Tables {
			if !cat.FreshTable(t) {
				in.contract(fmt.Sprintf("truncating %q removes rows the running color uses", t.String()))
				in.lock(AccessExclusive, t)
			}
		}
	case *parser.DropDatabase:
		in.breaking(fmt.Sprintf("dropping database %q", n.Name))
	case *parser.Reindex:
		if n.Concurrently {
			in.lock(ShareUpdateExclusive, n.Name)
		} else {
			in.lock(AccessExclusive, n.Name)
			in.Scan = true
		}
	case *parser.Cluster:
		in.lock(AccessExclusive, n.Table)
		in.Rewrite = true
	case *parser.Vacuum:
		for _, t := range n.Tables {
			if n.Full {
				in.lock(AccessExclusive, t)
				in.Rewrite = true
			} else {
				in.lock(ShareUpdateExclusive, t)
			}
		}
	case *parser.Grant:
		if n.Revoke && !freshObjects(cat, n.Object, n.Objects) {
			in.contract("revoking privileges the running color may use")
		} else if n.Revoke {
			in.Class = None
		} else {
			in.Class = Expand
		}
	case *parser.Policy:
		if !cat.FreshTable(n.Table) {
			in.contract(fmt.Sprintf("a row-level security policy on %q changes which rows the running color sees", n.Table.String()))
			in.lock(AccessExclusive, n.Table)
		} else {
			in.Class = Expand
		}
	case *parser.Update:
		if !cat.FreshTable(n.Table) {
			in.lock(RowExclusive, n.Table)
		}
	case *parser.Delete:
		if !cat.FreshTable(n.Table) {
			in.lock(RowExclusive, n.Table)
		}
	case *parser.Insert:
		if !cat.FreshTable(n.Table) {
			in.lock(RowExclusive, n.Table)
		}
	case *parser.LockTable:
		for _, t := range n.Tables {
			if !cat.FreshTable(t) {
				in.lock(ParseLock(n.Mode), t)
			}
		}
	case *parser.Refresh:
		if n.Concurrently {
			in.lock(Exclusive, n.View)
		} else {
			in.lock(AccessExclusive, n.View)
		}
	case *parser.Select, *parser.Call:
		classifyBody(&in, cat.Runs(st), cat, pgVersion, depth)
	}
	return in
}

// classifyBody merges the classes of the statements of a DO block or of a
// function the statement calls.
func classifyBody(in *Info, body []*parser.Statement, cat *schema.Catalog, pgVersion, depth int) {
	if depth >= maxDepth {
		return
	}
	for _, b := range body {
		bi := classify(b, cat, pgVersion, depth+1)
		in.merge(bi)
	}
}

func (in *Info) merge(o Info) {
	if o.Class > in.Class || (o.Class == Expand && in.Class == Contract) || (o.Class == Contract && in.Class == Expand) {
		switch {
		case (o.Class == Expand && in.Class == Contract) || (o.Class == Contract && in.Class == Expand):
			in.Class = Mixed
			if in.Reason == "" {
				in.Reason = o.Reason
			}
		default:
			in.Class, in.Reason = o.Class, o.Reason
		}
	}
	if o.Lock > in.Lock {
		in.Lock, in.Table = o.Lock, o.Table
	}
	in.Rewrite = in.Rewrite || o.Rewrite
	in.Scan = in.Scan || o.Scan
}

func (in *Info) lock(l Lock, t parser.QName) {
	if l > in.Lock {
		in.Lock, in.Table = l, t.String()
	}
}

func (in *Info) expand() {
	if in.Class == None {
		in.Class = Expand
	} else if in.Class == Contract {
		in.Class = Mixed
	}
}

func (in *Info) contract(reason string) {
	switch in.Class {
	case None:
		in.Class, in.Reason = Contract, reason
	case Expand:
		in.Class, in.Reason = Mixed, reason
	}
}

func (in *Info) breaking(reason string) {
	if in.Class != Breaking {
		in.Class, in.Reason = Breaking, reason
	}
}

func freshColumns(cat *schema.Catalog, t parser.QName, cols []string) bool {
	tab := cat.Table(t)
	if tab == nil || len(cols) == 0 {
		return false
	}
	for _, c := range cols {
		col := tab.Column(c)
		if col == nil || !cat.Fresh(col.Origin) {
			return false
		}
	}
	return true
}

// freshObjects reports whether every object is new in this release.
func freshObjects(cat *schema.Catalog, object string, names []parser.QName) bool {
	for _, q := range names {
		if !FreshObject(cat, object, q) {
			return false
		}
	}
	return len(names) > 0
}

// requiresUnsetColumn reports whether making col required would reject the
// running color's inserts: it was added in this release (so the running
// color does not set it), has no default and is not NOT NULL already.
func requiresUnsetColumn(tab *schema.Table, col string) bool {
	c := tab.Column(col)
	return c != nil && !c.NotNull && (c.Default == nil || c.Default.Null)
}

func unsetColumnReason(t parser.QName, col string) string {
	return fmt.Sprintf("column %q of %q, added in this release without a default, becomes NOT NULL: the running color's inserts do not set it and fail", col, t.String())
}

func renamedName(n *parser.Rename) string {
	switch n.Object {
	case "column", "attribute":
		return n.Table.String() + "." + n.Old
	case "schema":
		return n.Old
	}
	return n.Name.String()
}

func renamedFresh(n *parser.Rename, cat *schema.Catalog) bool {
	switch n.Object {
	case "column":
		return FreshColumn(cat, n.Table, n.Old)
	case "schema":
		return FreshObject(cat, n.Object, parser.QName{Name: n.Old})
	}
	return FreshObject(cat, n.Object, n.Name)
}

func classifyDrop(in *Info, n *parser.Drop, cat *schema.Catalog) {
	for i, q := range n.Names {
		fresh := false
		switch n.Object {
		case "table", "foreign table":
			fresh = cat.FreshTable(q)
			if !fresh {
				in.lock(AccessExclusive, q)
			}
		case "index":
			ix := cat.Index(q)
			fresh = ix != nil && cat.Fresh(ix.Origin)
			if !fresh {
				table := q
				if ix != nil {
					table = parser.QName{Name: ix.Table}
				}
				if n.Concurrently {
					in.lock(ShareUpdateExclusive, table)
				} else {
					in.lock(AccessExclusive, table)
				}
			}
		case "view", "materialized view":
			fresh = cat.Fresh(cat.ViewOrigin(q))
		case "type":
			e := cat.Enum(q)
			fresh = e != nil && cat.Fresh(e.Origin)
		case "function", "procedure", "routine":
			fn := cat.Function(q.Name)
			fresh = fn != nil && cat.Fresh(fn.Origin)
		case "sequence":
			fresh = cat.Fresh(cat.SequenceOrigin(q))
		case "trigger", "policy", "rule":
			if i < len(n.On) {
				fresh = cat.FreshTable(n.On[i])
				if !fresh {
					in.lock(AccessExclusive, n.On[i])
				}
			}
		case "schema":
			fresh = FreshObject(cat, n.Object, q)
		case "extension", "domain", "aggregate", "collation", "publication", "event trigger", "operator", "cast":
		default:
			continue
		}
		if !fresh {
			in.contract(fmt.Sprintf("dropping %s %q removes what the running color may use", n.Object, q.String()))
		}
	}
}

func classifyAlter(in *Info, n *parser.AlterTable, cat *schema.Catalog, pgVersion int) {
	tab := cat.Table(n.Table)
	fresh := cat.FreshTable(n.Table)
	if n.Object != "table" && n.Object != "foreign table" {
		if !fresh {
			in.lock(AccessExclusive, n.Table)
		}
		return
	}
	for _, cmd := range n.Cmds {
		lock := AccessExclusive
		switch cmd.Op {
		case parser.AddColumn:
			in.expand()
			cd := cmd.ColumnDef
			if cd == nil {
				break
			}
			if RewritesOnAdd(cd, pgVersion) {
				in.Rewrite = true
			}
			if cd.PrimaryKey || cd.Unique {
				in.Scan = true
			}
			if !fresh && cd.NotNull && (cd.Default == nil || cd.Default.Null) && !cd.Identity && !cd.Serial() && !cd.Generated {
				in.breaking(fmt.Sprintf("column %q of %q is NOT NULL without a default: the running color's inserts do not set it and fail", cd.Name, n.Table.String()))
			}
		case parser.DropColumn:
			if !fresh && !freshColumns(cat, n.Table, []string{cmd.Column}) {
				in.contract(fmt.Sprintf("dropping column %q of %q breaks the running color, which still reads it", cmd.Column, n.Table.String()))
			}
		case parser.AlterColumnType:
			col := tab.Column(cmd.Column)
			if col != nil && cmd.Type != nil && BinaryCompatible(col.Type, *cmd.Type) && cmd.Using == nil {
				in.expand()
				break
			}
			in.Rewrite = true
			if !fresh && !freshColumns(cat, n.Table, []string{cmd.Column}) {
				in.breaking(fmt.Sprintf("changing the type of %q.%q breaks the running color, which reads and writes the old type", n.Table.String(), cmd.Column))
			}
		case parser.SetDefault:
			in.expand()
		case parser.DropDefault:
			switch {
			case fresh:
			case !freshColumns(cat, n.Table, []string{cmd.Column}):
				in.contract(fmt.Sprintf("dropping the default of %q.%q: the running color's inserts may rely on it", n.Table.String(), cmd.Column))
			case tab.Column(cmd.Column).NotNull:
				// A NOT NULL column of this release loses the default the
				// running color's inserts relied on without knowing it.
				in.breaking(unsetColumnReason(n.Table, cmd.Column))
			}
		case parser.SetNotNull:
			switch {
			case fresh:
			case !freshColumns(cat, n.Table, []string{cmd.Column}):
				in.contract(fmt.Sprintf("SET NOT NULL on %q.%q: the running color may still write NULL", n.Table.String(), cmd.Column))
			case requiresUnsetColumn(tab, cmd.Column):
				in.breaking(unsetColumnReason(n.Table, cmd.Column))
			default:
				in.expand()
			}
			if !(pgVersion >= 12 && tab.HasValidatedNotNullCheck(cmd.Column)) {
				in.Scan = true
			}
		case parser.DropNotNull, parser.DisableRLS, parser.NoForceRLS, parser.AddIdentity:
			in.expand()
		case parser.AddConstraint:
			k := cmd.Constraint
			if k == nil {
				break
			}
			if k.Kind == parser.ConstraintForeignKey {
				lock = ShareRowExclusive
				if k.References != nil && !cat.FreshTable(k.References.Table) {
					in.lock(ShareRowExclusive, k.References.Table)
				}
			}
			if !k.NotValid && k.UsingIndex == "" {
				in.Scan = true
			}
			switch {
			case !fresh && k.NotNullColumn != "" && freshColumns(cat, n.Table, k.Columns) && requiresUnsetColumn(tab, k.NotNullColumn):
				in.breaking(unsetColumnReason(n.Table, k.NotNullColumn))
			case fresh || freshColumns(cat, n.Table, k.Columns):
				in.expand()
			default:
				in.contract(fmt.Sprintf("new %s constraint on existing columns of %q: the running color's writes may violate it", k.Kind, n.Table.String()))
			}
		case parser.ValidateConstraint:
			lock = ShareUpdateExclusive
			in.Scan = true
		case parser.DropConstraint:
			in.expand()
		case parser.SetLogged, parser.SetUnlogged, parser.SetTablespace, parser.SetAccessMethod:
			in.Rewrite = true
		case parser.AttachPartition:
			in.expand()
			if pgVersion >= 12 {
				lock = ShareUpdateExclusive
			}
		case parser.DetachPartition:
			in.contract(fmt.Sprintf("detaching a partition of %q removes its rows from what the running color reads", n.Table.String()))
			if cmd.Concurrently {
				lock = ShareUpdateExclusive
			}
		case parser.EnableRLS, parser.ForceRLS:
			if !fresh {
				in.contract(fmt.Sprintf("row-level security on %q changes which rows the running color sees", n.Table.String()))
			}
		case parser.DropIdentity:
			if !fresh {
				in.contract(fmt.Sprintf("dropping the identity of %q.%q: the running color's inserts may rely on it", n.Table.String(), cmd.Column))
			}
		case parser.SetStatistics, parser.SetOptions, parser.ClusterOn:
			lock = ShareUpdateExclusive
		case parser.TriggerToggle:
			lock = ShareRowExclusive
		}
		if !fresh {
			in.lock(lock, n.Table)
		}
	}
}

// RewritesOnAdd reports whether adding the column rewrites the table: a
// volatile default (any default before PostgreSQL 11), a serial type or a
// stored generated column.
func RewritesOnAdd(cd *parser.ColumnDef, pgVersion int) bool {
	if cd.Generated || cd.Serial() || cd.Identity {
		return true
	}
	if cd.Default == nil || cd.Default.Null {
		return false
	}
	return pgVersion < 11 || Volatile(cd.Default)
}
