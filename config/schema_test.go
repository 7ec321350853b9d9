package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "regenerate the enums of schema.json from the code")

// generateSchema returns schema.json with the closed sets taken from the
// code: rule ids (also as the keys of rules.severity), formats, runners,
// fail_on levels and the methods of smoke checks. The file is written in
// one canonical form (keys sorted, two-space indent) so that the test can
// compare bytes.
func generateSchema(current []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(current, &doc); err != nil {
		return nil, fmt.Errorf("schema.json: %w", err)
	}
	var ids []any
	severity := map[string]any{}
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
		severity[r.ID] = map[string]any{"$ref": "#/definitions/severity"}
	}
	var formats, runners, failOn []any
	for _, f := range parser.Formats {
		formats = append(formats, string(f))
	}
	for _, r := range Runners {
		runners = append(runners, r)
	}
	for _, l := range FailOnLevels {
		failOn = append(failOn, l)
	}
	var methods []any
	for _, m := range CheckMethods {
		methods = append(methods, m)
	}
	set := func(v any, keys ...string) error {
		m := doc
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				return fmt.Errorf("schema.json: no object at %s", strings.Join(keys, "."))
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
		return nil
	}
	for _, e := range []struct {
		v    any
		keys []string
	}{
		{ids, []string{"definitions", "ruleId", "enum"}},
		{severity, []string{"properties", "rules", "properties", "severity", "properties"}},
		{formats, []string{"properties", "migrations", "items", "properties", "format", "enum"}},
		{runners, []string{"properties", "runner", "enum"}},
		{failOn, []string{"properties", "fail_on", "enum"}},
		{methods, []string{"definitions", "check", "properties", "method", "enum"}},
	} {
		if err := set(e.v, e.keys...); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestSchemaUpToDate fails when schema.json's rule ids, formats, runners,
// fail_on levels or smoke check methods differ from the code; go test
// ./config -update regenerates them.
func TestSchemaUpToDate(t *testing.T) {
	current, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generateSchema(current)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("schema.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	var doc struct {
		Definitions struct {
			RuleID struct {
				Enum []string `json:"enum"`
			} `json:"ruleId"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(current, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(doc.Definitions.RuleID.Enum, ids) {
		t.Errorf("schema.json's rule ids differ from rules.All() (run go test ./config -update):\n got %v\nwant %v", doc.Definitions.RuleID.Enum, ids)
	}
	if !bytes.Equal(current, want) {
		t.Errorf("schema.json is stale or not in canonical form: run go test ./config -update")
	}
}

// TestSchemaKeys checks that schema.json knows exactly the keys the
// decoder reads (the yaml tags of Config and of every struct it holds,
// through pointers, lists and "$ref"s) and that each key has the JSON type
// its Go type decodes from.
func TestSchemaKeys(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema, &doc); err != nil {
		t.Fatal(err)
	}
	defs, _ := doc["definitions"].(map[string]any)
	// deref follows a local "$ref", or a lone "allOf" holding one, as the
	// schema writes a reference that carries its own description.
	deref := func(obj map[string]any) map[string]any {
		for obj != nil {
			if all, ok := obj["allOf"].([]any); ok && len(all) == 1 && obj["type"] == nil {
				obj, _ = all[0].(map[string]any)
				continue
			}
			ref, ok := obj["$ref"].(string)
			if !ok {
				return obj
			}
			name, ok := strings.CutPrefix(ref, "#/definitions/")
			if !ok {
				t.Fatalf("non-local $ref %q", ref)
			}
			obj, _ = defs[name].(map[string]any)
		}
		return nil
	}
	walked := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, obj map[string]any, at string)
	walk = func(typ reflect.Type, obj map[string]any, at string) {
		walked[typ] = true
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is not false", at)
		}
		props, _ := obj["properties"].(map[string]any)
		var got, want []string
		for k := range props {
			got = append(got, k)
		}
		for _, f := range fields(typ) {
			want = append(want, f.name)
			sub := deref(asObject(props[f.name]))
			if sub == nil {
				continue
			}
			ft := typ.Field(f.index).Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if wt := jsonType(ft); sub["type"] != nil && sub["type"] != wt {
				t.Errorf("%s.%s: schema type %v, Go type %s decodes from %s", at, f.name, sub["type"], ft, wt)
			}
			if ft.Kind() == reflect.Slice {
				if items := deref(asObject(sub["items"])); items != nil {
					if wt := jsonType(ft.Elem()); items["type"] != nil && items["type"] != wt {
						t.Errorf("%s.%s[]: schema type %v, Go type %s decodes from %s", at, f.name, items["type"], ft.Elem(), wt)
					}
					sub = items
				}
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, sub, at+"."+f.name)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %v, Go keys %v", at, got, want)
		}
	}
	walk(reflect.TypeFor[Config](), doc, "config")
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Deploy](), reflect.TypeFor[ColorConfig](), reflect.TypeFor[Hooks](), reflect.TypeFor[Probe](),
		reflect.TypeFor[Check](), reflect.TypeFor[WarmUp](), reflect.TypeFor[DeployGate](), reflect.TypeFor[Confidence](),
	} {
		if !walked[typ] {
			t.Errorf("%s: not reached from Config's schema", typ)
		}
	}
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// jsonType is the JSON schema type a Go field decodes from.
func jsonType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array"
	}
	return "object"
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validateYAML checks a YAML document against schema.json.
func validateYAML(t *testing.T, sch *jsonschema.Schema, src string) error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
