package phases

import (
	"fmt"
	"strings"

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
		switch {
		case n.Object == "index":
			// PostgreSQL 12 and later rename an index under SHARE UPDATE
			// EXCLUSIVE on the index only.
			if ix := cat.Index(n.Name); ix == nil || !cat.Fresh(ix.Origin) {
				l := AccessExclusive
				if pgVersion >= 12 {
					l = ShareUpdateExclusive
				}
				in.lock(l, n.Name)
			}
		case n.Table.Name != "" && !cat.FreshTable(n.Table):
			in.lock(AccessExclusive, n.Table)
		}
	case *parser.SetSchema:
		if !FreshObject(cat, n.Object, n.Name) {
			in.breaking(fmt.Sprintf("moving %s %q to schema %q breaks the running color, which looks for it in the old schema", n.Object, n.Name.String(), n.NewSchema))
			switch n.Object {
			case "table", "view", "materialized view", "sequence", "foreign table":
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
	case *parser.CreateDomain:
		in.Class = Expand
	case *parser.AlterDomain:
		switch n.Op {
		case "add constraint", "set not null":
			if d := cat.Domain(n.Name); d == nil || !cat.Fresh(d.Origin) {
				in.contract(fmt.Sprintf("a new constraint on domain %q rejects the running color's writes that break it", n.Name.String()))
			}
			if n.Op == "set not null" || n.Constraint == nil || !n.Constraint.NotValid {
				domainScan(&in, cat, n.Name)
			}
		case "validate constraint":
			domainScan(&in, cat, n.Name)
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
		// REINDEX locks the table SHARE (writes wait) and each index it
		// rebuilds ACCESS EXCLUSIVE (so do reads planned with it).
		if ix := cat.Index(n.Name); cat.FreshTable(n.Name) || ix != nil && cat.Fresh(ix.Origin) {
			// A new index of an existing table: the table is still locked.
			if ix != nil && !cat.FreshTable(parser.QName{Name: ix.Table}) {
				l := Share
				if n.Concurrently {
					l = ShareUpdateExclusive
				}
				in.lock(l, parser.QName{Name: ix.Table})
			}
			break
		}
		if n.Concurrently {
			in.lock(ShareUpdateExclusive, n.Name)
		} else {
			in.lock(AccessExclusive, n.Name)
			in.Scan = true
		}
	case *parser.Cluster:
		in.Rewrite = true
		if !cat.FreshTable(n.Table) {
			in.lock(AccessExclusive, n.Table)
		}
	case *parser.Vacuum:
		if n.Full && len(n.Tables) == 0 {
			// Every table of the database, one after the other.
			in.lock(AccessExclusive, parser.QName{Name: "every table"})
			in.Rewrite = true
		}
		for _, t := range n.Tables {
			switch {
			case n.Full:
				in.Rewrite = true
				if !cat.FreshTable(t) {
					in.lock(AccessExclusive, t)
				}
			case !cat.FreshTable(t):
				in.lock(ShareUpdateExclusive, t)
			}
		}
	case *parser.Comment:
		if n.Table.Name != "" && !cat.FreshTable(n.Table) {
			in.lock(ShareUpdateExclusive, n.Table)
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
			// The index's table is locked, new index or not.
			ix := cat.Index(q)
			table := q
			if ix != nil {
				table = parser.QName{Name: ix.Table}
			}
			if !cat.FreshTable(table) {
				if n.Concurrently {
					in.lock(ShareUpdateExclusive, table)
				} else {
					in.lock(AccessExclusive, table)
				}
			}
			// Relaxing, like dropping the constraint an index may back:
			// the running color's queries still run, perhaps slower.
			continue
		case "view", "materialized view":
			fresh = cat.Fresh(cat.ViewOrigin(q))
			if !fresh {
				in.lock(AccessExclusive, q)
			}
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
			for _, t := range cat.Tables() {
				// CASCADE drops its tables: ACCESS EXCLUSIVE on each.
				if !fresh && n.Cascade && strings.EqualFold(t.Name.Schema, q.Name) && !cat.Fresh(t.Origin) {
					in.lock(AccessExclusive, t.Name)
				}
			}
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
			if RewritesOnAdd(cd, pgVersion) || domainWithCheck(cat, cd.Type) {
				in.Rewrite = true
			}
			// A constraint written in the column definition is checked
			// against every existing row, as the separate constraint
			// would be, under the ALTER TABLE's lock; a UNIQUE or PRIMARY
			// KEY builds its index.
			for _, k := range cd.Constraints {
				if fresh {
					break
				}
				if k.Kind == parser.ConstraintForeignKey {
					if k.References != nil && !cat.FreshTable(k.References.Table) {
						in.lock(ShareRowExclusive, k.References.Table)
					}
					if !InlineForeignKeyChecked(cd) {
						continue
					}
				}
				in.Scan = true
			}
			if !fresh && cd.NotNull && (cd.Default == nil || cd.Default.Null) && !cd.Identity && !cd.Serial() && !cd.Generated {
				in.Scan = true // to check that no row exists, which would hold NULL
				in.breaking(fmt.Sprintf("column %q of %q is NOT NULL without a default: the running color's inserts do not set it and fail", cd.Name, n.Table.String()))
			}
		case parser.DropColumn:
			if !fresh && !freshColumns(cat, n.Table, []string{cmd.Column}) {
				in.contract(fmt.Sprintf("dropping column %q of %q breaks the running color, which still reads it", cmd.Column, n.Table.String()))
			}
		case parser.AlterColumnType:
			col := tab.Column(cmd.Column)
			if col != nil && cmd.Type != nil && BinaryCompatible(*col.Type, *cmd.Type) && PlainUsing(cmd) {
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
			already := tab.Column(cmd.Column) != nil && tab.Column(cmd.Column).NotNull
			switch {
			case fresh:
			case already || tab.HasNotNullCheck(cmd.Column):
				// A CHECK (col IS NOT NULL), validated or not, already
				// rejects the running color's writes of NULL: SET NOT NULL
				// restricts nothing more.
			case !freshColumns(cat, n.Table, []string{cmd.Column}):
				in.contract(fmt.Sprintf("SET NOT NULL on %q.%q: the running color may still write NULL", n.Table.String(), cmd.Column))
			case requiresUnsetColumn(tab, cmd.Column):
				in.breaking(unsetColumnReason(n.Table, cmd.Column))
			default:
				in.expand()
			}
			if !already && !(pgVersion >= 12 && tab.HasValidatedNotNullCheck(cmd.Column)) {
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
			if !k.NotValid && k.UsingIndex == "" && !fresh {
				in.Scan = true
			}
			if nullable, known := NullableKeyColumns(cat, n.Table, k, pgVersion); k.UsingIndex != "" && k.Kind == parser.ConstraintPrimaryKey && !fresh && (!known || len(nullable) > 0) {
				// The primary key makes its columns NOT NULL: a scan of
				// the table under the ACCESS EXCLUSIVE lock.
				in.Scan = true
			}
			switch {
			case !fresh && k.NotNullColumn != "" && freshColumns(cat, n.Table, k.Columns) && requiresUnsetColumn(tab, k.NotNullColumn):
				in.breaking(unsetColumnReason(n.Table, k.NotNullColumn))
			case fresh || freshColumns(cat, n.Table, k.Columns) || vacuousForOldWrites(cat, tab, n.Table, k):
				in.expand()
			default:
				in.contract(fmt.Sprintf("new %s constraint on existing columns of %q: the running color's writes may violate it", k.Kind, n.Table.String()))
			}
		case parser.ValidateConstraint:
			lock = ShareUpdateExclusive
			in.Scan = true
		case parser.DropConstraint:
			// Relaxing: the running color's writes meet fewer rules; no
			// phase of its own.
		case parser.SetLogged, parser.SetUnlogged, parser.SetTablespace, parser.SetAccessMethod:
			in.Rewrite = true
		case parser.AttachPartition:
			in.expand()
			if pgVersion >= 12 {
				lock = ShareUpdateExclusive
			}
			// The table attached is locked ACCESS EXCLUSIVE and scanned to
			// check the partition bound.
			if cmd.Partition != nil && !cat.FreshTable(*cmd.Partition) {
				in.lock(AccessExclusive, *cmd.Partition)
				in.Scan = true
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

// InlineForeignKeyChecked reports whether PostgreSQL checks the existing
// rows against a REFERENCES written in an ADD COLUMN: only when the column
// has a default. Without one every row holds NULL, which a foreign key does
// not check, so PostgreSQL marks the constraint valid without a scan.
func InlineForeignKeyChecked(cd *parser.ColumnDef) bool {
	return cd.Default != nil && !cd.Default.Null
}

// PlainUsing reports whether ALTER COLUMN TYPE's USING does no more than
// the conversion without it: none, the column itself, or the column cast
// to the new type.
func PlainUsing(cmd *parser.AlterCmd) bool {
	u := cmd.Using
	if u == nil {
		return true
	}
	if u.Column != cmd.Column || len(u.Funcs) > 0 {
		return false
	}
	for _, t := range u.Casts {
		if cmd.Type == nil || t.Name != cmd.Type.Name || !sameMods(t.Mods, cmd.Type.Mods) || t.Array != cmd.Type.Array {
			return false
		}
	}
	return true
}

// vacuousForOldWrites reports whether a UNIQUE or FOREIGN KEY constraint
// cannot reject the running color's writes: one of its columns is new in
// this release, without a default, so the running color leaves it NULL,
// and a NULL makes a foreign key unchecked and a unique key distinct.
func vacuousForOldWrites(cat *schema.Catalog, tab *schema.Table, t parser.QName, k *parser.Constraint) bool {
	if k.Kind != parser.ConstraintUnique && k.Kind != parser.ConstraintForeignKey {
		return false
	}
	for _, c := range k.Columns {
		col := tab.Column(c)
		if col != nil && cat.Fresh(col.Origin) && !col.NotNull && (col.Default == nil || col.Default.Null) {
			return true
		}
	}
	return false
}

// indexColumns are the columns of ADD CONSTRAINT … USING INDEX's index,
// or the constraint's own.
func indexColumns(cat *schema.Catalog, t parser.QName, k *parser.Constraint) []string {
	if ix := cat.Index(parser.QName{Schema: t.Schema, Name: k.UsingIndex}); ix != nil {
		return ix.Columns
	}
	return k.Columns
}

// NullableKeyColumns are the columns of ADD PRIMARY KEY … USING INDEX
// that the primary key must make NOT NULL, scanning the table: those not
// NOT NULL already nor proven so by a validated CHECK (col IS NOT NULL) on
// PostgreSQL 12 and later. A column the replayed schema does not know is
// taken to be nullable; known is false when the index's columns are not
// known at all.
func NullableKeyColumns(cat *schema.Catalog, t parser.QName, k *parser.Constraint, pgVersion int) (nullable []string, known bool) {
	tab := cat.Table(t)
	cols := indexColumns(cat, t, k)
	if len(cols) == 0 {
		return nil, false
	}
	for _, c := range cols {
		col := tab.Column(c)
		if col != nil && (col.NotNull || pgVersion >= 12 && tab.HasValidatedNotNullCheck(c)) {
			continue
		}
		nullable = append(nullable, c)
	}
	return nullable, true
}

// domainScan records the check of a domain's new constraint: PostgreSQL
// reads every table with a column of the domain under a SHARE lock (none
// when no table the catalog knows uses it).
func domainScan(in *Info, cat *schema.Catalog, d parser.QName) {
	for _, t := range cat.Tables() {
		for _, c := range t.Columns {
			if c.Type.Name == d.Name && !cat.Fresh(t.Origin) {
				in.lock(Share, t.Name)
				in.Scan = true
			}
		}
	}
}

// domainWithCheck reports whether t is a domain with a CHECK constraint:
// a column of it added to a table makes PostgreSQL rewrite the table to
// check every row.
func domainWithCheck(cat *schema.Catalog, t parser.TypeName) bool {
	d := cat.Domain(parser.QName{Name: t.Name})
	return d != nil && d.Check
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
