package twocolor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/cli"
	"github.com/bgmigrate/bgmigrate/parser"
)

// configFile is the bgmigrate configuration of a run: its own, so that no
// .bgmigrate.yaml found upwards changes what the commands do.
const configFile = ".bgmigrate.yaml"

func (r *run) writeConfig() error {
	return os.WriteFile(filepath.Join(r.cfg.Dir, configFile), []byte("version: 1\nrunner: bgmigrate\n"), 0o644)
}

// bgmigrate runs the bgmigrate command line in process, on the run's
// migrations and database, and records it as a step.
func (r *run) bgmigrate(ctx context.Context, name string, args ...string) error {
	args = append(args, "--config", filepath.Join(r.cfg.Dir, configFile), "--dsn", r.cfg.URL)
	if args[0] == "migrate" {
		args = append(args, "--dir", r.dir, "--lock-timeout", r.cfg.LockTimeout.String())
	}
	_, err := r.command(name, args)
	return err
}

// command runs bgmigrate with args and records it as the step name.
func (r *run) command(name string, args []string) (string, error) {
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := cli.Main(args, strings.NewReader(""), &stdout, &stderr)
	out := stdout.String() + stderr.String()
	var err error
	if code != cli.ExitOK {
		err = fmt.Errorf("bgmigrate %s: exit %d: %s", args[0], code, lastLines(out, 4))
	}
	r.step(Step{Name: name, Took: time.Since(start), Err: err, Output: out})
	return stdout.String(), err
}

// splitOutput is the part of bgmigrate split --format json the run reads.
type splitOutput struct {
	Changed  bool     `json:"changed"`
	Written  bool     `json:"written"`
	Notes    []string `json:"notes"`
	Problems []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"problems"`
	Files []struct {
		Path    string `json:"path"`
		Phase   string `json:"phase"`
		Content string `json:"content"`
	} `json:"files"`
}

// split writes the breaking migration and has bgmigrate split --write
// replace it with its expand and contract migrations.
func (r *run) split(ctx context.Context) error {
	src := filepath.Join(r.dir, "0002_"+r.k.Name+".sql")
	if err := os.WriteFile(src, []byte(r.k.Migration), 0o644); err != nil {
		r.step(Step{Name: "split", Err: err})
		return err
	}
	args := []string{"split", "--write", "--format", "json"}
	for _, f := range r.k.Fill {
		args = append(args, "--fill", f)
	}
	out, err := r.command("split", append(args, src))
	if err != nil {
		return err
	}
	var so splitOutput
	if err := json.Unmarshal([]byte(out), &so); err != nil {
		return fmt.Errorf("split output: %w", err)
	}
	if len(so.Problems) > 0 {
		return fmt.Errorf("split: line %d: %s", so.Problems[0].Line, so.Problems[0].Reason)
	}
	for _, f := range so.Files {
		rel, err := filepath.Rel(r.cfg.Dir, f.Path)
		if err != nil {
			rel = f.Path
		}
		r.res.Files = append(r.res.Files, File{Path: filepath.ToSlash(rel), Phase: f.Phase, Content: f.Content})
	}
	sort.Slice(r.res.Files, func(i, j int) bool { return r.res.Files[i].Path < r.res.Files[j].Path })
	if !so.Changed {
		// Nothing to split: the runner already holds the file back as a
		// contract migration (a DROP COLUMN).
		content, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		r.res.Files = append(r.res.Files, File{Path: "db/" + filepath.Base(src), Phase: "unchanged", Content: string(content)})
	}
	return ctx.Err()
}

// statements returns the statements of sql, each without its semicolon.
func statements(sql string) []string {
	f := parser.Parse("migration.sql", []byte(sql), parser.Options{Format: parser.FormatPlain})
	out := make([]string, 0, len(f.Statements))
	for _, st := range f.Statements {
		out = append(out, st.Text)
	}
	return out
}

// pgrollName is the pgroll migration's name, and its version schema's
// suffix.
func (r *run) pgrollName() string { return "01_" + r.k.Name }

func (r *run) pgrollFile() string {
	return filepath.Join(r.cfg.Dir, "pgroll", r.pgrollName()+".json")
}

// pgrollSetup makes pgroll take over the existing schema: init, then a
// baseline (pgroll refuses to start on a schema it has no history of).
func (r *run) pgrollSetup(ctx context.Context) error {
	dir := filepath.Dir(r.pgrollFile())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(r.pgrollFile(), []byte(r.k.Pgroll), 0o644); err != nil {
		return err
	}
	if err := r.pgroll(ctx, "setup: pgroll init", "init"); err != nil {
		return err
	}
	return r.pgroll(ctx, "setup: pgroll baseline", "baseline", "00_baseline", dir, "--yes")
}

// pgroll runs the pgroll binary and records it as a step.
func (r *run) pgroll(ctx context.Context, name string, args ...string) error {
	u, err := withSSLDisabled(r.cfg.URL)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, r.cfg.Pgroll, append(args, "--postgres-url", u)...)
	cmd.Dir = r.cfg.Dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	text := stripANSI(string(out))
	if err != nil {
		err = fmt.Errorf("pgroll %s: %v: %s", args[0], err, pgrollError(text))
	}
	r.step(Step{Name: name, Took: time.Since(start), Err: err, Output: text})
	return err
}

// withSSLDisabled adds sslmode=disable to a URL that sets no sslmode:
// pgroll's driver would ask for TLS, which a test cluster does not offer.
func withSSLDisabled(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("pgroll needs a postgres:// URL")
	}
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// stripANSI removes the terminal escapes of pgroll's spinner, and the
// spinner lines.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i++; i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z'); i++ {
			}
			continue
		}
		b.WriteByte(s[i])
	}
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		frames := strings.Split(l, "\r") // the spinner redraws its line
		if l = strings.TrimSpace(frames[len(frames)-1]); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// pgrollError is the message of pgroll's output that says what failed:
// from its last "Error: ", past the spinner's frames.
func pgrollError(out string) string {
	if i := strings.LastIndex(out, "Error: "); i >= 0 {
		return strings.TrimSpace(out[i+len("Error: "):])
	}
	return lastLines(out, 2)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
