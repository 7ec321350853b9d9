package testapp

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Instance is an App serving on a TCP port of 127.0.0.1.
type Instance struct {
	App  *App
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT
}

// Start serves a new App on a free TCP port of 127.0.0.1, where a load
// balancer in another process can reach it, until the test ends.
func Start(t testing.TB, color, version string, opts Options) *Instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testapp: listen: %v", err)
	}
	app := New(color, version, opts)
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("testapp: serve %s %s: %v", color, version, err)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	addr := ln.Addr().String()
	return &Instance{App: app, URL: "http://" + addr, Addr: addr}
}

// cmdPkg is the import path of the bgmigrate-testapp command.
const cmdPkg = "github.com/bgmigrate/bgmigrate/internal/testapp/cmd/bgmigrate-testapp"

var built struct {
	once sync.Once
	path string
	out  []byte
	err  error
	// The write end of the pipe of the process that removes the build
	// folder once this one exits (see removeAtExit). Kept here so that
	// it is never garbage collected, which would close it.
	watchdog *os.File
}

// Binary builds the bgmigrate-testapp command once per test binary and
// returns its path. The folder it is built in is removed when the test
// binary exits. A failed build fails the test with the compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	built.once.Do(build)
	if built.err != nil {
		t.Fatalf("build bgmigrate-testapp: %v\n%s", built.err, built.out)
	}
	return built.path
}

func build() {
	goTool, err := goCommand()
	if err != nil {
		built.err = err
		return
	}
	dir, err := os.MkdirTemp("", "bgmigrate-testapp-")
	if err != nil {
		built.err = err
		return
	}
	built.watchdog = removeAtExit(dir)
	path := filepath.Join(dir, "bgmigrate-testapp")
	built.out, built.err = exec.Command(goTool, "build", "-o", path, cmdPkg).CombinedOutput()
	built.path = path
}

// goCommand finds the go command of the toolchain that runs the test
// ($GOROOT/bin/go, which go test sets), else the one on PATH.
func goCommand() (string, error) {
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return exec.LookPath("go")
}

// removeAtExit starts a small shell that removes dir once this process
// exits, however it exits: the shell reads a pipe that only this process
// writes, so the pipe's end of file is this process's end. It returns the
// write end, to be kept open, or nil when the shell cannot start (dir
// then stays behind).
func removeAtExit(dir string) *os.File {
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", `cat >/dev/null; rm -rf "$1"`, "sh", dir)
	cmd.Stdin = r
	// Its own process group, so that a ^C to go test leaves it to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil
	}
	return w
}
