package rules_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/rules"
)

// recipeSchema is the deployed schema the recipes of the rule docs run on.
const recipeSchema = "../testdata/recipes/schema.sql"

// notRecipes are the rules whose docs hold SQL that is not a before/after
// recipe, and why.
var notRecipes = map[string]string{
	"invalid-directive": "its block lists the directives' syntax",
	"syntax-error":      "a statement PostgreSQL cannot parse has no safe form",
	"unused-directive":  "the fix is deleting the directive",
}

// A recipeStep is one file of a recipe written one step per file.
type recipeStep struct {
	sql     string
	claim   phases.Class // the class the recipe's text claims; None when it claims none
	release int          // steps of one release are linted together
	line    int          // line of the step in the rule's doc
}

var (
	sqlBlock    = regexp.MustCompile("(?s)```sql\n(.*?)```")
	claimWord   = regexp.MustCompile(`\b(expand|contract)\b`)
	oneFileNote = regexp.MustCompile(`\bone (transaction|file)\b`)
)

// recipeSteps reads the recipes of a rule's doc: the SQL after a "-- after"
// line of each block with a "-- before" line, split into one file per
// statement. A comment line at the start of a line (not a directive)
// starts a section: one that names expand or contract claims that class
// for the statements below it, and a contract section runs in a later
// release than the steps before it (once the old color is retired). A
// section marked "one transaction" or "one file" stays one file, and so
// do a transaction block and a SET with the statement after it. A
// bgmigrate:phase directive heading a section heads each of its files.
func recipeSteps(doc string) (steps []recipeStep, blocks int) {
	for _, m := range sqlBlock.FindAllStringSubmatchIndex(doc, -1) {
		block := doc[m[2]:m[3]]
		firstLine := strings.Count(doc[:m[2]], "\n") + 1
		if !regexp.MustCompile(`(?m)^-- before`).MatchString(block) {
			continue
		}
		blocks++
		var (
			recipe, oneFile bool
			claim           = phases.None
			release         = 0
			cur             []string
			curLine         int
			sectionHead     string // a phase directive heading the section
			sectionStart    bool
			dollar, inTx    bool
		)
		flush := func() {
			if len(cur) == 0 {
				return
			}
			text := strings.Join(cur, "\n") + "\n"
			if sectionHead != "" && !strings.Contains(text, sectionHead) {
				text = sectionHead + "\n" + text
			}
			if oneFile && len(steps) > 0 && steps[len(steps)-1].release == release && !sectionStart {
				steps[len(steps)-1].sql += text
			} else {
				steps = append(steps, recipeStep{sql: text, claim: claim, release: release, line: curLine})
			}
			sectionStart = false
			cur = nil
		}
		for i, line := range strings.Split(block, "\n") {
			marker := strings.HasPrefix(line, "-- ") && !strings.HasPrefix(line, "-- bgmigrate:") && !strings.HasPrefix(line, "-- +goose") && !dollar
			if marker && len(cur) == 0 {
				text := strings.TrimPrefix(line, "-- ")
				switch {
				case strings.HasPrefix(text, "before"):
					recipe = false
					continue
				case strings.HasPrefix(text, "after"):
					recipe = true
				}
				if !recipe {
					continue
				}
				if c := claimWord.FindStringSubmatch(text); c != nil {
					next, _ := phases.ParseClass(c[1])
					if next == phases.Contract && len(steps) > 0 {
						release++
					}
					claim = next
				}
				oneFile = oneFileNote.MatchString(text)
				sectionHead, sectionStart = "", true
				continue
			}
			if !recipe || strings.TrimSpace(line) == "" && len(cur) == 0 {
				continue
			}
			if len(cur) == 0 {
				curLine = firstLine + i
			}
			if strings.HasPrefix(line, "-- bgmigrate:phase") && sectionStart && sectionHead == "" {
				sectionHead = line
			}
			cur = append(cur, line)
			code := line
			if !dollar {
				if k := strings.Index(code, "--"); k >= 0 {
					code = code[:k]
				}
			}
			if strings.Count(line, "$$")%2 == 1 {
				dollar = !dollar
			}
			if !dollar && strings.HasSuffix(strings.TrimSpace(code), ";") {
				// SET prepares the next statement, and a transaction is
				// one step: both stay in the file of what follows.
				word := strings.ToUpper(strings.TrimRight(strings.Fields(code)[0], ";"))
				switch {
				case word == "BEGIN" || word == "START":
					inTx = true
				case word == "COMMIT" || word == "ROLLBACK" || word == "END":
					inTx = false
				}
				if !inTx && word != "SET" && word != "BEGIN" && word != "START" {
					flush()
				}
			}
		}
		flush()
		release++ // the next block is a recipe of its own
	}
	return steps, blocks
}

// TestRecipes lints every recipe of the rule docs, one step per file, over
// a deployed schema: no step may have an error-level finding or a finding
// of the rule the recipe is for, and each step's file class must be the
// class the recipe's text claims (or none), never mixed or breaking.
func TestRecipes(t *testing.T) {
	schema, err := os.ReadFile(recipeSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.All() {
		r := r
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			steps, blocks := recipeSteps(r.Doc)
			if why, ok := notRecipes[r.ID]; ok {
				if blocks > 0 {
					t.Errorf("listed as having no recipe (%s), but its doc has one", why)
				}
				return
			}
			if blocks == 0 {
				t.Fatal("the doc has no recipe (a ```sql block with -- before and -- after)")
			}
			releases := map[int]bool{}
			for _, s := range steps {
				releases[s.release] = true
			}
			for rel := range releases {
				lintRecipeRelease(t, r, schema, steps, rel)
			}
		})
	}
}

// lintRecipeRelease lints the steps of release rel: the schema and the
// steps of earlier releases are deployed, later ones left out.
func lintRecipeRelease(t *testing.T, r *rules.Rule, schema []byte, steps []recipeStep, rel int) {
	t.Helper()
	runner, err := rules.NewRunner(rules.Config{Enable: []string{r.ID}})
	if err != nil {
		t.Fatal(err)
	}
	files := []*parser.File{parser.Parse("000_schema.sql", schema, parser.Options{})}
	infos := []rules.FileInfo{{}}
	var mine []recipeStep
	for i, s := range steps {
		if s.release > rel {
			break
		}
		name := fmt.Sprintf("%03d_step.sql", i+1)
		f := parser.Parse(name, []byte(s.sql), parser.SideOptions(name))
		if len(f.Errors) > 0 {
			t.Errorf("doc line %d: %v\n%s", s.line, f.Errors[0], s.sql)
			return
		}
		files = append(files, f)
		infos = append(infos, rules.FileInfo{InRelease: s.release == rel, Report: s.release == rel})
		if s.release == rel {
			mine = append(mine, s)
		}
	}
	results := runner.RunRelease(files, infos)
	if len(results) != len(mine) {
		t.Fatalf("%d results for %d steps", len(results), len(mine))
	}
	for i, res := range results {
		s := mine[i]
		for _, f := range res.Findings {
			if f.Suppressed == nil && (f.Severity >= rules.Error || f.Rule == r.ID) {
				t.Errorf("doc line %d: %s: %s\n%s", s.line, f.Rule, f.Message, s.sql)
			}
		}
		switch {
		case res.Class == phases.Mixed || res.Class == phases.Breaking:
			t.Errorf("doc line %d: the step is %s\n%s", s.line, res.Class, s.sql)
		case s.claim != phases.None && res.Class != s.claim && res.Class != phases.None:
			t.Errorf("doc line %d: the step is %s, the recipe says %s\n%s", s.line, res.Class, s.claim, s.sql)
		}
	}
}

// TestRecipeSchema keeps the recipes' schema a plain deployed one.
func TestRecipeSchema(t *testing.T) {
	data, err := os.ReadFile(recipeSchema)
	if err != nil {
		t.Fatal(err)
	}
	f := parser.Parse(filepath.Base(recipeSchema), data, parser.Options{})
	if len(f.Errors) > 0 {
		t.Fatal(f.Errors[0])
	}
}
