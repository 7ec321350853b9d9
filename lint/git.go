package lint

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Changes are the files added or modified since a base revision, by
// absolute path.
type Changes struct {
	Base     string // the merge base of the ref and HEAD
	Added    map[string]bool
	Modified map[string]bool
}

// GitChanges lists the files of the repository holding dir that were added
// or modified between the merge base of ref and HEAD and the working tree
// (untracked files count as added).
func GitChanges(ctx context.Context, dir, ref string) (*Changes, error) {
	root, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	root = strings.TrimSpace(root)
	base, err := git(ctx, dir, "merge-base", ref, "HEAD")
	if err != nil {
		return nil, fmt.Errorf("--changed-since %s: %w", ref, err)
	}
	c := &Changes{Base: strings.TrimSpace(base), Added: map[string]bool{}, Modified: map[string]bool{}}
	out, err := git(ctx, root, "diff", "--name-status", "--no-renames", "-z", c.Base, "--")
	if err != nil {
		return nil, err
	}
	fields := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		path := filepath.Join(root, filepath.FromSlash(fields[i+1]))
		switch fields[i] {
		case "A":
			c.Added[path] = true
		case "M", "T":
			c.Modified[path] = true
		}
	}
	out, err = git(ctx, root, "ls-files", "--others", "--exclude-standard", "-z")
	if err != nil {
		return nil, err
	}
	for _, p := range strings.Split(strings.TrimSuffix(out, "\x00"), "\x00") {
		if p != "" {
			c.Added[filepath.Join(root, filepath.FromSlash(p))] = true
		}
	}
	return c, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return stdout.String(), nil
}
