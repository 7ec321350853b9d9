package parser

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// pg_query also hands the parse tree over as JSON, which its C side writes
// in about half the time it takes to build and pack the protobuf message.
// parseTreeJSON reads that JSON straight into pg_query's Go types, leaving
// out what treeRules (or viewRules) leave out: a left-out value is skipped
// over without being decoded. The trees are those parseTree builds.

// jsonType is a message type of pg_query's tree, for reading its JSON.
type jsonType struct {
	md protoreflect.MessageDescriptor
	// fields are the message's fields by JSON key: pg_query writes the C
	// field name, which is the protobuf field's name or its JSON name. A
	// Node's keys are the names of the message types it may hold.
	fields map[string]*jsonField
	rule   *treeRule
	// aConst marks A_Const: pg_query writes an Integer's ival only when it
	// is more than 0, so the Integer of an A_Const written {} is 0 or a
	// negative number (as is a Node's; see jsonField.intNode).
	aConst bool
}

type jsonField struct {
	fd  protoreflect.FieldDescriptor
	num protowire.Number
	use fieldUse
	// child is the type the field's messages are read as: under the rule
	// set, unless they cannot lose fields there, when they are read whole
	// (as prune copies them).
	child *jsonType
	// bounds marks TypeName's array_bounds, intNode a Node's Integer.
	bounds, intNode bool
}

var jsonWholeTypes = sync.OnceValue(func() map[protoreflect.Name]*jsonType { return newJSONTypes(nil, false, nil) })

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
		t.aConst = md.Name() == "A_Const"
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
			f := &jsonField{fd: fd, num: fd.Number(), use: keepField, bounds: t.md.Name() == "TypeName" && fd.Name() == "array_bounds"}
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
				f.intNode = t.md.Name() == "Node" && fd.Message().Name() == "Integer"
				f.child = byName[fd.Message().Name()]
				if !f.child.prunes() {
					f.child = whole[fd.Message().Name()]
				}
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
	return byName
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
	// out is the protobuf message being written.
	out []byte
	// empty says whether the last message value written was empty,
	// lastInt is the last integer read.
	empty   bool
	lastInt int64
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

// count passes over an array, returning its length.
func (d *jsonDecoder) count() (int, error) {
	n := 0
	err := d.array(func() error {
		n++
		return d.skip()
	})
	return n, err
}

// stmt reads the Node of one statement, without what its type's rule
// leaves out, and lists the functions it calls when the rule asks. The
// JSON is written out as protobuf bytes, which are unmarshalled as
// parseTree unmarshals its pruned bytes.
func (d *jsonDecoder) stmt() (*pg.Node, []string, error) {
	types := jsonNodeType()
	start := d.i
	// The Node's one key, the statement type.
	if strings.HasPrefix(d.s[d.i:], `{"ViewStmt":`) {
		types = jsonViewNodeType()
	}
	d.out = d.out[:0]
	if err := d.message(types); err != nil {
		return nil, nil, err
	}
	var calls []string
	if key, ok := nodeKey(d.s[start:]); ok {
		if f := types.fields[key]; f != nil && f.child.rule != nil && f.child.rule.calls {
			calls = jsonCalls(d.s[start:d.i])
		}
	}
	n := &pg.Node{}
	if err := proto.Unmarshal(d.out, n); err != nil {
		return nil, nil, err
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

// message writes the object of type t as the fields of a protobuf
// message to d.out.
func (d *jsonDecoder) message(t *jsonType) error {
	// Of an A_Const: whether its Integer is written {}, and its location
	// (left out when 0).
	emptyInt, loc := false, int64(0)
	err := d.object(func(key string) error {
		f := t.fields[key]
		if f == nil {
			return errJSON
		}
		switch f.use {
		case dropField:
			return d.skip()
		case presentField:
			n := 1
			if f.fd.IsList() {
				var err error
				if n, err = d.count(); err != nil {
					return err
				}
			} else if err := d.skip(); err != nil {
				return err
			}
			for range n {
				d.out = protowire.AppendTag(d.out, f.num, protowire.BytesType)
				d.out = append(d.out, 0)
			}
			return nil
		}
		if f.fd.IsList() {
			if f.bounds {
				d.inBounds = true
				defer func() { d.inBounds = false }()
			}
			return d.array(func() error { return d.value(f) })
		}
		err := d.value(f)
		if t.aConst {
			switch key {
			case "ival":
				emptyInt = d.empty
			case "location":
				loc = d.lastInt
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	// A negative constant's location is that of its minus sign.
	if emptyInt && (loc < 0 || loc >= int64(len(d.text)) || d.text[loc] == '-') {
		return errLossy
	}
	return nil
}

// value writes one value of field f to d.out.
func (d *jsonDecoder) value(f *jsonField) error {
	if f.child != nil {
		d.out = protowire.AppendTag(d.out, f.num, protowire.BytesType)
		at := len(d.out)
		d.out = append(d.out, 0) // the length, for now one byte
		if err := d.message(f.child); err != nil {
			return err
		}
		n := len(d.out) - at - 1
		d.empty = n == 0
		if d.empty && f.intNode {
			// An array bound is -1 (for []) or what the text writes in
			// the brackets, never negative: {} is -1 unless the text may
			// write 0.
			if !d.inBounds || d.mayHoldZeroBound() {
				return errLossy
			}
			d.out = protowire.AppendTag(d.out, 1, protowire.VarintType)
			d.out = protowire.AppendVarint(d.out, ^uint64(0)) // -1
			n = len(d.out) - at - 1
		}
		if n < 0x80 {
			d.out[at] = byte(n)
			return nil
		}
		size := protowire.SizeVarint(uint64(n))
		d.out = append(d.out, make([]byte, size-1)...)
		copy(d.out[at+size:], d.out[at+1:at+1+n])
		protowire.AppendVarint(d.out[at:at], uint64(n))
		return nil
	}
	switch f.fd.Kind() {
	case protoreflect.StringKind:
		v, err := d.str()
		d.out = protowire.AppendTag(d.out, f.num, protowire.BytesType)
		d.out = protowire.AppendString(d.out, v)
		return err
	case protoreflect.BoolKind:
		b, err := d.bool()
		d.out = protowire.AppendTag(d.out, f.num, protowire.VarintType)
		d.out = protowire.AppendVarint(d.out, protowire.EncodeBool(b))
		return err
	case protoreflect.EnumKind:
		name, err := d.str()
		if err != nil {
			return err
		}
		v := f.fd.Enum().Values().ByName(protoreflect.Name(name))
		if v == nil {
			return errJSON
		}
		d.out = protowire.AppendTag(d.out, f.num, protowire.VarintType)
		d.out = protowire.AppendVarint(d.out, uint64(int64(v.Number())))
		return nil
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		v, err := d.int()
		d.lastInt = v
		if f.fd.Kind() == protoreflect.Int32Kind {
			v = int64(int32(v))
		}
		d.out = protowire.AppendTag(d.out, f.num, protowire.VarintType)
		d.out = protowire.AppendVarint(d.out, uint64(v))
		return err
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		n, err := d.number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseUint(n, 10, 64)
		d.out = protowire.AppendTag(d.out, f.num, protowire.VarintType)
		d.out = protowire.AppendVarint(d.out, v)
		return err
	case protoreflect.DoubleKind:
		n, err := d.number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(n, 64)
		d.out = protowire.AppendTag(d.out, f.num, protowire.Fixed64Type)
		d.out = protowire.AppendFixed64(d.out, math.Float64bits(v))
		return err
	}
	return errJSON
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
