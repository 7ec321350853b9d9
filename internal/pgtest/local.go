package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// binDirs lists where StartLocal looks for initdb and postgres: Debian's and
// Ubuntu's versioned directories, highest version first.
func binDirs() []string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	type dirVersion struct {
		dir string
		v   float64
	}
	var found []dirVersion
	for _, m := range matches {
		dir := filepath.Dir(m)
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		if err != nil {
			continue
		}
		found = append(found, dirVersion{dir, v})
	}
	// Highest version first; few entries, so a simple insertion sort.
	for i := 1; i < len(found); i++ {
		for j := i; j > 0 && found[j].v > found[j-1].v; j-- {
			found[j], found[j-1] = found[j-1], found[j]
		}
	}
	dirs := make([]string, 0, len(found))
	for _, f := range found {
		dirs = append(dirs, f.dir)
	}
	return dirs
}

// findBinDir returns a directory holding both initdb and postgres.
func findBinDir() (string, error) {
	for _, dir := range binDirs() {
		if isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", unavailable(hintAny, "no initdb and postgres in /usr/lib/postgresql/*/bin or PATH")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// localCluster is a postmaster that StartLocal started.
type localCluster struct {
	dir   string // temp dir: data/, the socket, postgres.log
	cmd   *exec.Cmd
	done  chan struct{} // closed when the postmaster has exited
	guard *watchdog
}

// StartLocal starts a throwaway cluster from the local PostgreSQL binaries:
// initdb (trust auth, superuser "postgres", no fsync) in a new temp dir, then
// postgres on a free port of 127.0.0.1 below 32768 with its unix socket in
// that dir and fsync, synchronous_commit and full_page_writes off. As root,
// both run as the "postgres" system user. Close stops the server and removes
// the dir. The error matches ErrUnavailable when there are no binaries.
func StartLocal(ctx context.Context) (*Server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// The server refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, unavailable(hintAny, "running as root needs a \"postgres\" system user to run the server as: %v", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}

	parent := os.TempDir()
	if cred != nil && !traversable(parent) {
		parent = "/tmp" // the postgres user could not reach a dir under $TMPDIR
	}
	dir, err := os.MkdirTemp(parent, "bgmigrate-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	c := &localCluster{dir: dir}
	ok := false
	defer func() {
		if !ok {
			_ = c.stop(context.Background())
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("chown temp dir: %w", err)
		}
	}
	// Whatever happens to this process from here on, the watchdog stops the
	// postmaster and removes the dir.
	c.guard, err = startWatchdog(fmt.Sprintf(
		`pid=$(head -n1 %[1]s/data/postmaster.pid 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
		i=0; while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
		rm -rf %[1]s`, shellQuote(dir)))
	if err != nil {
		return nil, err
	}

	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.Env = serverEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, lastLines(out, 5))
	}

	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		err = c.startPostmaster(ctx, bin, port, cred)
		if err == nil {
			ok = true
			return &Server{
				URL:  fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
				Kind: KindLocal,
				stop: c.stop,
			}, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	return nil, lastErr
}

var errPortInUse = errors.New("port in use")

// startPostmaster runs postgres as a child of this process and waits until
// it accepts connections on port.
func (c *localCluster) startPostmaster(ctx context.Context, bin string, port int, cred *syscall.Credential) error {
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(c.dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", c.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
		// The gate's tests read the queries a workload ran.
		"-c", "shared_preload_libraries=pg_stat_statements",
	)
	cmd.Dir = c.dir
	cmd.Env = serverEnv()
	// Not the test binary's stdout: go test would wait for the pipe to close.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// Immediate shutdown if this process dies without stopping it.
		Pdeathsig: syscall.SIGQUIT,
		// Its own process group: a ^C to go test is for us, not for it.
		Setpgid: true,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd = cmd
	c.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.done) }()

	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-c.done:
			log, _ := os.ReadFile(logPath)
			c.cmd = nil
			if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("already in use")) {
				return fmt.Errorf("%w: %d", errPortInUse, port)
			}
			return fmt.Errorf("postgres exited: %s", lastLines(log, 5))
		default:
		}
		conn, err := pgconn.Connect(ctx, url)
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections: %v: %s", err, lastLines(log, 5))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop shuts the postmaster down (fast, then immediate, then SIGKILL) and
// removes the temp dir.
func (c *localCluster) stop(ctx context.Context) error {
	var errs []error
	if c.cmd != nil {
		steps := []struct {
			sig  os.Signal
			wait time.Duration
		}{{syscall.SIGINT, 20 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}}
		stopped := false
		for _, s := range steps {
			_ = c.cmd.Process.Signal(s.sig)
			select {
			case <-c.done:
				stopped = true
			case <-time.After(s.wait):
			case <-ctx.Done():
			}
			if stopped {
				break
			}
		}
		if !stopped {
			errs = append(errs, fmt.Errorf("postgres (pid %d) did not stop", c.cmd.Process.Pid))
		}
		c.cmd = nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	if c.guard != nil {
		c.guard.disarm()
		c.guard = nil
	}
	return errors.Join(errs...)
}

// serverEnv is this process's environment without the libpq variables that
// would change what initdb and postgres do.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// freePort returns a port of 127.0.0.1 that nothing listens on, below the
// Linux ephemeral range (32768 and up) that load tests churn.
func freePort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port, nil
	}
	return 0, errors.New("no free port in 20000-31999 on 127.0.0.1")
}

// lastLines returns the last n lines of out, joined by " | ", for one-line
// error messages.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// traversable reports whether every directory on the way to dir lets any
// user through, as the postgres user needs to reach its data.
func traversable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}
