//go:build unix

package lint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bgmigrate/bgmigrate/parser"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "pipe.sql")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tests := []struct {
		name    string
		path    string
		buf     []byte
		want    string // the content, or a prefix of it with a trailing "…"
		wantErr string
	}{
		{name: "a file", path: write("a.sql", "SELECT 1;\n"), want: "SELECT 1;\n"},
		{name: "an empty file", path: write("empty.sql", ""), want: ""},
		{name: "into a larger buffer", path: write("b.sql", "SELECT 2;"), buf: make([]byte, 100, 4096), want: "SELECT 2;"},
		{name: "a file fstat gives no size", path: "/proc/self/status", want: "Name:…"},
		{name: "a named pipe, without waiting for a writer", path: fifo, wantErr: "not a regular file (a named pipe)"},
		{name: "a device", path: "/dev/zero", wantErr: "not a regular file (a character device)"},
		{name: "a directory", path: dir, wantErr: "not a regular file (a directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(tt.path); err != nil {
				t.Skip(err)
			}
			got, err := readFile(tt.path, tt.buf)
			if tt.wantErr != "" {
				var nr *parser.NotRegularError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &nr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(string(got), prefix) {
					t.Errorf("read %q, want it to start with %q", got, prefix)
				}
			} else if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
}
