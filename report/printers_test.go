package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/lint"
	"github.com/bgmigrate/bgmigrate/rules"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixedReport is the one input every printer is golden-tested from: the
// migrations under testdata/input, linted with the default rules.
var fixedReport = sync.OnceValues(func() (*Report, error) { return lintInput() })

func lintInput() (*Report, error) {
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{"testdata/input"}})
	if err != nil {
		return nil, err
	}
	return Build(res.Files), nil
}

func mustReport(t *testing.T) *Report {
	t.Helper()
	r, err := fixedReport()
	if err != nil {
		t.Fatalf("lint testdata/input: %v", err)
	}
	return r
}

// TestInput checks that the fixed input covers what the printers must
// handle, so that the goldens keep meaning something.
func TestInput(t *testing.T) {
	t.Parallel()
	r := mustReport(t)
	classes := map[string]bool{}
	var suppressed, syntax, multibyte bool
	severities := map[string]bool{}
	for _, f := range r.Files {
		if strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, `\`) {
			t.Errorf("path %q is not relative with slashes", f.Path)
		}
		classes[f.Class] = true
		for _, fd := range f.Findings {
			severities[fd.Severity] = true
			suppressed = suppressed || fd.Suppressed != nil
			syntax = syntax || fd.Rule == "syntax-error"
			if fd.Column > 1 && len(fd.LineText) > 0 {
				prefix := []rune(fd.LineText)[:fd.Column-1]
				multibyte = multibyte || len(string(prefix)) > len(prefix)
			}
		}
	}
	for _, c := range []string{"expand", "contract", "mixed", "breaking"} {
		if !classes[c] {
			t.Errorf("no %s file in testdata/input", c)
		}
	}
	for _, s := range []string{"error", "warning", "info"} {
		if !severities[s] {
			t.Errorf("no %s finding in testdata/input", s)
		}
	}
	if !suppressed || !syntax || !multibyte {
		t.Errorf("testdata/input lacks: suppressed finding %v, syntax error %v, multi-byte character before a finding %v",
			!suppressed, !syntax, !multibyte)
	}
}

func TestPrinters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden string
		print  func(io.Writer, *Report) error
	}{
		{"sarif.golden", func(w io.Writer, r *Report) error { return SARIF(w, r, "0.0.0-test") }},
		{"github.golden", GitHub},
		{"step_summary.golden", StepSummary},
		{"gitlab.golden", GitLab},
		{"markdown.golden", Markdown},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tc.print(&buf, mustReport(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.golden), buf.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./report -update and review the diff):\n%s", path, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return ""
}

// sarifSchemaPath is the official SARIF 2.1.0 schema, kept beside the
// repository rather than copied into it.
const sarifSchemaPath = "../../shared/schemas/sarif-schema-2.1.0.json"

func TestSARIFSchema(t *testing.T) {
	t.Parallel()
	f, err := os.Open(sarifSchemaPath)
	if errors.Is(err, fs.ErrNotExist) {
		ci.Unavailable(t, "SARIF schema not found at %s: no validation", sarifSchemaPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read %s: %v", sarifSchemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := SARIF(&buf, mustReport(t), "0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("SARIF output does not match the SARIF 2.1.0 schema: %v", err)
	}
	// The validation is not vacuous: a wrong level is rejected.
	broken, err := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(out, `"level": "error"`, `"level": "fatal"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if schema.Validate(broken) == nil {
		t.Error("the schema accepted a result with level \"fatal\"")
	}
}

func TestSARIFRules(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := SARIF(&buf, mustReport(t), "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Version string
					Rules   []struct{ ID, Name string }
				}
			}
			Results []struct {
				RuleID       string
				RuleIndex    int
				Suppressions []struct{ Kind, Justification string }
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver version %q, want 1.2.3", run.Tool.Driver.Version)
	}
	all := rules.All()
	if len(run.Tool.Driver.Rules) != len(all) {
		t.Fatalf("%d rules in the driver, want the %d of the catalog", len(run.Tool.Driver.Rules), len(all))
	}
	for i, r := range all {
		if got := run.Tool.Driver.Rules[i].ID; got != r.ID {
			t.Errorf("driver rule %d is %q, want %q (catalog order)", i, got, r.ID)
		}
	}
	suppressed := 0
	for _, res := range run.Results {
		if all[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %q has ruleIndex %d (%q)", res.RuleID, res.RuleIndex, all[res.RuleIndex].ID)
		}
		for _, s := range res.Suppressions {
			suppressed++
			if s.Kind != "inSource" || s.Justification == "" {
				t.Errorf("suppression %+v: want kind inSource with the justification", s)
			}
		}
	}
	if suppressed == 0 {
		t.Error("the suppressed finding is missing from the SARIF results")
	}
	for _, set := range []map[string]bool{blueGreenRules, inputRules} {
		for id := range set {
			if rules.ByID(id) == nil {
				t.Errorf("SARIF tags name %q, which is not in the catalog", id)
			}
		}
	}
}

func TestCamelCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"ban-drop-column": "BanDropColumn", "syntax-error": "SyntaxError", "fk-missing-index": "FkMissingIndex"} {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	t.Parallel()
	r := &Report{Files: []File{{
		Path:  "db/migrations/001,a:b%.sql",
		Class: "expand",
		Findings: []Finding{
			{Rule: "ban-drop-column", Severity: "warning", Line: 3, Column: 2, EndLine: 3, EndColumn: 9,
				Message: "100% of rows: a, b\nand c\r\nd"},
			{Rule: "syntax-error", Severity: "info", Line: 4, Column: 1, EndLine: 6, EndColumn: 2, Message: "spans lines"},
			{Rule: "renaming-column", Severity: "error", Line: 7, Column: 1, EndLine: 7, EndColumn: 5, Message: "quiet",
				Suppressed: &Suppression{Directive: "bgmigrate:ignore", Justification: "reviewed"}},
		},
	}}}
	var buf bytes.Buffer
	if err := GitHub(&buf, r); err != nil {
		t.Fatal(err)
	}
	want := "::warning file=db/migrations/001%2Ca%3Ab%25.sql,line=3,col=2,endLine=3,endColumn=9,title=ban-drop-column::100%25 of rows: a, b%0Aand c%0D%0Ad\n" +
		"::notice file=db/migrations/001%2Ca%3Ab%25.sql,line=4,endLine=6,title=syntax-error::spans lines\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestControlCharacters: an escape sequence in a file name, a message or
// a migration's text reaches the reader as text, in the text and the
// GitHub formats alike.
func TestControlCharacters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "001_\x1b]0;pwned\x07.sql")
	src := "ALTER TABLE \"\x1b[2Jusers\" DROP COLUMN \"a\u009bb\";\n"
	if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	var text, gh bytes.Buffer
	if err := Text(&text, res.Files, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := GitHub(&gh, Build(res.Files)); err != nil {
		t.Fatal(err)
	}
	for format, out := range map[string]string{"text": text.String(), "github": gh.String()} {
		if strings.ContainsAny(out, "\x1b\x07\u009b") {
			t.Errorf("%s output holds raw control characters:\n%q", format, out)
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%s output does not show the escape as \\x1b:\n%s", format, out)
		}
	}
	for _, want := range []string{`001_\x1b]0;pwned\x07.sql`, `"\x1b[2Jusers"`, `a\u009bb`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %s:\n%s", want, text.String())
		}
	}
}

func TestVisible(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain é\ttab":   "plain é\ttab",
		"a\x1b[31mb":     `a\x1b[31mb`,
		"bell\x07":       `bell\x07`,
		"csi\u009b1m":    `csi\u009b1m`,
		"del\x7f":        `del\x7f`,
		"bad\xffbyte":    `bad\xffbyte`,
		"cr\rover":       `cr\x0dover`,
		"real \uFFFD ok": "real \uFFFD ok",
	} {
		if got := visible(in); got != want {
			t.Errorf("visible(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGitLabFingerprints(t *testing.T) {
	t.Parallel()
	prints := func(r *Report) []string {
		t.Helper()
		var buf bytes.Buffer
		if err := GitLab(&buf, r); err != nil {
			t.Fatal(err)
		}
		var issues []struct{ Fingerprint string }
		if err := json.Unmarshal(buf.Bytes(), &issues); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, is := range issues {
			out = append(out, is.Fingerprint)
		}
		return out
	}
	unique := func(fps []string) {
		t.Helper()
		seen := map[string]bool{}
		for _, fp := range fps {
			if seen[fp] {
				t.Errorf("fingerprint %s appears twice", fp)
			}
			seen[fp] = true
		}
	}

	// Two independent runs over the same input agree.
	first, err := lintInput()
	if err != nil {
		t.Fatal(err)
	}
	second, err := lintInput()
	if err != nil {
		t.Fatal(err)
	}
	a, b := prints(first), prints(second)
	if len(a) == 0 || strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("fingerprints differ between two runs:\n%v\n%v", a, b)
	}
	unique(a)

	// Identical findings on different lines get distinct fingerprints, and
	// a finding keeps its fingerprint when lines above it move.
	dup := func(offset int) *Report {
		fd := Finding{Rule: "ban-drop-column", Severity: "warning", Message: `dropping column "x"`, LineText: "ALTER TABLE t DROP COLUMN x;"}
		f1, f2 := fd, fd
		f1.Line, f2.Line = 2+offset, 5+offset
		return &Report{Files: []File{{Path: "m/001.sql", Class: "contract", Findings: []Finding{f1, f2}}}}
	}
	x, y := prints(dup(0)), prints(dup(10))
	unique(x)
	if strings.Join(x, ",") != strings.Join(y, ",") {
		t.Errorf("fingerprints changed when the lines moved:\n%v\n%v", x, y)
	}
}

func TestMarkdownCapAndEscaping(t *testing.T) {
	t.Parallel()
	f := File{Path: "m/001|x.sql", Class: "breaking"}
	for i := range markdownMaxFindings + 5 {
		f.Findings = append(f.Findings, Finding{Rule: "renaming-column", Severity: "warning", Line: i + 1, Message: "a | b\nc <d>"})
	}
	f.Findings = append(f.Findings, Finding{Rule: "syntax-error", Severity: "error", Line: 99, Message: "last but worst"})
	r := &Report{Files: []File{f}, Summary: Summary{Files: 1, Errors: 1, Warnings: markdownMaxFindings + 5, Classes: map[string]int{"breaking": 1}}}
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"| `m/001\\|x.sql` | breaking — must be split | 1 | 55 | 0 |",
		"| `m/001\\|x.sql:99` | error |",
		"| a \\| b<br>c &lt;d&gt; |",
		"_Showing 50 of 56 findings, errors first; the job log has them all._",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "](https://"); n != markdownMaxFindings {
		t.Errorf("%d finding rows, want %d", n, markdownMaxFindings)
	}
}

// A file of more statements than Build lists (eagerStatements) is written
// by JSON as it goes, with the same bytes, and AllStatements lists it.
func TestJSONListsStatementsAsItGoes(t *testing.T) {
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{"testdata/input"}})
	if err != nil {
		t.Fatal(err)
	}
	var eager, lazy bytes.Buffer
	full := Build(res.Files)
	if err := JSON(&eager, full); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { eagerStatements = n }(eagerStatements)
	eagerStatements = 0
	left := Build(res.Files)
	if err := JSON(&lazy, left); err != nil {
		t.Fatal(err)
	}
	if lazy.String() != eager.String() {
		t.Fatalf("JSON differs when the statements are listed as it goes:\n%s\nwant\n%s", lazy.String(), eager.String())
	}
	listed := 0
	for i := range left.Files {
		if left.Files[i].Statements != nil {
			t.Fatalf("%s: statements listed by Build", left.Files[i].Path)
		}
		if got, want := left.Files[i].AllStatements(), full.Files[i].Statements; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: AllStatements %v, want %v", left.Files[i].Path, got, want)
		}
		listed += len(full.Files[i].Statements)
	}
	if listed == 0 {
		t.Fatal("testdata/input has no statement")
	}
}

// encodeJSON is what appendFile stands for: encoding/json without HTML
// escaping, without the newline Encode ends with.
func encodeJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// The JSON printer's own encoding is encoding/json's, byte for byte: on
// the fixed input, and on files of random strings (every byte value,
// invalid UTF-8, U+2028 and U+2029), empty and nil lists, suppressed
// findings and fields left out when empty.
func TestAppendIsEncodingJSON(t *testing.T) {
	r := mustReport(t)
	for i := range r.Files {
		if got, want := string(appendFile(nil, &r.Files[i])), encodeJSON(t, &r.Files[i]); got != want {
			t.Fatalf("%s:\n%s\nwant\n%s", r.Files[i].Path, got, want)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "<&>", `"`, `\`, "\U0001F600", "\x7f"}
	str := func() string {
		var b strings.Builder
		for range rnd.IntN(12) {
			if rnd.IntN(2) == 0 {
				b.WriteByte(byte(rnd.IntN(256)))
			} else {
				b.WriteString(pieces[rnd.IntN(len(pieces))])
			}
		}
		return b.String()
	}
	for range 2000 {
		f := File{Path: str(), Format: str(), Transaction: str(), Class: str(), Advice: str()}
		for range rnd.IntN(3) {
			if f.Statements == nil && rnd.IntN(3) == 0 {
				f.Statements = []Statement{}
			}
			f.Statements = append(f.Statements, Statement{Line: rnd.IntN(1e6), Column: rnd.IntN(99), EndLine: -rnd.IntN(3), EndColumn: rnd.IntN(99),
				Tag: str(), Class: str(), Reason: str(), Lock: str(), Table: str(), Rewrite: rnd.IntN(2) == 0, Scan: rnd.IntN(2) == 0})
		}
		for range rnd.IntN(3) {
			fd := Finding{Rule: str(), Severity: str(), Line: rnd.IntN(1e6), Column: rnd.IntN(99), EndLine: rnd.IntN(1e6), EndColumn: rnd.IntN(99),
				Message: str(), Help: str(), LineText: str()}
			if rnd.IntN(2) == 0 {
				fd.Suppressed = &Suppression{Directive: str(), Justification: str()}
			}
			f.Findings = append(f.Findings, fd)
		}
		if got, want := string(appendFile(nil, &f)), encodeJSON(t, &f); got != want {
			t.Fatalf("%+v:\n%s\nwant\n%s", f, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\b\f\n\r\t\x1f", "\u2028\u2029", "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), encodeJSON(t, s); got != want {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}
