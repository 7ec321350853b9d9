package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// The environment variables a hook or a command check receives.
const (
	EnvService = "BGMIGRATE_SERVICE"
	EnvColor   = "BGMIGRATE_COLOR"
	EnvVersion = "BGMIGRATE_VERSION"
	EnvURL     = "BGMIGRATE_URL"
)

// Vars are substituted in hook and check arguments ({service}, {color},
// {version}, {url}) and passed as BGMIGRATE_SERVICE, BGMIGRATE_COLOR,
// BGMIGRATE_VERSION and BGMIGRATE_URL.
type Vars struct{ Service, Color, Version, URL string }

// Expand replaces the placeholders in every argument of argv and returns
// a new slice.
func (v Vars) Expand(argv []string) []string {
	r := strings.NewReplacer(
		"{service}", v.Service,
		"{color}", v.Color,
		"{version}", v.Version,
		"{url}", v.URL,
	)
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = r.Replace(a)
	}
	return out
}

// Env returns the four variables as KEY=value entries.
func (v Vars) Env() []string {
	return []string{
		EnvService + "=" + v.Service,
		EnvColor + "=" + v.Color,
		EnvVersion + "=" + v.Version,
		EnvURL + "=" + v.URL,
	}
}

// maxTail is how much of a command's output a CommandError keeps.
const maxTail = 4096

// maxLine is the longest line passed to out in one piece; longer ones are
// split.
const maxLine = 64 << 10

// waitDelay bounds how long the output of a command that exited (or was
// killed) is awaited: a child it left running in the background may hold
// its output open.
const waitDelay = 2 * time.Second

// CommandError is a hook or a command check that failed: it could not
// start, exited non-zero, was killed, timed out or was interrupted.
type CommandError struct {
	// Name says what the command is, e.g. "deploy hook".
	Name string
	// Argv is the command as run, after substitution.
	Argv []string
	// ExitCode is the exit status, -1 when the command did not exit by
	// itself (not started, killed, timed out).
	ExitCode int
	// TimedOut is set when the command ran longer than its timeout.
	TimedOut bool
	// Timeout is the timeout the command had (0: none).
	Timeout time.Duration
	// Output is the end of what the command wrote (at most 4 KiB).
	Output string
	// Err is the underlying error: *exec.ExitError, the start error,
	// context.DeadlineExceeded on timeout, or the context's error when
	// the run was interrupted.
	Err error
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s %q %s", e.Name, strings.Join(e.Argv, " "), e.Reason())
}

// Reason is the message without the command: "exited with status 1:
// <last line of output>", "timed out after 10m" …
func (e *CommandError) Reason() string {
	var s string
	var exit *exec.ExitError
	switch {
	case e.TimedOut:
		s = "timed out after " + fmtDuration(e.Timeout)
	case e.ExitCode >= 0:
		s = fmt.Sprintf("exited with status %d", e.ExitCode)
	case errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded):
		s = "interrupted: " + e.Err.Error()
	case errors.As(e.Err, &exit) && signaled(exit):
		s = "was killed by signal " + exit.Sys().(syscall.WaitStatus).Signal().String()
	case e.Err != nil:
		s = "failed to start: " + e.Err.Error()
	default:
		s = "failed"
	}
	if l := lastLine(e.Output); l != "" {
		s += ": " + l
	}
	return s
}

func (e *CommandError) Unwrap() error { return e.Err }

// RunCommand runs argv (no shell) with the substitutions of v and the
// environment (the process environment plus the four variables of v),
// bounded by timeout (0: none). The command's standard output and error go
// to out line by line (out may be io.Discard); the last 4 KiB are kept for
// the error. On timeout or when ctx ends, the command's whole process group
// is killed, so scripts that start children do not leave them running. A
// command that exits 0 succeeds even if a child it started in the
// background still holds its output open (the output is then cut after 2s
// and the child left alone). name says what the command is in errors
// ("deploy hook"). Every failure is a *CommandError.
func RunCommand(ctx context.Context, name string, argv []string, v Vars, timeout time.Duration, out io.Writer) error {
	args := v.Expand(argv)
	fail := func(err error) error {
		return &CommandError{Name: name, Argv: args, ExitCode: -1, Timeout: timeout, Err: err}
	}
	if len(args) == 0 {
		return fail(errors.New("empty command"))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if out == nil {
		out = io.Discard
	}
	rctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	cmd := exec.CommandContext(rctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), v.Env()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The group has the child's pid as id (Setpgid).
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = waitDelay
	w := &lineWriter{out: out}
	cmd.Stdout, cmd.Stderr = w, w // one pipe: the order of the lines is kept
	err := cmd.Run()
	w.flush()
	if err == nil || (errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success()) {
		return nil
	}

	e := &CommandError{Name: name, Argv: args, ExitCode: -1, Timeout: timeout, Output: w.tailString(), Err: err}
	switch {
	case ctx.Err() != nil:
		e.Err = ctx.Err()
	case rctx.Err() != nil:
		e.TimedOut = true
		e.Err = context.DeadlineExceeded
	case cmd.ProcessState != nil && cmd.ProcessState.Exited():
		e.ExitCode = cmd.ProcessState.ExitCode()
	}
	return e
}

func signaled(e *exec.ExitError) bool {
	ws, ok := e.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// lineWriter passes whole lines to out and keeps the last maxTail bytes.
// exec.Cmd writes to it from one goroutine (stdout and stderr share it).
type lineWriter struct {
	out       io.Writer
	partial   []byte
	tail      []byte
	truncated bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.keep(p)
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) >= maxLine {
				w.emit(w.partial)
				w.partial = w.partial[:0]
			}
			break
		}
		if len(w.partial) > 0 {
			w.emit(append(w.partial, p[:i+1]...))
			w.partial = w.partial[:0]
		} else {
			w.emit(p[:i+1])
		}
		p = p[i+1:]
	}
	// An error of out must not stop the command: it is ignored.
	return n, nil
}

// emit writes one line, adding the newline it may lack.
func (w *lineWriter) emit(line []byte) {
	if !bytes.HasSuffix(line, []byte("\n")) {
		line = append(line, '\n')
	}
	_, _ = w.out.Write(line)
}

func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.emit(w.partial)
		w.partial = nil
	}
}

func (w *lineWriter) keep(p []byte) {
	w.tail = append(w.tail, p...)
	if len(w.tail) > maxTail {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-maxTail:]...)
		w.truncated = true
	}
}

// tailString returns the kept output, starting at a line when it was cut.
func (w *lineWriter) tailString() string {
	t := w.tail
	if w.truncated {
		if i := bytes.IndexByte(t, '\n'); i >= 0 && i < len(t)-1 {
			t = t[i+1:]
		}
	}
	return strings.ToValidUTF8(string(t), "")
}

// lastLine returns the last non-blank line of s, trimmed.
func lastLine(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// fmtDuration prints a duration without its trailing zero units: "10m",
// "1h", "1m30s", "250ms".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
