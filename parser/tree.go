package parser

import (
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// PostgreSQL hands the parse tree over as protobuf bytes. Unmarshalling
// all of them into pg_query's Go types cost two thirds as much as the parse
// itself, and much of it went to subtrees convert never reads: the query
// of a view, the target lists, joins and VALUES rows of DML. parseTree
// unmarshals each statement without them, as treeRules says, and reads
// the functions such statements call from the bytes.

// stmtTree is one statement of a parse tree.
type stmtTree struct {
	node *pg.Node
	// calls lists the functions the whole statement calls (as funcCalls
	// does), for the statement types whose rule asks for them.
	calls []string
	// loc and len are the statement's byte range in the parsed text; len
	// is 0 for a statement that runs to the end of it.
	loc, len int
}

// treeRule says what convert reads of a message type: the fields it
// keeps, the fields of which it reads only the presence or the count
// (their messages are kept empty) and, for a statement type, whether it
// lists the functions the statement calls. Other fields are left out.
// Message types without a rule are kept whole.
type treeRule struct {
	keep, present []protoreflect.Name
	calls         bool
}

var treeRules = map[protoreflect.Name]treeRule{
	"ViewStmt":          {keep: names("view", "replace")},
	"CreateTableAsStmt": {keep: names("into", "objtype", "if_not_exists")},
	"InsertStmt":        {keep: names("relation", "select_stmt", "cols"), calls: true},
	"SelectStmt":        {keep: names("from_clause"), present: names("values_lists", "where_clause"), calls: true},
	"UpdateStmt":        {keep: names("relation", "target_list"), present: names("where_clause"), calls: true},
	// The SET list of UPDATE and the column list of INSERT: their names.
	"ResTarget":  {keep: names("name"), present: names("indirection")},
	"DeleteStmt": {keep: names("relation"), present: names("where_clause"), calls: true},
	"CallStmt":   {keep: names("funccall"), calls: true},
}

// viewRules say what convert reads of CREATE VIEW: the view's column list
// and, of its query, what PostgreSQL names the output columns after
// (FigureColname). Every other message is kept empty, so that the query,
// however large, costs no more than its first target list.
var viewRules = map[protoreflect.Name]treeRule{
	"ViewStmt":         {keep: names("view", "replace", "aliases", "query")},
	"RangeVar":         {keep: names("schemaname", "relname", "relpersistence")},
	"SelectStmt":       {keep: names("target_list", "larg", "op")},
	"ResTarget":        {keep: names("name", "val")},
	"ColumnRef":        {keep: names("fields")},
	"FuncCall":         {keep: names("funcname")},
	"TypeCast":         {keep: names("arg", "type_name")},
	"TypeName":         {keep: names("names")},
	"A_Indirection":    {keep: names("arg", "indirection")},
	"A_Expr":           {keep: names("kind")},
	"CollateClause":    {keep: names("arg")},
	"SQLValueFunction": {keep: names("op")},
	"String":           {keep: names("sval")},
	"MinMaxExpr":       {keep: names("op")},
	"SubLink":          {keep: names("sub_link_type", "subselect")},
}

func names(s ...protoreflect.Name) []protoreflect.Name { return s }

// parseTree parses text into statements.
func parseTree(text string) ([]stmtTree, error) {
	buf, err := pgparser.ParseToProtobuf(text)
	if err != nil {
		return nil, err
	}
	var out []stmtTree
	for len(buf) > 0 { // ParseResult
		f, err := nextField(&buf)
		if err != nil {
			return nil, err
		}
		if f.num != 2 { // stmts
			continue
		}
		var t stmtTree
		for raw := f.val; len(raw) > 0; { // RawStmt
			g, err := nextField(&raw)
			if err != nil {
				return nil, err
			}
			switch g.num {
			case 1: // stmt
				if t.node, t.calls, err = decodeStmt(g.val); err != nil {
					return nil, err
				}
			case 2: // stmt_location
				t.loc = int(int32(g.x))
			case 3: // stmt_len
				t.len = int(int32(g.x))
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// decodeStmt unmarshals the Node of one statement, without what its type's
// rule leaves out, and lists the functions it calls when the rule asks.
func decodeStmt(b []byte) (*pg.Node, []string, error) {
	node := nodeType()
	var calls []string
	if num, _, n := protowire.ConsumeTag(b); n > 0 {
		if t := node.child(num); t != nil && t.name == "ViewStmt" {
			node = viewNodeType()
		}
		if t := node.child(num); t != nil && t.rule != nil {
			if t.rule.calls {
				calls = node.calls(b, nil)
			}
			var err error
			if b, err = node.prune(b); err != nil {
				return nil, nil, err
			}
		}
	}
	n := &pg.Node{}
	if err := proto.Unmarshal(b, n); err != nil {
		return nil, nil, err
	}
	return n, calls, nil
}

// wireField is one field of a protobuf message.
type wireField struct {
	num protowire.Number
	typ protowire.Type
	val []byte // the content of a length-delimited field
	x   uint64 // the value of a varint field
	raw []byte // the whole field, tag included
}

// nextField consumes the first field of *b.
func nextField(b *[]byte) (wireField, error) {
	in := *b
	num, typ, n := protowire.ConsumeTag(in)
	if n < 0 {
		return wireField{}, protowire.ParseError(n)
	}
	f := wireField{num: num, typ: typ}
	var m int
	switch typ {
	case protowire.BytesType:
		f.val, m = protowire.ConsumeBytes(in[n:])
	case protowire.VarintType:
		f.x, m = protowire.ConsumeVarint(in[n:])
	default:
		m = protowire.ConsumeFieldValue(num, typ, in[n:])
	}
	if m < 0 {
		return wireField{}, protowire.ParseError(m)
	}
	f.raw, *b = in[:n+m], in[n+m:]
	return f, nil
}

// wireType is a message type of pg_query's tree, for reading its bytes.
type wireType struct {
	name     protoreflect.Name
	children []*wireType // the type of each message field, by field number
	rule     *wireRule
	// strField is the field of a Node that holds a String.
	strField protowire.Number
}

// wireRule is a treeRule by field number.
type wireRule struct {
	use   []fieldUse
	calls bool
}

type fieldUse uint8

const (
	dropField fieldUse = iota
	keepField
	presentField
)

// nodeType describes the messages of pg_query's tree, from Node down, as
// treeRules prune them.
var nodeType = sync.OnceValue(func() *wireType { return wireTypes(treeRules, false) })

// viewNodeType describes them as viewRules prune them: messages without a
// rule are kept empty.
var viewNodeType = sync.OnceValue(func() *wireType { return wireTypes(viewRules, true) })

// wireTypes builds the message types with their rules; with emptyOthers,
// every message type but Node without a rule keeps none of its fields.
func wireTypes(rules map[protoreflect.Name]treeRule, emptyOthers bool) *wireType {
	msgs := pg.File_pg_query_proto.Messages()
	byName := map[protoreflect.Name]*wireType{}
	for i := 0; i < msgs.Len(); i++ {
		byName[msgs.Get(i).Name()] = &wireType{name: msgs.Get(i).Name()}
	}
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		t := byName[md.Name()]
		fields := md.Fields()
		t.children = make([]*wireType, maxNumber(fields)+1)
		for j := 0; j < fields.Len(); j++ {
			if fd := fields.Get(j); fd.Message() != nil {
				t.children[fd.Number()] = byName[fd.Message().Name()]
			}
		}
		if rule, ok := rules[md.Name()]; ok || emptyOthers && md.Name() != "Node" {
			t.rule = &wireRule{use: make([]fieldUse, len(t.children)), calls: rule.calls}
			t.rule.set(md, rule.keep, keepField)
			t.rule.set(md, rule.present, presentField)
		}
	}
	node := byName["Node"]
	for num, c := range node.children {
		if c != nil && c.name == "String" {
			node.strField = protowire.Number(num)
		}
	}
	return node
}

func maxNumber(fields protoreflect.FieldDescriptors) protowire.Number {
	var n protowire.Number
	for i := 0; i < fields.Len(); i++ {
		n = max(n, fields.Get(i).Number())
	}
	return n
}

func (r *wireRule) set(md protoreflect.MessageDescriptor, names []protoreflect.Name, use fieldUse) {
	for _, name := range names {
		fd := md.Fields().ByName(name)
		if fd == nil {
			panic("parser: " + string(md.Name()) + " has no field " + string(name))
		}
		r.use[fd.Number()] = use
	}
}

func (t *wireType) child(num protowire.Number) *wireType {
	if int(num) < len(t.children) {
		return t.children[num]
	}
	return nil
}

// prunes reports whether messages of type t can lose fields: those with
// a rule, and Nodes, whose content may have one.
func (t *wireType) prunes() bool { return t.rule != nil || t.name == "Node" }

// prune copies the message b of type t without the fields its rule leaves
// out, pruning the messages it keeps the same way.
func (t *wireType) prune(b []byte) ([]byte, error) {
	out := make([]byte, 0, 64)
	for len(b) > 0 {
		f, err := nextField(&b)
		if err != nil {
			return nil, err
		}
		use := keepField
		if t.rule != nil {
			use = dropField
			if int(f.num) < len(t.rule.use) {
				use = t.rule.use[f.num]
			}
		}
		switch c := t.child(f.num); {
		case use == dropField: // left out
		case use == presentField:
			out = protowire.AppendTag(out, f.num, protowire.BytesType)
			out = protowire.AppendVarint(out, 0)
		case c != nil && c.prunes() && f.typ == protowire.BytesType:
			v, err := c.prune(f.val)
			if err != nil {
				return nil, err
			}
			out = protowire.AppendTag(out, f.num, protowire.BytesType)
			out = protowire.AppendBytes(out, v)
		default:
			out = append(out, f.raw...)
		}
	}
	return out, nil
}

// calls appends to out the functions called in the message b of type t,
// in the order funcCalls lists them: depth first, fields in number order.
func (t *wireType) calls(b []byte, out []string) []string {
	switch t.name {
	case "FuncCall":
		if name, ok := funcCallName(b); ok {
			out = append(out, name)
		}
	case "SQLValueFunction":
		out = append(out, sqlValueFunctionName(b))
	}
	for len(b) > 0 {
		f, err := nextField(&b)
		if err != nil {
			break
		}
		if c := t.child(f.num); c != nil && f.typ == protowire.BytesType {
			out = c.calls(f.val, out)
		}
	}
	return out
}

// funcCallName reads the last part of the name of the FuncCall b, lower
// case, as funcCalls does; false when the name is empty.
func funcCallName(b []byte) (string, bool) {
	var last []byte
	found := false
	for len(b) > 0 {
		f, err := nextField(&b)
		if err != nil {
			break
		}
		if f.num == 1 { // funcname, a list of Nodes
			last, found = f.val, true
		}
	}
	if !found {
		return "", false
	}
	name := ""
	if f, err := nextField(&last); err == nil && f.num == nodeType().strField {
		for s := f.val; len(s) > 0; {
			g, err := nextField(&s)
			if err != nil {
				break
			}
			if g.num == 1 { // sval
				name = string(g.val)
			}
		}
	}
	return strings.ToLower(name), true
}

// sqlValueFunctionName names the SQLValueFunction b by its SQL name.
func sqlValueFunctionName(b []byte) string {
	var op uint64
	for len(b) > 0 {
		f, err := nextField(&b)
		if err != nil {
			break
		}
		if f.num == 2 { // op
			op = f.x
		}
	}
	return strings.ToLower(strings.TrimPrefix(pg.SQLValueFunctionOp(op).String(), "SVFOP_"))
}
