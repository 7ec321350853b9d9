package phases_test

import (
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/schema"
)

// TestModel classifies every example of the class model: ModelSchema is
// replayed as deployed, the row's Release as an earlier file of the release
// being linted, and its SQL as the next file.
func TestModel(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, row := range phases.Model {
		row := row
		key := row.Statement + " / " + row.Situation
		if seen[key] {
			t.Errorf("row %q is listed twice", key)
		}
		seen[key] = true
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			if row.Why == "" || row.SQL == "" {
				t.Fatal("a row needs a reason and an example")
			}
			cat := schema.New()
			cat.BeginFile(1, false)
			for _, st := range parse(t, phases.ModelSchema) {
				cat.Apply(st)
			}
			cat.BeginFile(2, true)
			if row.Release != "" {
				for _, st := range parse(t, row.Release) {
					cat.Apply(st)
				}
			}
			cat.BeginFile(3, true)
			var before, after []*parser.Statement
			if row.Before != "" {
				before = parse(t, row.Before)
				for _, st := range before {
					cat.Apply(st)
				}
			}
			if row.After != "" {
				after = parse(t, row.After)
			}
			stmts := parse(t, row.SQL)
			if len(stmts) != 1 {
				t.Fatalf("the example is %d statements, want 1", len(stmts))
			}
			in := phases.Classify(stmts[0], cat, 15)
			if c, reason, ok := phases.Shim(before, stmts[0], after, cat); ok {
				in.Class, in.Reason = c, reason
			}
			if in.Class != row.Class {
				t.Errorf("%s: class %s, want %s (%s)", row.SQL, in.Class, row.Class, in.Reason)
			}
			if (in.Class == phases.Contract || in.Class == phases.Breaking) && in.Reason == "" {
				t.Errorf("%s: class %s without a reason", row.SQL, in.Class)
			}
		})
	}
}
