//go:build unix

package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lintReturns runs the CLI with stdin and fails the test when it has not
// returned within a minute: the inputs here blocked or never ended.
func lintReturns(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := Main(args, stdin, &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		t.Fatalf("bgmigrate %s did not return", strings.Join(args, " "))
		return result{}
	}
}

// TestLintInputThatIsNotARegularFile: a named pipe blocks its reader until
// a writer comes and a device may never end, so either is refused, named,
// with the exit code of an I/O error, before anything is read.
func TestLintInputThatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "0001_a.sql")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "0002_b.sql"), []byte("SELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"a named pipe", []string{"lint", fifo}, fifo + ": not a regular file (a named pipe)"},
		{"a named pipe in a directory", []string{"lint", dir}, fifo + ": not a regular file (a named pipe)"},
		{"a named pipe matched by a glob", []string{"lint", filepath.Join(dir, "*.sql")}, fifo + ": not a regular file (a named pipe)"},
		{"a device that never ends", []string{"lint", "/dev/zero"}, "/dev/zero: not a regular file (a character device)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := lintReturns(t, strings.NewReader(""), tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit code %d, want %d; stderr: %s", r.code, ExitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.stderr)
			}
		})
	}
}
