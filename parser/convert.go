package parser

import (
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// converter turns one parsed statement into the project's model. base is the
// byte offset of the parsed text within the file, so node locations (relative
// to the parsed text) become file offsets.
type converter struct {
	f    *File
	base int
	toks []token // tokens of the file region, file offsets, sorted
	// unscanned, when not empty, is the statement whose tokens at scans
	// on first use (toks is then nil).
	unscanned region
}

// at returns a span starting at a node location and covering the token there.
func (c *converter) at(loc int32) Span {
	if loc < 0 {
		return Span{}
	}
	off := c.base + int(loc)
	end := off
	if c.unscanned.end > c.unscanned.start {
		if end, ok := plainTokenEnd(c.f.Src[:c.unscanned.end], off); ok {
			return c.f.lines.span(off, end)
		}
		// The statement parsed, so its text scans.
		c.toks, _ = scan(c.f.Src[c.unscanned.start:c.unscanned.end], c.unscanned.start)
		c.unscanned = region{}
	}
	if t := tokenAt(c.toks, off); t != nil {
		end = t.end
	}
	return c.f.lines.span(off, end)
}

// plainTokenEnd returns where the token at off in src ends when it is a
// plain identifier or keyword, or a quoted identifier, which end where
// PostgreSQL's scanner ends them: an identifier's bytes are letters, digits,
// "_", "$" and bytes of 0x80 and above, after a first that is no digit and
// no "$"; a quoted one ends at the quote that is not doubled. false for any
// other token, and for those a quote or "&" follows (E'…', U&"…", …).
func plainTokenEnd(src string, off int) (int, bool) {
	if off >= len(src) {
		return 0, false
	}
	identByte := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80 || c >= '0' && c <= '9' || c == '$'
	}
	i := off
	switch c := src[off]; {
	case c == '"':
		for i = off + 1; ; i += 2 {
			j := strings.IndexByte(src[i:], '"')
			if j < 0 {
				return 0, false
			}
			i += j
			if i+1 >= len(src) || src[i+1] != '"' {
				i++
				break
			}
		}
	case identByte(c) && !(c >= '0' && c <= '9') && c != '$':
		for i < len(src) && identByte(src[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(src) && (src[i] == '\'' || src[i] == '&' || src[i] == '"') {
		return 0, false
	}
	return i, true
}

func rangeVar(rv *pg.RangeVar) QName {
	if rv == nil {
		return QName{}
	}
	return QName{Schema: rv.Schemaname, Name: rv.Relname}
}

func strVal(n *pg.Node) string {
	if n == nil {
		return ""
	}
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

func strList(ns []*pg.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, strVal(n))
	}
	return out
}

// qnameOf reads a dotted name list (["s","t"]) into a QName.
func qnameOf(ns []*pg.Node) QName {
	parts := strList(ns)
	switch len(parts) {
	case 0:
		return QName{}
	case 1:
		return QName{Name: parts[0]}
	default:
		return QName{Schema: parts[len(parts)-2], Name: parts[len(parts)-1]}
	}
}

func (c *converter) typeName(tn *pg.TypeName) TypeName {
	if tn == nil {
		return TypeName{}
	}
	names := strList(tn.Names)
	if len(names) > 1 && names[0] == "pg_catalog" {
		names = names[1:]
	}
	t := TypeName{Name: strings.Join(names, "."), Array: len(tn.ArrayBounds) > 0, Span: c.at(tn.Location)}
	for _, m := range tn.Typmods {
		if ac := m.GetAConst(); ac != nil {
			if iv := ac.GetIval(); iv != nil {
				t.Mods = append(t.Mods, int64(iv.Ival))
			}
		}
	}
	t.Text = typeText(t)
	return t
}

var typeDisplay = map[string]string{
	"int2": "smallint", "int4": "integer", "int8": "bigint", "bpchar": "char",
	"varchar": "varchar", "float4": "real", "float8": "double precision", "bool": "boolean",
	"timestamptz": "timestamptz", "timestamp": "timestamp",
}

func typeText(t TypeName) string {
	name := t.Name
	if d, ok := typeDisplay[name]; ok {
		name = d
	}
	if len(t.Mods) > 0 {
		mods := make([]string, len(t.Mods))
		for i, m := range t.Mods {
			mods[i] = itoa(m)
		}
		name += "(" + strings.Join(mods, ",") + ")"
	}
	if t.Array {
		name += "[]"
	}
	return name
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// expr summarises an expression node.
func (c *converter) expr(n *pg.Node) *Expr {
	if n == nil {
		return nil
	}
	e := &Expr{}
	inner := n
	for {
		if tc := inner.GetTypeCast(); tc != nil && tc.Arg != nil {
			e.Casts = append(e.Casts, c.typeName(tc.TypeName))
			inner = tc.Arg
			continue
		}
		break
	}
	if cr := inner.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
		if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
			e.Column = s.Sval
		}
	}
	if ac := inner.GetAConst(); ac != nil {
		e.Const = true
		e.Null = ac.Isnull
	}
	e.Funcs = funcCalls(n)
	for _, fn := range e.Funcs {
		if fn == "nextval" {
			e.NextVal = true
		}
	}
	e.text, e.tree = sync.OnceValue(func() string { return deparseExpr(n) }), n
	e.Span = c.at(nodeLocation(n))
	return e
}

// Detached returns a copy of e (nil for nil) that keeps none of the
// statement's parse: its names are copies, its Span is zero, and its text
// is printed, on first use, from its tree in serialized form. key is the
// same for two expressions exactly when they are the same expression,
// wherever they are written ("" when e has no tree), so that a catalog,
// which outlives the statements, keeps one copy of each.
func (e *Expr) Detached() (d *Expr, key string) {
	if e == nil {
		return nil, ""
	}
	c := *e
	c.Span = Span{}
	c.Funcs = clones(e.Funcs)
	c.Column = strings.Clone(e.Column)
	if e.Casts != nil {
		c.Casts = make([]TypeName, len(e.Casts))
		for i, t := range e.Casts {
			t.Name, t.Text, t.Span = strings.Clone(t.Name), strings.Clone(t.Text), Span{}
			c.Casts[i] = t
		}
	}
	if e.tree == nil {
		return &c, ""
	}
	c.tree = nil
	tree := proto.Clone(e.tree)
	clearLocations(tree.ProtoReflect())
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tree)
	if err != nil {
		c.tree = e.tree
		return &c, ""
	}
	c.text = sync.OnceValue(func() string {
		var n pg.Node
		if proto.Unmarshal(b, &n) != nil {
			return ""
		}
		return deparseExpr(&n)
	})
	return &c, string(b)
}

// clearLocations zeroes the location fields of a parse tree, which say
// where it was written and not what it is.
func clearLocations(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "location" && fd.Kind() == protoreflect.Int32Kind:
			m.Clear(fd)
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				clearLocations(l.Get(i).Message())
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			clearLocations(v.Message())
		}
		return true
	})
}

func clones(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.Clone(s)
	}
	return out
}

// deparseExpr prints an expression through PostgreSQL's deparser.
func deparseExpr(n *pg.Node) string {
	tree := &pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{
		TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}},
	}}}}}}
	out, err := pg.Deparse(tree)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(out, "SELECT ")
}

// nodeLocation finds the location of the first located node in n.
func nodeLocation(n *pg.Node) int32 {
	loc := int32(-1)
	walk(n.ProtoReflect(), func(m protoreflect.Message) bool {
		if loc >= 0 {
			return false
		}
		if fd := m.Descriptor().Fields().ByName("location"); fd != nil {
			if v := int32(m.Get(fd).Int()); v >= 0 && m.Descriptor().Name() != "Node" {
				loc = v
				return false
			}
		}
		return true
	})
	return loc
}

// funcCalls lists the functions called anywhere in n (lower case, schema stripped).
// SQL value functions such as CURRENT_TIMESTAMP are listed by their SQL name.
func funcCalls(n protoreflect.ProtoMessage) []string {
	var out []string
	walk(n.ProtoReflect(), func(m protoreflect.Message) bool {
		switch v := m.Interface().(type) {
		case *pg.FuncCall:
			names := strList(v.Funcname)
			if len(names) > 0 {
				out = append(out, strings.ToLower(names[len(names)-1]))
			}
		case *pg.SQLValueFunction:
			out = append(out, strings.ToLower(strings.TrimPrefix(v.Op.String(), "SVFOP_")))
		}
		return true
	})
	return out
}

// columnRefs lists the columns an expression names, once each, in order of
// appearance (a CHECK constraint's columns).
func columnRefs(n *pg.Node) []string {
	var out []string
	seen := map[string]bool{}
	walk(n.ProtoReflect(), func(m protoreflect.Message) bool {
		if cr, ok := m.Interface().(*pg.ColumnRef); ok && len(cr.Fields) > 0 {
			if name := strVal(cr.Fields[len(cr.Fields)-1]); name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
		return true
	})
	return out
}

// walk visits every message below m in depth-first order, fields in number
// order; visit returns false to skip a message's children. (Message.Range
// is not used: protobuf-go changes its order from one build to another.)
func walk(m protoreflect.Message, visit func(protoreflect.Message) bool) {
	if !m.IsValid() || !visit(m) {
		return
	}
	for _, step := range walkSteps()[m.Descriptor()] {
		fd := step.field
		if step.oneof != nil {
			if fd = m.WhichOneof(step.oneof); fd == nil || fd.Message() == nil {
				continue
			}
		}
		switch {
		case fd.IsList():
			l := m.Get(fd).List()
			for i := 0; i < l.Len(); i++ {
				walk(l.Get(i).Message(), visit)
			}
		case m.Has(fd):
			walk(m.Get(fd).Message(), visit)
		}
	}
}

// walkStep is a message field of a pg_query message, or one of its
// oneofs, whose set field is walked.
type walkStep struct {
	field protoreflect.FieldDescriptor
	oneof protoreflect.OneofDescriptor
}

// walkSteps lists, for each message of pg_query's tree, the steps of walk
// in field number order.
var walkSteps = sync.OnceValue(func() map[protoreflect.MessageDescriptor][]walkStep {
	msgs := pg.File_pg_query_proto.Messages()
	out := make(map[protoreflect.MessageDescriptor][]walkStep, msgs.Len())
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		var steps []walkStep
		fields := md.Fields()
		for j := 0; j < fields.Len(); j++ {
			fd := fields.Get(j)
			switch od := fd.ContainingOneof(); {
			case od != nil && !od.IsSynthetic():
				if od.Fields().Get(0) == fd {
					steps = append(steps, walkStep{oneof: od})
				}
			case fd.Message() != nil && !fd.IsMap():
				steps = append(steps, walkStep{field: fd})
			}
		}
		out[md] = steps
	}
	return out
})

func (c *converter) constraint(con *pg.Constraint, column string) *Constraint {
	out := &Constraint{Name: con.Conname, NotValid: con.SkipValidation, UsingIndex: con.Indexname, Span: c.at(con.Location)}
	switch con.Contype {
	case pg.ConstrType_CONSTR_CHECK:
		out.Kind = ConstraintCheck
		out.Check = c.expr(con.RawExpr)
		if nt := con.RawExpr.GetNullTest(); nt != nil && nt.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
			if cr := nt.Arg.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
				out.NotNullColumn = strVal(cr.Fields[len(cr.Fields)-1])
			}
		}
	case pg.ConstrType_CONSTR_UNIQUE:
		out.Kind = ConstraintUnique
	case pg.ConstrType_CONSTR_PRIMARY:
		out.Kind = ConstraintPrimaryKey
	case pg.ConstrType_CONSTR_FOREIGN:
		out.Kind = ConstraintForeignKey
		out.References = &ForeignKey{Table: rangeVar(con.Pktable), RefColumns: strList(con.PkAttrs)}
		out.Columns = strList(con.FkAttrs)
	case pg.ConstrType_CONSTR_EXCLUSION:
		out.Kind = ConstraintExclusion
	case pg.ConstrType_CONSTR_NOTNULL:
		out.Kind = ConstraintNotNull
	default:
		return nil
	}
	if out.Kind != ConstraintForeignKey {
		out.Columns = strList(con.Keys)
	}
	if out.Kind == ConstraintCheck && con.RawExpr != nil {
		out.Columns = columnRefs(con.RawExpr)
	}
	if len(out.Columns) == 0 && column != "" {
		out.Columns = []string{column}
	}
	return out
}

func (c *converter) columnDef(cd *pg.ColumnDef) *ColumnDef {
	col := &ColumnDef{Name: cd.Colname, Type: c.typeName(cd.TypeName), NotNull: cd.IsNotNull, Span: c.at(cd.Location)}
	if cd.RawDefault != nil {
		col.Default = c.expr(cd.RawDefault)
	}
	if cd.Identity != "" {
		col.Identity = true
	}
	if cd.Generated != "" {
		col.Generated = true
	}
	for _, n := range cd.Constraints {
		con := n.GetConstraint()
		if con == nil {
			continue
		}
		switch con.Contype {
		case pg.ConstrType_CONSTR_NOTNULL:
			col.NotNull = true
		case pg.ConstrType_CONSTR_DEFAULT:
			col.Default = c.expr(con.RawExpr)
		case pg.ConstrType_CONSTR_IDENTITY:
			col.Identity = true
		case pg.ConstrType_CONSTR_GENERATED:
			col.Generated = true
		case pg.ConstrType_CONSTR_PRIMARY:
			col.PrimaryKey = true
			col.NotNull = true
			col.Constraints = append(col.Constraints, c.constraint(con, cd.Colname))
		case pg.ConstrType_CONSTR_UNIQUE:
			col.Unique = true
			col.Constraints = append(col.Constraints, c.constraint(con, cd.Colname))
		case pg.ConstrType_CONSTR_CHECK, pg.ConstrType_CONSTR_FOREIGN, pg.ConstrType_CONSTR_EXCLUSION:
			if k := c.constraint(con, cd.Colname); k != nil {
				col.Constraints = append(col.Constraints, k)
			}
		}
	}
	return col
}

var objectNames = map[pg.ObjectType]string{
	pg.ObjectType_OBJECT_TABLE: "table", pg.ObjectType_OBJECT_INDEX: "index", pg.ObjectType_OBJECT_VIEW: "view",
	pg.ObjectType_OBJECT_MATVIEW: "materialized view", pg.ObjectType_OBJECT_FUNCTION: "function",
	pg.ObjectType_OBJECT_PROCEDURE: "procedure", pg.ObjectType_OBJECT_ROUTINE: "routine",
	pg.ObjectType_OBJECT_AGGREGATE: "aggregate", pg.ObjectType_OBJECT_SCHEMA: "schema",
	pg.ObjectType_OBJECT_TYPE: "type", pg.ObjectType_OBJECT_DOMAIN: "domain", pg.ObjectType_OBJECT_SEQUENCE: "sequence",
	pg.ObjectType_OBJECT_TRIGGER: "trigger", pg.ObjectType_OBJECT_POLICY: "policy", pg.ObjectType_OBJECT_RULE: "rule",
	pg.ObjectType_OBJECT_EXTENSION: "extension", pg.ObjectType_OBJECT_COLUMN: "column",
	pg.ObjectType_OBJECT_TABCONSTRAINT: "constraint", pg.ObjectType_OBJECT_DOMCONSTRAINT: "domain constraint",
	pg.ObjectType_OBJECT_FOREIGN_TABLE: "foreign table", pg.ObjectType_OBJECT_DATABASE: "database",
	pg.ObjectType_OBJECT_ATTRIBUTE: "attribute", pg.ObjectType_OBJECT_COLLATION: "collation",
	pg.ObjectType_OBJECT_ROLE: "role", pg.ObjectType_OBJECT_TABLESPACE: "tablespace",
	pg.ObjectType_OBJECT_EVENT_TRIGGER: "event trigger", pg.ObjectType_OBJECT_PUBLICATION: "publication",
	pg.ObjectType_OBJECT_OPERATOR: "operator", pg.ObjectType_OBJECT_CAST: "cast",
}

func objectName(t pg.ObjectType) string {
	if s, ok := objectNames[t]; ok {
		return s
	}
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(t.String(), "OBJECT_"), "_", " "))
}

// objectQName reads the name of a DROP / RENAME / SET SCHEMA object node.
func objectQName(n *pg.Node) QName {
	switch {
	case n == nil:
		return QName{}
	case n.GetList() != nil:
		return qnameOf(n.GetList().Items)
	case n.GetObjectWithArgs() != nil:
		return qnameOf(n.GetObjectWithArgs().Objname)
	case n.GetTypeName() != nil:
		return qnameOf(n.GetTypeName().Names)
	case n.GetString_() != nil:
		return QName{Name: n.GetString_().Sval}
	}
	return QName{}
}

// domainOps names the subtypes of ALTER DOMAIN.
var domainOps = map[string]string{
	"C": "add constraint", "V": "validate constraint", "X": "drop constraint",
	"O": "set not null", "N": "drop not null", "T": "set default",
}

// targetNames lists the names of ResTargets (UPDATE … SET, INSERT's column
// list); one with a subscript or field is named "name[…]" or "name.…".
func targetNames(ns []*pg.Node) []string {
	var out []string
	for _, n := range ns {
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		name := rt.Name
		if len(rt.Indirection) > 0 {
			name += "[…]"
		}
		out = append(out, name)
	}
	return out
}

// appendFromTables appends the tables a FROM item reads directly.
func appendFromTables(out []QName, n *pg.Node) []QName {
	switch {
	case n.GetRangeVar() != nil:
		return append(out, rangeVar(n.GetRangeVar()))
	case n.GetJoinExpr() != nil:
		j := n.GetJoinExpr()
		return appendFromTables(appendFromTables(out, j.Larg), j.Rarg)
	}
	return out
}

// viewColumns names the columns of the view v defines, as PostgreSQL
// does: the column list, else the output names of the query
// (FigureColname); nil when it has none or a * leaves them unknown. The
// tree keeps what this reads of the query (viewRules).
func viewColumns(v *pg.ViewStmt) []string {
	var out []string
	for _, a := range v.Aliases {
		if s := a.GetString_(); s != nil {
			out = append(out, s.Sval)
		}
	}
	sel := v.Query.GetSelectStmt()
	for sel != nil && sel.Larg != nil {
		sel = sel.Larg
	}
	if sel == nil {
		return out
	}
	var names []string
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return out
		}
		if rt.Name != "" {
			names = append(names, rt.Name)
			continue
		}
		name, ok := colName(rt.Val)
		if !ok {
			return out // a *: the columns are the table's
		}
		names = append(names, name)
	}
	// The column list names the first columns, the query the rest.
	if len(out) < len(names) {
		out = append(out, names[len(out):]...)
	}
	return out
}

// colName is PostgreSQL's FigureColname for the common expressions; false
// for a *.
func colName(n *pg.Node) (string, bool) {
	switch {
	case n.GetColumnRef() != nil:
		f := n.GetColumnRef().Fields
		if len(f) == 0 {
			return "?column?", true
		}
		if f[len(f)-1].GetAStar() != nil {
			return "", false
		}
		if s := f[len(f)-1].GetString_(); s != nil {
			return s.Sval, true
		}
	case n.GetFuncCall() != nil:
		if names := strList(n.GetFuncCall().Funcname); len(names) > 0 {
			return names[len(names)-1], true
		}
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		if name, ok := colName(tc.Arg); !ok || name != "?column?" {
			return name, ok
		}
		if names := strList(tc.TypeName.GetNames()); len(names) > 0 {
			return names[len(names)-1], true
		}
	case n.GetCaseExpr() != nil:
		return "case", true
	case n.GetCoalesceExpr() != nil:
		return "coalesce", true
	case n.GetAIndirection() != nil:
		if ind := n.GetAIndirection().Indirection; len(ind) > 0 {
			if s := ind[len(ind)-1].GetString_(); s != nil {
				return s.Sval, true
			}
		}
		return colName(n.GetAIndirection().Arg)
	case n.GetSubLink() != nil:
		switch n.GetSubLink().SubLinkType {
		case pg.SubLinkType_EXISTS_SUBLINK:
			return "exists", true
		case pg.SubLinkType_ARRAY_SUBLINK:
			return "array", true
		case pg.SubLinkType_EXPR_SUBLINK:
			// The name of the subquery's one output column.
			sel := n.GetSubLink().Subselect.GetSelectStmt()
			for sel != nil && sel.Larg != nil {
				sel = sel.Larg
			}
			if sel != nil && len(sel.TargetList) > 0 {
				if rt := sel.TargetList[0].GetResTarget(); rt != nil {
					if rt.Name != "" {
						return rt.Name, true
					}
					if name, ok := colName(rt.Val); ok {
						return name, true
					}
				}
			}
		}
	case n.GetMinMaxExpr() != nil:
		if n.GetMinMaxExpr().Op == pg.MinMaxOp_IS_GREATEST {
			return "greatest", true
		}
		return "least", true
	case n.GetAExpr() != nil && n.GetAExpr().Kind == pg.A_Expr_Kind_AEXPR_NULLIF:
		return "nullif", true
	case n.GetRowExpr() != nil:
		return "row", true
	case n.GetAArrayExpr() != nil:
		return "array", true
	case n.GetGroupingFunc() != nil:
		return "grouping", true
	case n.GetCollateClause() != nil:
		return colName(n.GetCollateClause().Arg)
	case n.GetSqlvalueFunction() != nil:
		op := strings.TrimPrefix(n.GetSqlvalueFunction().Op.String(), "SVFOP_")
		return strings.ToLower(strings.TrimSuffix(op, "_N")), true
	}
	return "?column?", true
}

var lockModes = []string{"", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
	"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}

// defBool reads a boolean option the way PostgreSQL's defGetBoolean does:
// no value, true, on, yes and 1 are true; false, off, no and 0 false.
func defBool(d *pg.DefElem) bool {
	if d.Arg == nil {
		return true
	}
	switch {
	case d.Arg.GetInteger() != nil:
		return d.Arg.GetInteger().Ival != 0
	case d.Arg.GetBoolean() != nil:
		return d.Arg.GetBoolean().Boolval
	case d.Arg.GetString_() != nil:
		switch strings.ToLower(d.Arg.GetString_().Sval) {
		case "false", "off", "no", "0":
			return false
		}
	case d.Arg.GetAConst() != nil:
		ac := d.Arg.GetAConst()
		if iv := ac.GetIval(); iv != nil {
			return iv.Ival != 0
		}
		if bv := ac.GetBoolval(); bv != nil {
			return bv.Boolval
		}
		if sv := ac.GetSval(); sv != nil {
			switch strings.ToLower(sv.Sval) {
			case "false", "off", "no", "0":
				return false
			}
		}
	}
	return true
}

func defElems(ns []*pg.Node) map[string]*pg.Node {
	out := map[string]*pg.Node{}
	for _, n := range ns {
		if d := n.GetDefElem(); d != nil {
			out[d.Defname] = d.Arg
		}
	}
	return out
}

// convert fills st from the parse tree of one statement.
func (c *converter) convert(t stmtTree, st *Statement) {
	n := t.node
	switch {
	case n.GetCreateStmt() != nil:
		c.createTable(n.GetCreateStmt(), st)
	case n.GetAlterTableStmt() != nil:
		c.alterTable(n.GetAlterTableStmt(), st)
	case n.GetIndexStmt() != nil:
		s := n.GetIndexStmt()
		ci := &CreateIndex{Name: s.Idxname, Table: rangeVar(s.Relation), Unique: s.Unique, Concurrently: s.Concurrent,
			IfNotExists: s.IfNotExists, Partial: s.WhereClause != nil, Method: s.AccessMethod}
		for _, p := range s.IndexParams {
			if ie := p.GetIndexElem(); ie != nil {
				ci.Columns = append(ci.Columns, ie.Name)
			}
		}
		st.Node, st.Tag = ci, "CREATE INDEX"
	case n.GetDropStmt() != nil:
		s := n.GetDropStmt()
		d := &Drop{Object: objectName(s.RemoveType), Concurrently: s.Concurrent, IfExists: s.MissingOk,
			Cascade: s.Behavior == pg.DropBehavior_DROP_CASCADE}
		for _, o := range s.Objects {
			q := objectQName(o)
			switch s.RemoveType {
			case pg.ObjectType_OBJECT_TRIGGER, pg.ObjectType_OBJECT_POLICY, pg.ObjectType_OBJECT_RULE:
				// [schema,] table, name
				if l := o.GetList(); l != nil && len(l.Items) >= 2 {
					parts := strList(l.Items)
					d.On = append(d.On, qnameOf(l.Items[:len(parts)-1]))
					q = QName{Name: parts[len(parts)-1]}
				}
			}
			d.Names = append(d.Names, q)
		}
		st.Node, st.Tag = d, "DROP "+strings.ToUpper(d.Object)
	case n.GetRenameStmt() != nil:
		s := n.GetRenameStmt()
		r := &Rename{Object: objectName(s.RenameType), Table: rangeVar(s.Relation), Name: objectQName(s.Object),
			Old: s.Subname, NewName: s.Newname}
		if s.Relation != nil && r.Name.Name == "" {
			r.Name = r.Table
		}
		if s.RenameType == pg.ObjectType_OBJECT_COLUMN || s.RenameType == pg.ObjectType_OBJECT_ATTRIBUTE {
			r.Object = "column"
			if s.RelationType == pg.ObjectType_OBJECT_TYPE {
				r.Object = "attribute"
			}
		}
		st.Node, st.Tag = r, "ALTER "+strings.ToUpper(objectName(relationTypeOr(s, s.RenameType)))
	case n.GetAlterObjectSchemaStmt() != nil:
		s := n.GetAlterObjectSchemaStmt()
		q := objectQName(s.Object)
		if s.Relation != nil {
			q = rangeVar(s.Relation)
		}
		st.Node, st.Tag = &SetSchema{Object: objectName(s.ObjectType), Name: q, NewSchema: s.Newschema}, "ALTER "+strings.ToUpper(objectName(s.ObjectType))
	case n.GetAlterEnumStmt() != nil:
		s := n.GetAlterEnumStmt()
		ae := &AlterEnum{Type: qnameOf(s.TypeName), IfNotExists: s.SkipIfNewValExists}
		if s.OldVal != "" {
			ae.RenameFrom, ae.RenameTo = s.OldVal, s.NewVal
		} else {
			ae.AddValue, ae.Neighbor, ae.After = s.NewVal, s.NewValNeighbor, s.NewValIsAfter
		}
		st.Node, st.Tag = ae, "ALTER TYPE"
	case n.GetCreateEnumStmt() != nil:
		s := n.GetCreateEnumStmt()
		st.Node, st.Tag = &CreateEnum{Type: qnameOf(s.TypeName), Values: strList(s.Vals)}, "CREATE TYPE"
	case n.GetViewStmt() != nil:
		s := n.GetViewStmt()
		st.Node, st.Tag = &CreateView{View: rangeVar(s.View), Replace: s.Replace, Columns: viewColumns(s)}, "CREATE VIEW"
	case n.GetCreateDomainStmt() != nil:
		s := n.GetCreateDomainStmt()
		d := &CreateDomain{Name: qnameOf(s.Domainname), Type: c.typeName(s.TypeName)}
		for _, k := range s.Constraints {
			switch k.GetConstraint().GetContype() {
			case pg.ConstrType_CONSTR_CHECK:
				d.Check = true
			case pg.ConstrType_CONSTR_NOTNULL:
				d.NotNull = true
			}
		}
		st.Node, st.Tag = d, "CREATE DOMAIN"
	case n.GetAlterDomainStmt() != nil:
		s := n.GetAlterDomainStmt()
		d := &AlterDomain{Name: qnameOf(s.TypeName), Op: domainOps[s.Subtype]}
		if k := s.Def.GetConstraint(); k != nil && s.Subtype == "C" {
			d.Constraint = c.constraint(k, "")
		}
		st.Node, st.Tag = d, "ALTER DOMAIN"
	case n.GetCreateTableAsStmt() != nil:
		s := n.GetCreateTableAsStmt()
		var q QName
		if s.Into != nil {
			q = rangeVar(s.Into.Rel)
		}
		if s.Objtype == pg.ObjectType_OBJECT_MATVIEW {
			st.Node, st.Tag = &CreateView{View: q, Materialized: true}, "CREATE MATERIALIZED VIEW"
		} else {
			st.Node, st.Tag = &CreateTable{Table: q, AsSelect: true, IfNotExists: s.IfNotExists}, "CREATE TABLE AS"
		}
	case n.GetCreateFunctionStmt() != nil:
		c.createFunction(n.GetCreateFunctionStmt(), st)
	case n.GetDoStmt() != nil:
		c.doBlock(n.GetDoStmt(), st)
	case n.GetTruncateStmt() != nil:
		s := n.GetTruncateStmt()
		t := &Truncate{Cascade: s.Behavior == pg.DropBehavior_DROP_CASCADE}
		for _, r := range s.Relations {
			t.Tables = append(t.Tables, rangeVar(r.GetRangeVar()))
		}
		st.Node, st.Tag = t, "TRUNCATE"
	case n.GetCommentStmt() != nil:
		s := n.GetCommentStmt()
		cm := &Comment{Object: strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.Objtype.String(), "OBJECT_"), "_", " "))}
		names := strList(s.GetObject().GetList().GetItems())
		switch s.Objtype {
		case pg.ObjectType_OBJECT_TABLE:
			cm.Table = qnameOfList(names)
		case pg.ObjectType_OBJECT_COLUMN:
			if len(names) > 1 {
				cm.Table = qnameOfList(names[:len(names)-1])
			}
		}
		st.Node, st.Tag = cm, "COMMENT"
	case n.GetDropdbStmt() != nil:
		st.Node, st.Tag = &DropDatabase{Name: n.GetDropdbStmt().Dbname}, "DROP DATABASE"
	case n.GetReindexStmt() != nil:
		s := n.GetReindexStmt()
		r := &Reindex{Target: strings.ToLower(strings.TrimPrefix(s.Kind.String(), "REINDEX_OBJECT_"))}
		if s.Relation != nil {
			r.Name = rangeVar(s.Relation)
		} else {
			r.Name = QName{Name: s.Name}
		}
		for _, p := range s.Params {
			if d := p.GetDefElem(); d != nil && d.Defname == "concurrently" {
				r.Concurrently = defBool(d)
			}
		}
		st.Node, st.Tag = r, "REINDEX"
	case n.GetClusterStmt() != nil:
		st.Node, st.Tag = &Cluster{Table: rangeVar(n.GetClusterStmt().Relation)}, "CLUSTER"
	case n.GetVacuumStmt() != nil:
		s := n.GetVacuumStmt()
		v := &Vacuum{Analyze: !s.IsVacuumcmd}
		for _, o := range s.Options {
			if d := o.GetDefElem(); d != nil && d.Defname == "full" {
				v.Full = defBool(d)
			}
		}
		for _, r := range s.Rels {
			if vr := r.GetVacuumRelation(); vr != nil {
				v.Tables = append(v.Tables, rangeVar(vr.Relation))
			}
		}
		st.Node, st.Tag = v, "VACUUM"
		if v.Analyze {
			st.Tag = "ANALYZE"
		}
	case n.GetGrantStmt() != nil:
		s := n.GetGrantStmt()
		g := &Grant{Revoke: !s.IsGrant, Object: objectName(s.Objtype)}
		for _, o := range s.Objects {
			if rv := o.GetRangeVar(); rv != nil {
				g.Objects = append(g.Objects, rangeVar(rv))
			} else {
				g.Objects = append(g.Objects, objectQName(o))
			}
		}
		st.Node, st.Tag = g, "GRANT"
		if g.Revoke {
			st.Tag = "REVOKE"
		}
	case n.GetCreatePolicyStmt() != nil:
		s := n.GetCreatePolicyStmt()
		st.Node, st.Tag = &Policy{Create: true, Name: s.PolicyName, Table: rangeVar(s.Table)}, "CREATE POLICY"
	case n.GetAlterPolicyStmt() != nil:
		s := n.GetAlterPolicyStmt()
		st.Node, st.Tag = &Policy{Name: s.PolicyName, Table: rangeVar(s.Table)}, "ALTER POLICY"
	case n.GetTransactionStmt() != nil:
		st.Node, st.Tag = c.transaction(n.GetTransactionStmt()), "TRANSACTION"
	case n.GetVariableSetStmt() != nil:
		s := n.GetVariableSetStmt()
		set := &SetParam{Name: strings.ToLower(s.Name), Local: s.IsLocal}
		switch s.Kind {
		case pg.VariableSetKind_VAR_SET_VALUE:
			var vals []string
			for _, a := range s.Args {
				if ac := a.GetAConst(); ac != nil {
					switch {
					case ac.GetSval() != nil:
						vals = append(vals, ac.GetSval().Sval)
					case ac.GetIval() != nil:
						vals = append(vals, itoa(int64(ac.GetIval().Ival)))
					case ac.GetFval() != nil:
						vals = append(vals, ac.GetFval().Fval)
					}
				}
			}
			set.Value = strings.Join(vals, ", ")
		case pg.VariableSetKind_VAR_RESET, pg.VariableSetKind_VAR_RESET_ALL:
			set.Reset = true
		}
		st.Node, st.Tag = set, "SET"
		if set.Reset {
			st.Tag = "RESET"
		}
	case n.GetUpdateStmt() != nil:
		s := n.GetUpdateStmt()
		st.Node, st.Tag = &Update{Table: rangeVar(s.Relation), HasWhere: s.WhereClause != nil, Columns: targetNames(s.TargetList)}, "UPDATE"
		st.Calls = t.calls
	case n.GetDeleteStmt() != nil:
		s := n.GetDeleteStmt()
		st.Node, st.Tag = &Delete{Table: rangeVar(s.Relation), HasWhere: s.WhereClause != nil}, "DELETE"
		st.Calls = t.calls
	case n.GetInsertStmt() != nil:
		s := n.GetInsertStmt()
		ins := &Insert{Table: rangeVar(s.Relation), Columns: targetNames(s.Cols)}
		if sel := s.SelectStmt.GetSelectStmt(); sel != nil && len(sel.ValuesLists) == 0 {
			ins.FromSelect = true
		}
		st.Node, st.Tag = ins, "INSERT"
		st.Calls = t.calls
	case n.GetSelectStmt() != nil:
		s := n.GetSelectStmt()
		sel := &Select{HasWhere: s.WhereClause != nil}
		for _, f := range s.FromClause {
			sel.Tables = appendFromTables(sel.Tables, f)
		}
		st.Node, st.Tag = sel, "SELECT"
		st.Calls = t.calls
	case n.GetCallStmt() != nil:
		s := n.GetCallStmt()
		var q QName
		if s.Funccall != nil {
			q = qnameOf(s.Funccall.Funcname)
		}
		st.Node, st.Tag = &Call{Name: q}, "CALL"
		st.Calls = t.calls
	case n.GetLockStmt() != nil:
		s := n.GetLockStmt()
		l := &LockTable{}
		if int(s.Mode) < len(lockModes) {
			l.Mode = lockModes[s.Mode]
		}
		for _, r := range s.Relations {
			l.Tables = append(l.Tables, rangeVar(r.GetRangeVar()))
		}
		st.Node, st.Tag = l, "LOCK"
	case n.GetRefreshMatViewStmt() != nil:
		s := n.GetRefreshMatViewStmt()
		st.Node, st.Tag = &Refresh{View: rangeVar(s.Relation), Concurrently: s.Concurrent}, "REFRESH MATERIALIZED VIEW"
	case n.GetCreateTrigStmt() != nil:
		s := n.GetCreateTrigStmt()
		st.Node, st.Tag = &CreateTrigger{Name: s.Trigname, Table: rangeVar(s.Relation)}, "CREATE TRIGGER"
	case n.GetCreateSeqStmt() != nil:
		st.Node, st.Tag = &CreateSequence{Name: rangeVar(n.GetCreateSeqStmt().Sequence)}, "CREATE SEQUENCE"
	case n.GetCreateSchemaStmt() != nil:
		st.Node, st.Tag = &CreateSchema{Name: n.GetCreateSchemaStmt().Schemaname}, "CREATE SCHEMA"
	default:
		st.Node = &Other{}
		st.Tag = otherTag(n)
	}
}

// relationTypeOr returns the relation type of a RENAME, or def when unset.
func relationTypeOr(s *pg.RenameStmt, def pg.ObjectType) pg.ObjectType {
	if s.RelationType != pg.ObjectType_OBJECT_TYPE_UNDEFINED && s.RenameType == pg.ObjectType_OBJECT_COLUMN {
		return s.RelationType
	}
	return def
}

// otherTag names a statement from its node type: "CreateExtensionStmt" → "CREATE EXTENSION".
func otherTag(n *pg.Node) string {
	m := n.ProtoReflect()
	od := m.WhichOneof(m.Descriptor().Oneofs().ByName("node"))
	if od == nil {
		return "UNKNOWN"
	}
	name := string(od.Message().Name())
	name = strings.TrimSuffix(name, "Stmt")
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func (c *converter) transaction(s *pg.TransactionStmt) *Transaction {
	switch s.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		return &Transaction{Op: TxBegin}
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		return &Transaction{Op: TxCommit}
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return &Transaction{Op: TxRollback}
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return &Transaction{Op: TxSavepoint}
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return &Transaction{Op: TxRelease}
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return &Transaction{Op: TxRollbackTo}
	case pg.TransactionStmtKind_TRANS_STMT_PREPARE:
		return &Transaction{Op: TxPrepare}
	}
	return &Transaction{Op: TxOther}
}

func (c *converter) createTable(s *pg.CreateStmt, st *Statement) {
	ct := &CreateTable{Table: rangeVar(s.Relation), IfNotExists: s.IfNotExists}
	if s.Relation != nil {
		ct.Temporary = s.Relation.Relpersistence == "t"
		ct.Unlogged = s.Relation.Relpersistence == "u"
	}
	if s.Partbound != nil && len(s.InhRelations) > 0 {
		q := rangeVar(s.InhRelations[0].GetRangeVar())
		ct.PartitionOf = &q
	}
	for _, e := range s.TableElts {
		switch {
		case e.GetColumnDef() != nil:
			col := c.columnDef(e.GetColumnDef())
			ct.Columns = append(ct.Columns, col)
			ct.Constraints = append(ct.Constraints, col.Constraints...)
		case e.GetConstraint() != nil:
			if k := c.constraint(e.GetConstraint(), ""); k != nil {
				ct.Constraints = append(ct.Constraints, k)
			}
		}
	}
	for _, e := range s.Constraints {
		if k := c.constraint(e.GetConstraint(), ""); k != nil {
			ct.Constraints = append(ct.Constraints, k)
		}
	}
	st.Node, st.Tag = ct, "CREATE TABLE"
}

var alterOps = map[pg.AlterTableType]AlterOp{
	pg.AlterTableType_AT_AddColumn: AddColumn, pg.AlterTableType_AT_DropColumn: DropColumn,
	pg.AlterTableType_AT_AlterColumnType: AlterColumnType, pg.AlterTableType_AT_SetNotNull: SetNotNull,
	pg.AlterTableType_AT_DropNotNull: DropNotNull, pg.AlterTableType_AT_AddConstraint: AddConstraint,
	pg.AlterTableType_AT_ValidateConstraint: ValidateConstraint, pg.AlterTableType_AT_DropConstraint: DropConstraint,
	pg.AlterTableType_AT_SetLogged: SetLogged, pg.AlterTableType_AT_SetUnLogged: SetUnlogged,
	pg.AlterTableType_AT_SetTableSpace: SetTablespace, pg.AlterTableType_AT_SetAccessMethod: SetAccessMethod,
	pg.AlterTableType_AT_AttachPartition: AttachPartition, pg.AlterTableType_AT_DetachPartition: DetachPartition,
	pg.AlterTableType_AT_EnableRowSecurity: EnableRLS, pg.AlterTableType_AT_DisableRowSecurity: DisableRLS,
	pg.AlterTableType_AT_ForceRowSecurity: ForceRLS, pg.AlterTableType_AT_NoForceRowSecurity: NoForceRLS,
	pg.AlterTableType_AT_AddIdentity: AddIdentity, pg.AlterTableType_AT_DropIdentity: DropIdentity,
	pg.AlterTableType_AT_SetIdentity: SetIdentity, pg.AlterTableType_AT_DropExpression: DropExpression,
	pg.AlterTableType_AT_SetStatistics: SetStatistics, pg.AlterTableType_AT_SetStorage: SetStorage,
	pg.AlterTableType_AT_SetCompression: SetStorage,
	pg.AlterTableType_AT_SetRelOptions:  SetOptions, pg.AlterTableType_AT_ResetRelOptions: SetOptions,
	pg.AlterTableType_AT_SetOptions: SetOptions, pg.AlterTableType_AT_ResetOptions: SetOptions,
	pg.AlterTableType_AT_ChangeOwner: ChangeOwner, pg.AlterTableType_AT_ClusterOn: ClusterOn,
	pg.AlterTableType_AT_DropCluster: ClusterOn, pg.AlterTableType_AT_ReplicaIdentity: ReplicaIdentity,
	pg.AlterTableType_AT_EnableTrig: TriggerToggle, pg.AlterTableType_AT_DisableTrig: TriggerToggle,
	pg.AlterTableType_AT_EnableTrigAll: TriggerToggle, pg.AlterTableType_AT_DisableTrigAll: TriggerToggle,
	pg.AlterTableType_AT_EnableTrigUser: TriggerToggle, pg.AlterTableType_AT_DisableTrigUser: TriggerToggle,
	pg.AlterTableType_AT_EnableAlwaysTrig: TriggerToggle, pg.AlterTableType_AT_EnableReplicaTrig: TriggerToggle,
	pg.AlterTableType_AT_AddInherit: Inherit, pg.AlterTableType_AT_DropInherit: Inherit,
}

func (c *converter) alterTable(s *pg.AlterTableStmt, st *Statement) {
	at := &AlterTable{Table: rangeVar(s.Relation), Object: objectName(s.Objtype), IfExists: s.MissingOk}
	for _, cn := range s.Cmds {
		cmd := cn.GetAlterTableCmd()
		if cmd == nil {
			continue
		}
		op, ok := alterOps[cmd.Subtype]
		if !ok {
			op = OtherAlter
		}
		ac := &AlterCmd{Op: op, Column: cmd.Name, IfExists: cmd.MissingOk, Cascade: cmd.Behavior == pg.DropBehavior_DROP_CASCADE}
		ac.Span = st.Span
		switch cmd.Subtype {
		case pg.AlterTableType_AT_AddColumn:
			if cd := cmd.Def.GetColumnDef(); cd != nil {
				ac.ColumnDef = c.columnDef(cd)
				ac.Column = cd.Colname
				ac.Span = ac.ColumnDef.Span
			}
		case pg.AlterTableType_AT_AlterColumnType:
			if cd := cmd.Def.GetColumnDef(); cd != nil {
				t := c.typeName(cd.TypeName)
				ac.Type = &t
				if cd.RawDefault != nil {
					ac.Using = c.expr(cd.RawDefault)
				}
				if t.Span.End.Offset > 0 {
					ac.Span = t.Span
				}
			}
		case pg.AlterTableType_AT_ColumnDefault:
			if cmd.Def != nil {
				ac.Op = SetDefault
				ac.Default = c.expr(cmd.Def)
			} else {
				ac.Op = DropDefault
			}
		case pg.AlterTableType_AT_AddConstraint:
			if con := cmd.Def.GetConstraint(); con != nil {
				ac.Constraint = c.constraint(con, "")
				if ac.Constraint != nil {
					ac.Name = ac.Constraint.Name
					ac.Span = ac.Constraint.Span
				}
			}
			if ac.Constraint == nil {
				ac.Op = OtherAlter
			}
		case pg.AlterTableType_AT_ValidateConstraint, pg.AlterTableType_AT_DropConstraint:
			ac.Name = cmd.Name
			ac.Column = ""
		case pg.AlterTableType_AT_SetTableSpace, pg.AlterTableType_AT_SetAccessMethod:
			ac.Name = cmd.Name
			ac.Column = ""
		case pg.AlterTableType_AT_AttachPartition, pg.AlterTableType_AT_DetachPartition:
			if pc := cmd.Def.GetPartitionCmd(); pc != nil {
				q := rangeVar(pc.Name)
				ac.Partition = &q
				ac.Concurrently = pc.Concurrent
			}
		}
		at.Cmds = append(at.Cmds, ac)
	}
	st.Node, st.Tag = at, "ALTER "+strings.ToUpper(at.Object)
}

// qnameOfList reads a name given as its parts (schema, name; or catalog,
// schema, name).
func qnameOfList(parts []string) QName {
	switch len(parts) {
	case 0:
		return QName{}
	case 1:
		return QName{Name: parts[0]}
	}
	return QName{Schema: parts[len(parts)-2], Name: parts[len(parts)-1]}
}
