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

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "regenerate the enums of schema.json from the code")

// generateSchema returns schema.json with the closed sets taken from the
// code: rule ids (also as the keys of rules.severity), formats, runners and
// fail_on levels. The file is written in one canonical form (keys sorted,
// two-space indent) so that the test can compare bytes.
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

// TestSchemaUpToDate fails when schema.json's rule ids, formats, runners
// or fail_on levels differ from the code; go test ./config -update
// regenerates them.
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
// decoder reads (the yaml tags of Config and the types it holds).
func TestSchemaKeys(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(t *testing.T, typ reflect.Type, obj map[string]any, at string)
	walk = func(t *testing.T, typ reflect.Type, obj map[string]any, at string) {
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
			sub, _ := props[f.name].(map[string]any)
			ft := typ.Field(f.index).Type
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				sub, _ = sub["items"].(map[string]any)
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && sub != nil {
				walk(t, ft, sub, at+"."+f.name)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %v, Go keys %v", at, got, want)
		}
	}
	walk(t, reflect.TypeOf(Config{}), doc, "config")
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
