// Package execswitch switches traffic by running commands the team already
// has: scheme exec.
//
//	exec:///usr/local/bin/switch-color?active=/usr/local/bin/active-color
//	exec:///opt/lb/ctl?arg=switch&arg=--zone=eu&active=/opt/lb/ctl&activearg=active
//	exec:switch-color?active=active-color          (looked up in PATH)
//
// Switch runs the switch command (the URL's path) with the arguments given
// by arg, in order, then the color as its last argument; the color is also
// in the environment as BGMIGRATE_COLOR. Active runs the active command
// (parameter active, with the arguments given by activearg) and reads
// "blue" or "green" from its standard output. A command runs directly
// with an argument vector, never through a shell, and inherits the
// environment of bgmigrate.
//
// Switch runs nothing when Active already reports the color, and after the
// switch command exits 0 it runs Active again to check that the color took.
// A command that cannot be found, or exits non-zero, is a
// *switcher.ProviderError naming the command, with its standard error.
package execswitch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("exec", Open) }

const provider = "exec"

// EnvColor is the environment variable that holds the color for the switch
// command.
const EnvColor = "BGMIGRATE_COLOR"

// waitDelay bounds how long a command's output is awaited after it exits or
// is killed (a background child may hold the pipes open).
const waitDelay = 2 * time.Second

// maxStderr is how much of a command's standard error an error quotes.
const maxStderr = 4096

// Switcher runs a command to switch and another to read the active color.
type Switcher struct {
	switchCmd, activeCmd []string // argv; the color is appended to switchCmd
	mu                   sync.Mutex
}

var _ switcher.Switcher = (*Switcher)(nil)

var params = []string{"active", "arg", "activearg"}

// Open opens an exec: URL (see the package documentation). It checks that
// both commands exist and are executable.
func Open(_ context.Context, u *url.URL) (switcher.Switcher, error) {
	s, err := parse(u)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func parse(u *url.URL) (*Switcher, error) {
	fail := func(target string, err error) (*Switcher, error) {
		return nil, &switcher.ProviderError{Provider: provider, Op: "open", Target: target, Err: err}
	}
	if u.Host != "" {
		return fail(u.Redacted(), fmt.Errorf("host %q: want exec:///absolute/path or exec:name-in-PATH", u.Host))
	}
	path := u.Path
	if u.Opaque != "" {
		path = u.Opaque
		if p, err := url.PathUnescape(path); err == nil {
			path = p
		}
	}
	if path == "" {
		return fail(u.Redacted(), errors.New("no switch command: want exec:///path/to/command?active=/path/to/command"))
	}
	q := u.Query()
	for k := range q {
		if !slices.Contains(params, k) {
			return fail(u.Redacted(), fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(params, ", ")))
		}
	}
	if len(q["active"]) != 1 || q.Get("active") == "" {
		return fail(u.Redacted(), errors.New("give the command that prints the active color once, as active=/path/to/command"))
	}
	sw, err := lookPath(path)
	if err != nil {
		return fail(path, err)
	}
	ac, err := lookPath(q.Get("active"))
	if err != nil {
		return fail(q.Get("active"), err)
	}
	return &Switcher{
		switchCmd: append([]string{sw}, q["arg"]...),
		activeCmd: append([]string{ac}, q["activearg"]...),
	}, nil
}

// lookPath finds an executable, reporting a missing one as
// switcher.ErrNotFound.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("command %q: %w (%w)", name, switcher.ErrNotFound, err)
	}
	return "", fmt.Errorf("command %q: %w", name, err)
}

// run runs argv with extra environment and returns its standard output.
func run(ctx context.Context, op string, argv []string, env ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = waitDelay
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limited{buf: &stderr, n: maxStderr}
	err := cmd.Run()
	if cerr := ctx.Err(); err != nil && cerr != nil {
		return nil, cerr
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %w", switcher.ErrNotFound, err)
		}
		return nil, &switcher.ProviderError{Provider: provider, Op: op, Target: strings.Join(argv, " "), Err: err}
	}
	return stdout.Bytes(), nil
}

// limited keeps the first n bytes written and discards the rest.
type limited struct {
	buf *bytes.Buffer
	n   int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Active runs the active command and reads the color it prints.
func (s *Switcher) Active(ctx context.Context) (switcher.Color, error) {
	out, err := run(ctx, "active", s.activeCmd)
	if err != nil {
		return "", err
	}
	c, err := switcher.ParseColor(strings.TrimSpace(string(out)))
	if err != nil {
		return "", &switcher.ProviderError{Provider: provider, Op: "active", Target: strings.Join(s.activeCmd, " "),
			Err: fmt.Errorf("printed %q, want blue or green", truncate(out))}
	}
	return c, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// Switch runs the switch command with the color, unless Active already
// reports it, then checks with Active that the color took.
func (s *Switcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.Active(ctx)
	if err != nil {
		return err
	}
	if cur == to {
		return nil
	}
	argv := append(slices.Clone(s.switchCmd), string(to))
	if _, err := run(ctx, "switch", argv, EnvColor+"="+string(to)); err != nil {
		return err
	}
	after, err := s.Active(ctx)
	if err != nil {
		return err
	}
	if after != to {
		return &switcher.ProviderError{Provider: provider, Op: "switch", Target: strings.Join(argv, " "),
			Err: fmt.Errorf("exited 0 but %s then reported %s", strings.Join(s.activeCmd, " "), after)}
	}
	return nil
}

// Close does nothing: no process outlives a call.
func (s *Switcher) Close() error { return nil }
