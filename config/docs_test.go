package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// fence is one fenced code block of a Markdown file.
type fence struct {
	info string // what follows the opening ```
	line int    // of the opening fence, 1-based
	body string
}

// fences returns the fenced code blocks of a Markdown document whose
// fences start at the beginning of a line.
func fences(t *testing.T, doc string) []fence {
	t.Helper()
	var out []fence
	var cur *fence
	var body strings.Builder
	for i, line := range strings.Split(doc, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &fence{info: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: i + 1}
			body.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.body = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if cur != nil {
		t.Fatalf("the code block at line %d is not closed", cur.line)
	}
	return out
}

// TestDeployDocs keeps docs/deploy.md's examples loadable: every ```yaml
// block is a whole .bgmigrate.yaml with a deploy: section, loaded with
// the strict loader and checked against schema.json; its ${VAR}s must
// expand into valid values. Blocks of other YAML (Kubernetes manifests)
// say what they are after the language, as in ```yaml kubernetes, and
// must at least parse.
func TestDeployDocs(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	sch := compileSchema(t)
	getenv := func(name string) string {
		if strings.HasSuffix(name, "URL") {
			return "postgres://app:secret@db.example.com:5432/app"
		}
		return "secret"
	}
	configs := 0
	for _, f := range fences(t, string(src)) {
		lang, kind, _ := strings.Cut(f.info, " ")
		switch {
		case lang == "yml":
			t.Errorf("docs/deploy.md:%d: write ```yaml, not ```yml", f.line)
		case lang == "yaml" && kind == "":
			configs++
			dir := t.TempDir()
			p := filepath.Join(dir, FileName)
			if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Load(p)
			if err != nil {
				t.Errorf("docs/deploy.md:%d: the example does not load:\n%v", f.line, strings.ReplaceAll(err.Error(), p, FileName))
				continue
			}
			if c.Deploy == nil {
				t.Errorf("docs/deploy.md:%d: the example has no deploy: section", f.line)
				continue
			}
			if _, err := c.Deploy.Expand(getenv); err != nil {
				t.Errorf("docs/deploy.md:%d: the example does not expand: %v", f.line, err)
			}
			if err := validateYAML(t, sch, f.body); err != nil {
				t.Errorf("docs/deploy.md:%d: schema.json rejects the example: %v", f.line, err)
			}
		case lang == "yaml":
			dec := yaml.NewDecoder(bytes.NewReader([]byte(f.body)))
			for {
				var doc map[string]any
				err := dec.Decode(&doc)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("docs/deploy.md:%d: the %s YAML does not parse: %v", f.line, kind, err)
					break
				}
				if kind == "kubernetes" && (doc["apiVersion"] == nil || doc["kind"] == nil) {
					t.Errorf("docs/deploy.md:%d: a Kubernetes object without apiVersion or kind", f.line)
				}
			}
		}
	}
	if configs < 3 {
		t.Errorf("docs/deploy.md has %d example configurations, want at least 3", configs)
	}
}

// TestReadmeDeployExamples keeps the README's deploy examples identical to
// docs/deploy.md's, which TestDeployDocs loads.
func TestReadmeDeployExamples(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join("..", "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	inDocs := map[string]bool{}
	for _, f := range fences(t, string(docs)) {
		inDocs[f.body] = true
	}
	n := 0
	for _, f := range fences(t, string(readme)) {
		if f.info != "yaml" || !strings.Contains(f.body, "\ndeploy:\n") {
			continue
		}
		n++
		if !inDocs[f.body] {
			t.Errorf("README.md:%d: this deploy example differs from every example of docs/deploy.md", f.line)
		}
	}
	if n < 3 {
		t.Errorf("README.md has %d deploy examples, want the three setups", n)
	}
}
