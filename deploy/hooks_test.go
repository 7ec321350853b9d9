package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/deploy"
)

// lineRecorder records each Write separately.
type lineRecorder struct {
	mu     sync.Mutex
	writes []string
}

func (r *lineRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *lineRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.writes, "")
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	vars := deploy.Vars{Service: "shop", Color: "green", Version: "v1.2.3", URL: "http://green:8080"}
	tests := []struct {
		name    string
		argv    []string
		timeout time.Duration
		out     string // what out receives, when not ""
		// wantErr is the error message ("" for none).
		wantErr  string
		exitCode int
		timedOut bool
	}{
		{
			name: "substitutions and environment",
			argv: []string{"sh", "-c", `echo "$1|$2|$3|$4"; echo "$BGMIGRATE_SERVICE|$BGMIGRATE_COLOR|$BGMIGRATE_VERSION|$BGMIGRATE_URL"`,
				"sh", "{service}", "{color}", "image:{version}", "{url}/{color}"},
			out: "shop|green|image:v1.2.3|http://green:8080/green\nshop|green|v1.2.3|http://green:8080\n",
		},
		{
			name: "true",
			argv: []string{"/bin/true"},
		},
		{
			name:     "false",
			argv:     []string{"/bin/false"},
			wantErr:  `deploy hook "/bin/false" exited with status 1`,
			exitCode: 1,
		},
		{
			name:     "exit status and last line of output",
			argv:     []string{"sh", "-c", "echo first; echo 'the last line' >&2; exit 3"},
			out:      "first\nthe last line\n",
			wantErr:  `deploy hook "sh -c echo first; echo 'the last line' >&2; exit 3" exited with status 3: the last line`,
			exitCode: 3,
		},
		{
			name:     "substituted argv in the error",
			argv:     []string{"sh", "-c", "exit 2", "{color}"},
			wantErr:  `deploy hook "sh -c exit 2 green" exited with status 2`,
			exitCode: 2,
		},
		{
			name:     "not found",
			argv:     []string{"/nonexistent/bgmigrate-hook"},
			wantErr:  `deploy hook "/nonexistent/bgmigrate-hook" failed to start: fork/exec /nonexistent/bgmigrate-hook: no such file or directory`,
			exitCode: -1,
		},
		{
			name:     "empty",
			argv:     nil,
			wantErr:  `deploy hook "" failed to start: empty command`,
			exitCode: -1,
		},
		{
			name:     "timeout",
			argv:     []string{"sleep", "60"},
			timeout:  200 * time.Millisecond,
			wantErr:  `deploy hook "sleep 60" timed out after 200ms`,
			exitCode: -1,
			timedOut: true,
		},
		{
			name:    "timeout not reached",
			argv:    []string{"sh", "-c", "echo quick"},
			timeout: time.Minute,
			out:     "quick\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out lineRecorder
			start := time.Now()
			err := deploy.RunCommand(t.Context(), "deploy hook", tt.argv, vars, tt.timeout, &out)
			if elapsed := time.Since(start); elapsed > 30*time.Second {
				t.Errorf("RunCommand took %s", elapsed)
			}
			if tt.out != "" && out.String() != tt.out {
				t.Errorf("out = %q, want %q", out.String(), tt.out)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("RunCommand: %v", err)
				}
				return
			}
			var ce *deploy.CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("RunCommand error = %v (%T), want a *deploy.CommandError", err, err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error = %q\n     want %q", err.Error(), tt.wantErr)
			}
			if ce.ExitCode != tt.exitCode || ce.TimedOut != tt.timedOut || ce.Name != "deploy hook" {
				t.Errorf("CommandError{Name: %q, ExitCode: %d, TimedOut: %t}, want {deploy hook, %d, %t}",
					ce.Name, ce.ExitCode, ce.TimedOut, tt.exitCode, tt.timedOut)
			}
			if tt.timedOut && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
			}
		})
	}
}

// TestRunCommandLines checks that out gets whole lines, stdout and stderr
// in order, the last one completed with a newline.
func TestRunCommandLines(t *testing.T) {
	t.Parallel()
	var out lineRecorder
	argv := []string{"sh", "-c", "printf 'one\\ntw'; sleep 0.1; printf 'o\\n'; echo three >&2; printf four"}
	if err := deploy.RunCommand(t.Context(), "check", argv, deploy.Vars{}, 0, &out); err != nil {
		t.Fatal(err)
	}
	want := []string{"one\n", "two\n", "three\n", "four\n"}
	if strings.Join(out.writes, "|") != strings.Join(want, "|") {
		t.Errorf("writes = %q, want %q", out.writes, want)
	}
}

// TestRunCommandTail checks that an error keeps only the end of a long
// output.
func TestRunCommandTail(t *testing.T) {
	t.Parallel()
	argv := []string{"sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; echo final >&2; exit 5"}
	var out bytes.Buffer
	err := deploy.RunCommand(t.Context(), "deploy hook", argv, deploy.Vars{}, 0, &out)
	var ce *deploy.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("RunCommand error = %v, want a *deploy.CommandError", err)
	}
	if len(ce.Output) > 4096 || !strings.HasSuffix(ce.Output, "line 1999\nfinal\n") || !strings.HasPrefix(ce.Output, "line ") {
		t.Errorf("Output (%d bytes) is not the last whole lines: %.40q … %q", len(ce.Output), ce.Output, ce.Output[max(0, len(ce.Output)-40):])
	}
	if !strings.HasSuffix(err.Error(), "exited with status 5: final") {
		t.Errorf("error = %q, want it to end with the last line", err)
	}
	if !strings.HasPrefix(out.String(), "line 0\nline 1\n") || !strings.HasSuffix(out.String(), "final\n") {
		t.Errorf("out does not have the whole output")
	}
}

// TestRunCommandKillsGroup checks that a timeout or a cancel kills the
// children a script started in the background, not only the script.
func TestRunCommandKillsGroup(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"timeout", "cancel"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			pidFile := filepath.Join(t.TempDir(), "pid")
			argv := []string{"sh", "-c", `sleep 60 & echo $! > "$1.tmp" && mv "$1.tmp" "$1"; wait`, "sh", pidFile}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var timeout time.Duration
			if how == "timeout" {
				timeout = 2 * time.Second // long enough for sh to start its child
			} else {
				go func() {
					for ctx.Err() == nil {
						if _, err := os.Stat(pidFile); err == nil {
							cancel()
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}()
			}
			start := time.Now()
			err := deploy.RunCommand(ctx, "deploy hook", argv, deploy.Vars{}, timeout, io.Discard)
			if elapsed := time.Since(start); elapsed > 30*time.Second {
				t.Errorf("RunCommand took %s", elapsed)
			}
			var ce *deploy.CommandError
			if !errors.As(err, &ce) {
				t.Fatalf("RunCommand error = %v, want a *deploy.CommandError", err)
			}
			if how == "timeout" && !ce.TimedOut {
				t.Errorf("TimedOut = false after a timeout (%v)", err)
			}
			if how == "cancel" && (ce.TimedOut || !errors.Is(err, context.Canceled)) {
				t.Errorf("a cancel gave %v (TimedOut %t), want context.Canceled", err, ce.TimedOut)
			}
			pid := readPid(t, pidFile)
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			deadline := time.Now().Add(10 * time.Second)
			for alive(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("background child %d still runs after the command was killed", pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestRunCommandBackgroundChild checks that a hook that exits 0 succeeds
// even when a child it left running holds its output open.
func TestRunCommandBackgroundChild(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	argv := []string{"sh", "-c", `sleep 60 & echo $! > "$1"; echo started`, "sh", pidFile}
	var out lineRecorder
	err := deploy.RunCommand(t.Context(), "deploy hook", argv, deploy.Vars{}, time.Minute, &out)
	pid := readPid(t, pidFile)
	defer syscall.Kill(pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("RunCommand: %v", err)
	}
	if out.String() != "started\n" {
		t.Errorf("out = %q, want %q", out.String(), "started\n")
	}
	if !alive(pid) {
		t.Errorf("the background child of a command that succeeded was killed")
	}
}

func TestRunCommandCanceledBefore(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := deploy.RunCommand(ctx, "deploy hook", []string{"/bin/true"}, deploy.Vars{}, 0, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RunCommand with a canceled context = %v, want context.Canceled", err)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the script did not record its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("bad pid %q", b)
	}
	return pid
}

// alive says whether a process exists and is not a zombie (a container's
// init may not reap orphans).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// pid (comm) state …: comm may hold spaces, so look after the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}
