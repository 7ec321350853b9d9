//go:build unix

package parser

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCollectRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, "ok/1_a.sql", "pipes/1_a.sql", "links/1_a.sql")
	fifo := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		return p
	}
	link := func(target, rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pipe := fifo("x.sql")
	inDir := fifo("pipes/2_b.sql")
	fifo("ok/README") // not a migration: never looked at
	link(filepath.Join(dir, "ok", "1_a.sql"), "links/2_to_file.sql")
	toPipe := link(pipe, "links/3_to_pipe.sql")
	tests := []struct {
		name string
		args []string
		want string // the error, "" for none
	}{
		{"a named pipe argument", []string{pipe}, pipe + ": not a regular file (a named pipe)"},
		{"a named pipe found in a directory", []string{filepath.Join(dir, "pipes")}, inDir + ": not a regular file (a named pipe)"},
		{"a named pipe matched by a glob", []string{filepath.Join(dir, "pipes", "*.sql")}, inDir + ": not a regular file (a named pipe)"},
		{"a named pipe matched by a ** glob", []string{filepath.ToSlash(dir) + "/pipes/**/*.sql"}, inDir + ": not a regular file (a named pipe)"},
		{"a link to a named pipe", []string{filepath.Join(dir, "links")}, toPipe + ": not a regular file (a named pipe)"},
		{"a character device", []string{"/dev/zero"}, "/dev/zero: not a regular file (a character device)"},
		{"regular files and links to them", []string{filepath.Join(dir, "ok"), filepath.Join(dir, "links", "2_to_file.sql")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Collect(tt.args)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(filepath.ToSlash(err.Error()), filepath.ToSlash(tt.want)) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			var nr *NotRegularError
			if !errors.As(err, &nr) {
				t.Errorf("error %T is not a *NotRegularError", err)
			}
		})
	}
}
