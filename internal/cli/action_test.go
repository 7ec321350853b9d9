package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionScript runs the GitHub Action's lint step (scripts/action.sh)
// as a runner would: in a repository whose pull request adds migrations,
// with the event JSON, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY of Actions.
func TestActionScript(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bgmigrate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/bgmigrate")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	repo := filepath.Join(tmp, "repo")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(repo, "db", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	write("0001_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, name text);\nCREATE INDEX users_name_idx ON users (name);\n")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	base := git("rev-parse", "HEAD")
	write("0002_email.up.sql", "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN email text;\n")
	write("0003_rename.up.sql", "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN name TO full_name;\n")
	git("add", ".")
	git("commit", "-q", "-m", "pull request")

	event := filepath.Join(tmp, "event.json")
	if err := os.WriteFile(event, []byte(`{"pull_request": {"number": 7, "base": {"sha": "`+base+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	output, summary := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary.md")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "action.sh"), "lint")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_PATH="+event, "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary,
		"RUNNER_TEMP="+tmp, "BGMIGRATE_BIN="+bin, "INPUT_PATHS=db", "INPUT_FAIL_ON=error", "INPUT_FORMAT=github",
		"INPUT_BASE=", "INPUT_CONFIG=", "INPUT_PG_VERSION=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("action step: %v (want exit 1 for the breaking migration)\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "::error file=db/0003_rename.up.sql,line=2,") {
		t.Errorf("no annotation for the rename:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "0001_users") {
		t.Errorf("the base commit's migration was reported:\n%s", stdout.String())
	}
	outs, _ := os.ReadFile(output)
	sarif := filepath.Join(tmp, "bgmigrate.sarif")
	for _, want := range []string{"sarif-file=" + sarif, "worst-class=breaking"} {
		if !strings.Contains(string(outs), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, outs)
		}
	}
	if info, err := os.Stat(sarif); err != nil || info.Size() == 0 {
		t.Errorf("no SARIF file: %v", err)
	}
	sum, _ := os.ReadFile(summary)
	for _, want := range []string{"db/0002_email.up.sql", "expand — runs before the switch", "db/0003_rename.up.sql", "breaking — must be split"} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("step summary lacks %q:\n%s", want, sum)
		}
	}
}
