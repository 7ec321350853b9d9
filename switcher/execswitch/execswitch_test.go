package execswitch_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/execswitch"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// scripts writes a switch script and an active script that keep the color
// in a state file, and returns the folder.
func scripts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "state"), "blue\n")
	write(t, filepath.Join(dir, "switch"), `#!/bin/sh
# Records its arguments one a line, checks that the environment agrees with
# the last argument, then writes the state atomically.
dir=$(dirname "$0")
for a in "$@"; do printf '%s\n' "$a"; done > "$dir/args"
for last in "$@"; do :; done
if [ "$last" != "$BGMIGRATE_COLOR" ]; then
	echo "argument $last and BGMIGRATE_COLOR $BGMIGRATE_COLOR differ" >&2
	exit 3
fi
if [ -e "$dir/fail" ]; then
	echo "load balancer refused: $(cat "$dir/fail")" >&2
	exit 7
fi
if [ -e "$dir/ignore" ]; then exit 0; fi
if [ -e "$dir/slow" ]; then sleep 10; fi
printf '%s\n' "$last" > "$dir/state.tmp" && mv "$dir/state.tmp" "$dir/state"
`)
	write(t, filepath.Join(dir, "active"), `#!/bin/sh
cat "$(dirname "$0")/state"
`)
	for _, f := range []string{"switch", "active"} {
		if err := os.Chmod(filepath.Join(dir, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func execURL(dir string, extra ...string) string {
	u := "exec://" + filepath.Join(dir, "switch") + "?active=" + url.QueryEscape(filepath.Join(dir, "active"))
	for _, e := range extra {
		u += "&" + e
	}
	return u
}

func TestConformance(t *testing.T) {
	switchertest.Run(t, switchertest.Harness{
		Name: "exec",
		Open: func(t *testing.T) switchertest.Instance {
			return switchertest.Instance{Switcher: switchertest.Open(t, execURL(scripts(t)))}
		},
	})
}

func state(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestArgvNotShell checks that arguments reach the command as they are,
// with no shell in between.
func TestArgvNotShell(t *testing.T) {
	t.Parallel()
	dir := scripts(t)
	pwned := filepath.Join(dir, "pwned")
	args := []string{"$(touch " + pwned + ")", "a b", "; touch " + pwned, "*"}
	extra := make([]string, len(args))
	for i, a := range args {
		extra[i] = "arg=" + url.QueryEscape(a)
	}
	s := switchertest.Open(t, execURL(dir, extra...))
	if err := s.Switch(context.Background(), switcher.Green); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(append(args, "green"), "\n") + "\n"; string(got) != want {
		t.Errorf("the command got arguments\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("an argument was run by a shell")
	}
	if st := state(t, dir); st != "green" {
		t.Errorf("state = %q, want green", st)
	}
}

func wantProviderError(t *testing.T, err error, op, names string) *switcher.ProviderError {
	t.Helper()
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %T %v, want *switcher.ProviderError", err, err)
	}
	if pe.Provider != "exec" || pe.Op != op {
		t.Errorf("ProviderError{Provider: %q, Op: %q}, want exec, %s", pe.Provider, pe.Op, op)
	}
	if !strings.Contains(pe.Target, names) {
		t.Errorf("Target %q does not name %q", pe.Target, names)
	}
	return pe
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := scripts(t)
	missing := filepath.Join(dir, "nosuch")
	notExec := filepath.Join(dir, "state")
	for _, tc := range []struct {
		name, url, names string
		notFound         bool
	}{
		{"missing switch command", "exec://" + missing + "?active=" + filepath.Join(dir, "active"), missing, true},
		{"missing active command", "exec://" + filepath.Join(dir, "switch") + "?active=" + missing, missing, true},
		{"not in PATH", "exec:bgmigrate-no-such-command?active=" + filepath.Join(dir, "active"), "bgmigrate-no-such-command", true},
		{"not executable", "exec://" + notExec + "?active=" + filepath.Join(dir, "active"), notExec, false},
		{"no active", "exec://" + filepath.Join(dir, "switch"), "exec://", false},
		{"unknown parameter", execURL(dir, "shell=1"), "exec://", false},
		{"host", "exec://somehost/switch?active=x", "somehost", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := switcher.Open(context.Background(), tc.url)
			wantProviderError(t, err, "open", tc.names)
			if got := errors.Is(err, switcher.ErrNotFound); got != tc.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v: %v", got, tc.notFound, err)
			}
		})
	}
}

func TestOpenFromPATH(t *testing.T) {
	dir := scripts(t)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	s := switchertest.Open(t, "exec:switch?active=active")
	if err := s.Switch(context.Background(), switcher.Green); err != nil {
		t.Fatal(err)
	}
	if st := state(t, dir); st != "green" {
		t.Errorf("state = %q, want green", st)
	}
}

func TestSwitchFails(t *testing.T) {
	t.Parallel()
	dir := scripts(t)
	s := switchertest.Open(t, execURL(dir))
	write(t, filepath.Join(dir, "fail"), "backend green is down")
	err := s.Switch(context.Background(), switcher.Green)
	pe := wantProviderError(t, err, "switch", filepath.Join(dir, "switch"))
	if !strings.Contains(pe.Error(), "load balancer refused: backend green is down") || !strings.Contains(pe.Error(), "exit status 7") {
		t.Errorf("error %q lacks the exit status or the command's stderr", pe)
	}
	if st := state(t, dir); st != "blue" {
		t.Errorf("state = %q after a failed switch, want blue", st)
	}
}

func TestSwitchDidNotTake(t *testing.T) {
	t.Parallel()
	dir := scripts(t)
	s := switchertest.Open(t, execURL(dir))
	write(t, filepath.Join(dir, "ignore"), "")
	err := s.Switch(context.Background(), switcher.Green)
	pe := wantProviderError(t, err, "switch", "switch")
	if !strings.Contains(pe.Error(), "reported blue") {
		t.Errorf("error %q does not say what Active reported", pe)
	}
}

func TestActiveGarbage(t *testing.T) {
	t.Parallel()
	dir := scripts(t)
	s := switchertest.Open(t, execURL(dir))
	write(t, filepath.Join(dir, "state"), "purple\n")
	_, err := s.Active(context.Background())
	pe := wantProviderError(t, err, "active", filepath.Join(dir, "active"))
	if !strings.Contains(pe.Error(), `"purple\n"`) {
		t.Errorf("error %q does not quote the output", pe)
	}
	os.Remove(filepath.Join(dir, "state"))
	_, err = s.Active(context.Background())
	pe = wantProviderError(t, err, "active", filepath.Join(dir, "active"))
	if !strings.Contains(pe.Error(), "No such file") {
		t.Errorf("error %q lacks the command's stderr", pe)
	}
}

// TestDeadlineKillsCommand checks that a command still running when the
// context ends is killed and the context's error returned.
func TestDeadlineKillsCommand(t *testing.T) {
	t.Parallel()
	dir := scripts(t)
	s := switchertest.Open(t, execURL(dir))
	write(t, filepath.Join(dir, "slow"), "")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Switch(ctx, switcher.Green)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Switch = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Switch returned after %v, want soon after the deadline", took)
	}
	if st := state(t, dir); st != "blue" {
		t.Errorf("state = %q, want blue", st)
	}
}
