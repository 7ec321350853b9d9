package haproxy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// readMapFile reads a map file, reporting a missing one as
// switcher.ErrNotFound.
func readMapFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("map file %w: %w", switcher.ErrNotFound, err)
	}
	return b, err
}

// mapFileValue returns the value of the first line for key.
func mapFileValue(content []byte, key string) (string, bool) {
	for _, line := range strings.Split(string(content), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			return f[1], true
		}
	}
	return "", false
}

// setMapLine returns the map file content with key set to value: the first
// line for key is replaced, later ones are dropped, comments and other keys
// are kept; a missing key is appended.
func setMapLine(content []byte, key, value string) []byte {
	var out []string
	done := false
	lines := strings.SplitAfter(string(content), "\n")
	for _, line := range lines {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == key {
			if !done {
				out = append(out, key+" "+value+"\n")
				done = true
			}
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		out = append(out, line)
	}
	if !done {
		out = append(out, key+" "+value+"\n")
	}
	return []byte(strings.Join(out, ""))
}

// writeMapFile sets key to value in the map file at path, atomically: the
// new content goes to a temporary file in the same folder, synced, then
// renamed over path. restore puts the old content back the same way.
// A symbolic link is followed, so the file it points at is replaced; the
// owner and mode of the old file are kept where the process may set them.
func writeMapFile(path, key, value string) (restore func() error, err error) {
	old, err := readMapFile(path)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("map file: %w", err)
	}
	if old2 := setMapLine(old, key, value); string(old2) == string(old) {
		return func() error { return nil }, nil
	} else if err := replaceFile(path, old2, fi); err != nil {
		return nil, err
	}
	return func() error { return replaceFile(path, old, fi) }, nil
}

func replaceFile(path string, content []byte, like fs.FileInfo) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write map file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("write map file: %w", err)
	}
	if st, ok := like.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(st.Uid), int(st.Gid)) // best effort: only root may give a file away
	}
	if err := f.Chmod(like.Mode().Perm()); err != nil {
		f.Close()
		return fmt.Errorf("write map file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write map file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write map file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write map file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
