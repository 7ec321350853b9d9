package lint

import (
	"strings"
	"testing"
)

func TestReadAtMost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int64
		want string
	}{
		{"to the end without a size", 0, "SELECT 1; SELECT 2;"},
		{"the size a file had when opened, though it grew", 10, "SELECT 1; "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readAtMost(strings.NewReader("SELECT 1; SELECT 2;"), tt.size)
			if err != nil || string(got) != tt.want {
				t.Errorf("read %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadsStdin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
		want  bool
		err   string
	}{
		{"paths", []string{"a.sql", "db"}, false, ""},
		{"-", []string{"-"}, true, ""},
		{"- twice, the same input", []string{"-", "-"}, true, ""},
		{"- and a path", []string{"-", "a.sql"}, false, "- (standard input) cannot be mixed with paths"},
		{"a path and -", []string{"a.sql", "-"}, false, "- (standard input) cannot be mixed with paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readsStdin(tt.paths)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
				t.Errorf("readsStdin(%q) = %v, %v; want %v, %q", tt.paths, got, err, tt.want, tt.err)
			}
		})
	}
}
