package gate

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
)

// Catalog is what an application may depend on in a database's schema, as
// plain data. Names are qualified by their schema ("public.users").
type Catalog struct {
	Tables    []Table  `json:"tables"`
	Views     []string `json:"views"`     // views and materialized views
	Functions []string `json:"functions"` // "schema.name(identity arguments)"
	Enums     []Enum   `json:"enums"`
	Sequences []string `json:"sequences"`
	Indexes   []Index  `json:"indexes"`
}

// Table is a table (plain, partitioned or foreign) with its columns.
type Table struct {
	Name        string       `json:"name"`
	Columns     []Column     `json:"columns"`
	Constraints []Constraint `json:"constraints,omitempty"`
}

// Column is a column of a table.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // format_type: "character varying(20)", "integer[]"
	NotNull bool   `json:"not_null,omitempty"`
	Default string `json:"default,omitempty"` // pg_get_expr of the default, "" if none
	// Generated: an identity or generated column, which fills itself.
	Generated bool `json:"generated,omitempty"`
}

// Constraint is a CHECK, FOREIGN KEY, PRIMARY KEY, UNIQUE or EXCLUDE
// constraint.
type Constraint struct {
	Name string `json:"name"`
	Def  string `json:"def"` // pg_get_constraintdef
}

// Enum is an enum type with its values in order.
type Enum struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Index is an index; Valid is false for one left by a failed concurrent build.
type Index struct {
	Name  string `json:"name"`
	Table string `json:"table"`
	Valid bool   `json:"valid"`
}

// TypeCompatible reports whether a column a color's schema declares as want
// serves that color when it is live in the database: the same type, or a
// binary-compatible widening (varchar(20) → varchar(50) or text, numeric
// precision raised…; see phases.BinaryCompatible).
func TypeCompatible(want, live string) bool {
	if want == live {
		return true
	}
	w, okw := ParseFormatType(want)
	l, okl := ParseFormatType(live)
	if !okw || !okl {
		return false
	}
	return phases.BinaryCompatible(w, l)
}

var formatTypeRe = regexp.MustCompile(`^([a-z][a-z0-9_ ."]*?)(?:\((\d+)(?:,(\d+))?\))?( with(?:out)? time zone)?$`)

var formatTypeNames = map[string]string{
	"character varying":           "varchar",
	"character":                   "bpchar",
	"integer":                     "int4",
	"smallint":                    "int2",
	"bigint":                      "int8",
	"boolean":                     "bool",
	"real":                        "float4",
	"double precision":            "float8",
	"bit varying":                 "varbit",
	"timestamp without time zone": "timestamp",
	"timestamp with time zone":    "timestamptz",
	"time without time zone":      "time",
	"time with time zone":         "timetz",
}

// ParseFormatType reads format_type's output into the parser's TypeName
// (internal names: "character varying(20)" → varchar [20]).
func ParseFormatType(s string) (parser.TypeName, bool) {
	t := parser.TypeName{Text: s}
	for strings.HasSuffix(s, "[]") {
		t.Array = true
		s = strings.TrimSuffix(s, "[]")
	}
	m := formatTypeRe.FindStringSubmatch(s)
	if m == nil {
		return t, false
	}
	name := m[1] + m[4]
	if n, ok := formatTypeNames[name]; ok {
		name = n
	}
	t.Name = name
	for _, g := range m[2:4] {
		if g != "" {
			v, err := strconv.ParseInt(g, 10, 64)
			if err != nil {
				return t, false
			}
			t.Mods = append(t.Mods, v)
		}
	}
	return t, true
}
