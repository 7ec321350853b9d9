//go:build unix

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// blocking is a standard input that never has anything to read.
type blocking struct{ unblock chan struct{} }

func (b blocking) Read([]byte) (int, error) {
	<-b.unblock
	return 0, io.EOF
}

func TestLintStandardInput(t *testing.T) {
	t.Parallel()
	const sql = "ALTER TABLE t DROP COLUMN c;\n"
	tests := []struct {
		name   string
		args   []string
		code   int
		files  int    // files in the JSON report
		stderr string // part of it
	}{
		{"- alone", []string{"-"}, ExitOK, 1, ""},
		{"- twice is one input, linted once", []string{"-", "-"}, ExitOK, 1, ""},
		{"- with a path", []string{"-", "testdata/release"}, ExitUsage, 0, "- (standard input) cannot be mixed with paths"},
		{"a path with -", []string{"testdata/release/0001_create_users.up.sql", "-"}, ExitUsage, 0, "- (standard input) cannot be mixed with paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"lint", "--format", "json", "--fail-on", "none", "--stdin-filename", "db/0001_drop.sql"}, tt.args...)
			r := lintReturns(t, strings.NewReader(sql), args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.stderr)
			}
			if tt.files == 0 {
				return
			}
			var doc struct{ Files []struct{ Path string } }
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("%v:\n%s", err, r.stdout)
			}
			if len(doc.Files) != tt.files || doc.Files[0].Path != "db/0001_drop.sql" {
				t.Errorf("files %+v, want %d named db/0001_drop.sql", doc.Files, tt.files)
			}
		})
	}
	t.Run("- with a path is refused before standard input is read", func(t *testing.T) {
		t.Parallel()
		in := blocking{make(chan struct{})}
		defer close(in.unblock)
		r := lintReturns(t, in, "lint", "-", "testdata/release")
		if r.code != ExitUsage || !strings.Contains(r.stderr, "cannot be mixed with paths") {
			t.Errorf("exit code %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestLintInvalidUTF8: invalid UTF-8 is a syntax error worded as
// PostgreSQL words it, where its first byte is.
func TestLintInvalidUTF8(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "0001_bad.sql")
	if err := os.WriteFile(p, []byte("CREATE TABLE a (id int);\nCREATE TABLE t\xff (id int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := lintReturns(t, strings.NewReader(""), "lint", "--format", "json", p)
	if r.code != ExitFindings {
		t.Fatalf("exit code %d, want %d; stderr: %s", r.code, ExitFindings, r.stderr)
	}
	var doc struct {
		Files []struct {
			Findings []struct {
				Rule         string
				Line, Column int
				Message      string
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	want := `syntax-error 2:15 invalid byte sequence for encoding "UTF8": 0xff`
	var got []string
	for _, f := range doc.Files {
		for _, fd := range f.Findings {
			got = append(got, fmt.Sprintf("%s %d:%d %s", fd.Rule, fd.Line, fd.Column, fd.Message))
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("findings %q, want [%q]", got, want)
	}
}
