package parser

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// pg_query also hands the parse tree over as JSON, which its C side writes
// in about half the time it takes to build and pack the protobuf message.
// parseTreeJSON reads that JSON straight into pg_query's Go types, leaving
// out what treeRules (or viewRules) leave out: a left-out value is skipped
// over without being decoded. The trees are those parseTree builds. The
// readers of each message type (decodeNode, decodeColumnDef, …) are
// generated from pg_query's Go types, so that no value goes through
// protobuf's reflection (jsondecode_gen.go).

//go:generate go run ./internal/jsongen jsondecode_gen.go

// jsonType is a message type of pg_query's tree, for reading its JSON.
type jsonType struct {
	md protoreflect.MessageDescriptor
	// fields are the message's fields by JSON key: pg_query writes the C
	// field name, which is the protobuf field's name or its JSON name. A
	// Node's keys are the names of the message types it may hold.
	fields map[string]*jsonField
	// byNum are the fields by number.
	byNum []*jsonField
	rule  *treeRule
}

type jsonField struct {
	fd  protoreflect.FieldDescriptor
	num protowire.Number
	use fieldUse
	// child is the type the field's messages are read as: under the rule
	// set, unless they cannot lose fields there, when they are read whole
	// (as prune copies them). Of a field whose presence only is kept, the
	// type drops every field: its messages are read empty.
	child *jsonType
}

var jsonWholeTypes = sync.OnceValue(func() map[protoreflect.Name]*jsonType { return newJSONTypes(nil, false, nil) })

// jsonEmptyTypes are the message types read without any of their fields.
var jsonEmptyTypes = sync.OnceValue(func() map[protoreflect.Name]*jsonType {
	msgs := pg.File_pg_query_proto.Messages()
	byName := map[protoreflect.Name]*jsonType{}
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		t := &jsonType{md: md, fields: map[string]*jsonField{}}
		fields := md.Fields()
		for j := 0; j < fields.Len(); j++ {
			fd := fields.Get(j)
			f := &jsonField{fd: fd, num: fd.Number(), use: dropField}
			if md.Name() == "Node" {
				t.fields[string(fd.Message().Name())] = f
				continue
			}
			t.fields[string(fd.Name())] = f
			t.fields[fd.JSONName()] = f
		}
		t.index()
		byName[md.Name()] = t
	}
	return byName
})

var jsonNodeType = sync.OnceValue(func() *jsonType { return newJSONTypes(treeRules, false, jsonWholeTypes())["Node"] })

var jsonViewNodeType = sync.OnceValue(func() *jsonType { return newJSONTypes(viewRules, true, jsonWholeTypes())["Node"] })

// newJSONTypes builds the message types with their rules, as wireTypes
// does: with emptyOthers, every message type but Node without a rule
// keeps none of its fields. Messages that cannot lose fields are read as
// the types of whole (nil: the types built are whole).
func newJSONTypes(rules map[protoreflect.Name]treeRule, emptyOthers bool, whole map[protoreflect.Name]*jsonType) map[protoreflect.Name]*jsonType {
	msgs := pg.File_pg_query_proto.Messages()
	byName := map[protoreflect.Name]*jsonType{}
	for i := 0; i < msgs.Len(); i++ {
		md := msgs.Get(i)
		t := &jsonType{md: md, fields: map[string]*jsonField{}}
		if rule, ok := rules[md.Name()]; ok || emptyOthers && md.Name() != "Node" {
			t.rule = &rule
		}
		byName[md.Name()] = t
	}
	if whole == nil {
		whole = byName
	}
	for _, t := range byName {
		fields := t.md.Fields()
		for j := 0; j < fields.Len(); j++ {
			fd := fields.Get(j)
			f := &jsonField{fd: fd, num: fd.Number(), use: keepField}
			if t.rule != nil {
				f.use = dropField
				if slices.Contains(t.rule.keep, fd.Name()) {
					f.use = keepField
				}
				if slices.Contains(t.rule.present, fd.Name()) {
					f.use = presentField
				}
			}
			if fd.Message() != nil {
				f.child = byName[fd.Message().Name()]
				if !f.child.prunes() {
					f.child = whole[fd.Message().Name()]
				}
				if f.use == presentField {
					f.use, f.child = keepField, jsonEmptyTypes()[fd.Message().Name()]
				}
			} else if f.use == presentField {
				panic("parser: the presence of " + string(t.md.Name()) + "." + string(fd.Name()) + ", which is no message, is kept")
			}
			key := string(fd.Name())
			if t.md.Name() == "Node" {
				key = string(fd.Message().Name())
			}
			if t.fields[key] != nil {
				panic("parser: two fields of " + string(t.md.Name()) + " are written " + key)
			}
			t.fields[key] = f
			if t.md.Name() != "Node" && fd.JSONName() != key {
				t.fields[fd.JSONName()] = f
			}
		}
	}
	for _, t := range byName {
		t.index()
	}
	return byName
}

// index fills t.byNum from t.fields.
func (t *jsonType) index() {
	for _, f := range t.fields {
		for int(f.num) >= len(t.byNum) {
			t.byNum = append(t.byNum, nil)
		}
		t.byNum[f.num] = f
	}
}

// prunes reports whether messages of type t can lose fields.
func (t *jsonType) prunes() bool { return t.rule != nil || t.md.Name() == "Node" }

// parseTreeJSON parses text into statements, as parseTree does.
func parseTreeJSON(text string) ([]stmtTree, error) {
	js, err := pgparser.ParseToJSON(text)
	if err != nil {
		return nil, err
	}
	d := &jsonDecoder{s: js, text: text}
	var out []stmtTree
	err = d.object(func(key string) error {
		if key != "stmts" {
			return d.skip()
		}
		return d.array(func() error {
			var t stmtTree
			err := d.object(func(key string) error {
				switch key {
				case "stmt":
					var err error
					t.node, t.calls, err = d.stmt()
					return err
				case "stmt_location":
					v, err := d.int()
					t.loc = int(int32(v))
					return err
				case "stmt_len":
					v, err := d.int()
					t.len = int(int32(v))
					return err
				}
				return d.skip()
			})
			out = append(out, t)
			return err
		})
	})
	if err != nil {
		// A value the JSON leaves out (errLossy), or JSON this decoder
		// does not read: the protobuf route reads every tree.
		return parseTree(text)
	}
	return out, nil
}

var (
	errJSON = errors.New("parser: malformed parse tree JSON")
	// errLossy is a value the JSON does not carry: the text is parsed
	// again to protobuf, which does.
	errLossy = errors.New("parser: a value the parse tree JSON leaves out")
)

// jsonDecoder reads pg_query's JSON: objects, arrays, strings, numbers,
// true, false and null, without white space.
type jsonDecoder struct {
	s string
	i int
	// text is what was parsed, for the values the JSON leaves out.
	text string
	// inBounds is set while the array bounds of a TypeName are read.
	inBounds bool
	// zeroBound caches whether text may hold an array bound of 0: 1 no,
	// 2 yes.
	zeroBound uint8
	// wrote counts the values read into the tree (a list's elements one
	// by one), so that a reader can tell a message read empty; lastInt is
	// the last integer read.
	wrote   int
	lastInt int64
	// strs holds the short strings read (keep).
	strs []byte
}

func (d *jsonDecoder) peek() byte {
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

func (d *jsonDecoder) expect(c byte) error {
	if d.peek() != c {
		return errJSON
	}
	d.i++
	return nil
}

// object reads an object, calling member with each key; member reads the
// value.
func (d *jsonDecoder) object(member func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errJSON
		}
	}
}

// array reads an array, calling elem to read each element.
func (d *jsonDecoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return errJSON
		}
	}
}

// str reads a string: the JSON's own bytes when it holds no escape.
func (d *jsonDecoder) str() (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	start := d.i
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case '"':
			d.i++
			return d.s[start : d.i-1], nil
		case '\\':
			d.i = start
			return d.escaped()
		}
		d.i++
	}
	return "", errJSON
}

// escaped reads the rest of a string that holds an escape.
func (d *jsonDecoder) escaped() (string, error) {
	var b strings.Builder
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			return "", errJSON
		}
		e := d.s[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", errJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if strings.HasPrefix(d.s[d.i:], `\u`) {
					d.i += 2
					if r2, ok = d.hex4(); !ok {
						return "", errJSON
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			b.WriteRune(r)
		default:
			return "", errJSON
		}
	}
	return "", errJSON
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(v), true
}

// number returns the text of a number.
func (d *jsonDecoder) number() (string, error) {
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	if d.i == start {
		return "", errJSON
	}
	return d.s[start:d.i], nil
}

func (d *jsonDecoder) int() (int64, error) {
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(n, 10, 64)
}

func (d *jsonDecoder) bool() (bool, error) {
	switch {
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return true, nil
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return false, nil
	}
	return false, errJSON
}

// skip passes over one value without decoding it.
func (d *jsonDecoder) skip() error {
	depth := 0
	for d.i < len(d.s) {
		switch c := d.s[d.i]; c {
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			depth--
			d.i++
			if depth < 0 {
				return errJSON
			}
		case '"':
			d.i++
			for d.i < len(d.s) && d.s[d.i] != '"' {
				if d.s[d.i] == '\\' {
					d.i++
				}
				d.i++
			}
			if d.i >= len(d.s) {
				return errJSON
			}
			d.i++
		default:
			if depth == 0 {
				if c == ',' || c == '}' || c == ']' {
					return errJSON
				}
				for d.i < len(d.s) && d.s[d.i] != ',' && d.s[d.i] != '}' && d.s[d.i] != ']' {
					d.i++
				}
				return nil
			}
			d.i++
		}
		if depth == 0 {
			return nil
		}
	}
	return errJSON
}

// stmt reads the Node of one statement, without what its type's rule
// leaves out, and lists the functions it calls when the rule asks.
func (d *jsonDecoder) stmt() (*pg.Node, []string, error) {
	types := jsonNodeType()
	start := d.i
	// The Node's one key, the statement type.
	if strings.HasPrefix(d.s[d.i:], `{"ViewStmt":`) {
		types = jsonViewNodeType()
	}
	n, err := d.decodeNode(types)
	if err != nil {
		return nil, nil, err
	}
	var calls []string
	if key, ok := nodeKey(d.s[start:]); ok {
		if f := types.fields[key]; f != nil && f.child.rule != nil && f.child.rule.calls {
			calls = jsonCalls(d.s[start:d.i])
		}
	}
	return n, calls, nil
}

// nodeKey returns the key of the object s starts with.
func nodeKey(s string) (string, bool) {
	if !strings.HasPrefix(s, `{"`) {
		return "", false
	}
	end := strings.IndexByte(s[2:], '"')
	if end < 0 {
		return "", false
	}
	return s[2 : 2+end], true
}

// The readers of scalar values, for the generated code: each reads one
// value into *v.

func (d *jsonDecoder) setText(v *string) error {
	d.wrote++
	s, err := d.str()
	*v = d.keep(s)
	return err
}

// keep copies s, so that the tree does not hold on to the JSON: short
// strings into a chunk shared with the next ones (one allocation for
// many names), kept as long as any of them is.
func (d *jsonDecoder) keep(s string) string {
	const chunk, long = 2048, 128
	switch {
	case s == "":
		return ""
	case len(s) > long:
		return strings.Clone(s)
	case cap(d.strs)-len(d.strs) < len(s):
		d.strs = make([]byte, 0, chunk)
	}
	at := len(d.strs)
	d.strs = append(d.strs, s...)
	return unsafe.String(&d.strs[at], len(s))
}

func (d *jsonDecoder) setBool(v *bool) (err error) {
	d.wrote++
	*v, err = d.bool()
	return err
}

func (d *jsonDecoder) setInt32(v *int32) error {
	d.wrote++
	n, err := d.int()
	d.lastInt = n
	*v = int32(n)
	return err
}

func (d *jsonDecoder) setInt64(v *int64) (err error) {
	d.wrote++
	*v, err = d.int()
	d.lastInt = *v
	return err
}

func (d *jsonDecoder) setUint32(v *uint32) error {
	d.wrote++
	n, err := d.uint()
	*v = uint32(n)
	return err
}

func (d *jsonDecoder) setUint64(v *uint64) (err error) {
	d.wrote++
	*v, err = d.uint()
	return err
}

func (d *jsonDecoder) setFloat(v *float64) error {
	d.wrote++
	n, err := d.number()
	if err != nil {
		return err
	}
	*v, err = strconv.ParseFloat(n, 64)
	return err
}

func (d *jsonDecoder) uint() (uint64, error) {
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(n, 10, 64)
}

// enum reads the name of a value of the enum type whose values values
// lists.
func (d *jsonDecoder) enum(values map[string]int32) (int32, error) {
	name, err := d.str()
	if err != nil {
		return 0, err
	}
	v, ok := values[name]
	if !ok {
		return 0, errJSON
	}
	return v, nil
}

// pg_query writes an Integer's ival only when it is more than 0: an
// Integer written {} is 0 or a negative number, which the text tells apart
// only in two places, where the value is errLossy otherwise.

// intNodeLossy reports whether the value of an Integer in a Node, written
// {}, is lost. An array bound is -1 (for []) or what the text writes in
// the brackets, never negative: {} is -1 unless the text may write 0.
func (d *jsonDecoder) intNodeLossy() bool { return !d.inBounds || d.mayHoldZeroBound() }

// aConstLossy reports whether the value of the Integer of an A_Const at
// loc, written {}, is lost: a negative constant's location is that of its
// minus sign.
func (d *jsonDecoder) aConstLossy(loc int64) bool {
	return loc < 0 || loc >= int64(len(d.text)) || d.text[loc] == '-'
}

// mayHoldZeroBound reports whether the text may write an array bound of
// 0: a "[" followed by a 0, or by a comment.
func (d *jsonDecoder) mayHoldZeroBound() bool {
	if d.zeroBound == 0 {
		d.zeroBound = 1
		for s := d.text; ; {
			i := strings.IndexByte(s, '[')
			if i < 0 {
				break
			}
			s = strings.TrimLeft(s[i+1:], " \t\r\n\f\v")
			if strings.HasPrefix(s, "0") || strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "--") {
				d.zeroBound = 2
				break
			}
		}
	}
	return d.zeroBound == 2
}

// jsonCalls lists the functions the statement s (its JSON) calls, in the
// order funcCalls lists them: depth first, in the order the fields come.
// A key is never found inside a string, where every quote is escaped.
func jsonCalls(s string) []string {
	var out []string
	for {
		i := strings.Index(s, `{"`)
		if i < 0 {
			return out
		}
		s = s[i:]
		switch {
		case strings.HasPrefix(s, `{"FuncCall":{`):
			s = s[len(`{"FuncCall":{`)-1:]
			if name, ok := jsonFuncCallName(s); ok {
				out = append(out, name)
			}
		case strings.HasPrefix(s, `{"SQLValueFunction":{`):
			s = s[len(`{"SQLValueFunction":{`)-1:]
			out = append(out, jsonSQLValueFunctionName(s))
		default:
			s = s[2:]
		}
	}
}

// jsonFuncCallName reads the last part of the name of the FuncCall object
// s starts with, lower case; false when the name is empty.
func jsonFuncCallName(s string) (string, bool) {
	const key = `{"funcname":[`
	if !strings.HasPrefix(s, key) {
		return "", false
	}
	d := &jsonDecoder{s: s, i: len(key) - 1}
	name := ""
	err := d.array(func() error {
		name = ""
		if strings.HasPrefix(d.s[d.i:], `{"String":{"sval":`) {
			d.i += len(`{"String":{"sval":`)
			v, err := d.str()
			name = strings.Clone(v) // not to hold on to the whole JSON
			if err != nil {
				return err
			}
			if err := d.expect('}'); err != nil {
				return err
			}
			return d.expect('}')
		}
		return d.skip()
	})
	if err != nil {
		return "", false
	}
	return strings.ToLower(name), true
}

// jsonSQLValueFunctionName names the SQLValueFunction object s starts with
// by its SQL name.
func jsonSQLValueFunctionName(s string) string {
	var op pg.SQLValueFunctionOp
	d := &jsonDecoder{s: s}
	d.object(func(key string) error {
		if key != "op" {
			return d.skip()
		}
		name, err := d.str()
		if v, ok := pg.SQLValueFunctionOp_value[name]; ok {
			op = pg.SQLValueFunctionOp(v)
		}
		return err
	})
	return strings.ToLower(strings.TrimPrefix(op.String(), "SVFOP_"))
}
