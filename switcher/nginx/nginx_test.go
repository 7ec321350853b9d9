package nginx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/nginx"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// server is one nginx started for a test, in its own prefix directory.
type server struct {
	dir      string
	conf     string
	upstream string // the include file the switcher writes
	pidFile  string
	port     int
	backends *switchertest.Backends
}

func (s *server) frontend() string { return fmt.Sprintf("http://127.0.0.1:%d/", s.port) }

// url returns the switcher URL for this nginx; extra query keys replace the
// defaults.
func (s *server) url(extra url.Values) string {
	q := url.Values{
		"upstream": {"app"},
		"blue":     {s.backends.Blue},
		"green":    {s.backends.Green},
		"test":     {"nginx -t -q -e " + filepath.Join(s.dir, "error.log") + " -p " + s.dir + " -c " + s.conf},
		"reload":   {"nginx -e " + filepath.Join(s.dir, "error.log") + " -p " + s.dir + " -c " + s.conf + " -s reload"},
		"pid":      {s.pidFile},
		"check":    {s.frontend() + "?delay=0s"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return (&url.URL{Scheme: "nginx", Path: s.upstream, RawQuery: q.Encode()}).String()
}

// startNginx runs a real nginx (master and one worker) on a free port of
// 127.0.0.1 in front of two test backends, blue active, and stops it by PID
// when the test ends.
func startNginx(t testing.TB) *server {
	t.Helper()
	return startNginxFor(t, switchertest.StartBackends(t))
}

// startNginxFor runs nginx as startNginx does, in front of b.
func startNginxFor(t testing.TB, b *switchertest.Backends) *server {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		switchertest.Unavailable(t, "nginx", "nginx not found in PATH")
	}
	s := &server{dir: t.TempDir(), backends: b}
	s.conf = filepath.Join(s.dir, "nginx.conf")
	s.upstream = filepath.Join(s.dir, "conf.d", "app-upstream.conf")
	s.pidFile = filepath.Join(s.dir, "nginx.pid")
	if err := os.MkdirAll(filepath.Dir(s.upstream), 0o755); err != nil {
		t.Fatal(err)
	}
	initial := fmt.Sprintf("upstream app {\n    server %s;\n}\n", s.backends.Blue)
	if err := os.WriteFile(s.upstream, []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	var last error
	for range 5 {
		s.port = switchertest.FreePort(t)
		if last = s.start(t, bin); last == nil {
			return s
		}
	}
	switchertest.Unavailable(t, "nginx", "cannot start nginx: %v", last)
	return nil
}

func (s *server) start(t testing.TB, bin string) error {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must reach the temp paths in the test's private dir
	}
	conf := fmt.Sprintf(`%[1]s
daemon off;
master_process on;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[3]s;
    server {
        listen 127.0.0.1:%[4]d;
        location / { proxy_pass http://app; }
    }
}
`, user, s.dir, s.upstream, s.port)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		return err
	}
	errLog := filepath.Join(s.dir, "error.log")
	cmd := exec.Command(bin, "-e", errLog, "-p", s.dir, "-c", s.conf)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond); err == nil {
			c.Close()
			if _, err := os.Stat(s.pidFile); err == nil {
				break
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(errLog)
			return fmt.Errorf("nginx exited: %v: %s%s", err, out.String(), log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("nginx did not listen within 10s")
		}
	}
	t.Cleanup(func() {
		// SIGTERM to the master: fast shutdown of it and its workers.
		switchertest.Stop(cmd, exited)
		if t.Failed() {
			if log, err := os.ReadFile(errLog); err == nil {
				t.Logf("nginx error log:\n%s", log)
			}
		}
	})
	return nil
}

func TestConformance(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "nginx",
		Open: func(t *testing.T) switchertest.Instance {
			s := startNginx(t)
			return switchertest.Instance{Switcher: switchertest.Open(t, s.url(nil)), Frontend: s.frontend()}
		},
	})
}

// TestConformancePIDOnly runs the suite waiting on the workers alone, the
// mode for an nginx whose traffic the switcher cannot reach.
func TestConformancePIDOnly(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "nginx-pid",
		Open: func(t *testing.T) switchertest.Instance {
			s := startNginx(t)
			return switchertest.Instance{Switcher: switchertest.Open(t, s.url(url.Values{"check": {""}})), Frontend: s.frontend()}
		},
	})
}

func get(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// TestFailedConfigTest switches to a green server nginx rejects: nginx -t
// fails, the switch returns a ProviderError carrying nginx's message, the
// previous file is back and traffic stays on blue.
func TestFailedConfigTest(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	sw := switchertest.Open(t, s.url(url.Values{"green": {"127.0.0.1:99999"}}))
	before, err := os.ReadFile(s.upstream)
	if err != nil {
		t.Fatal(err)
	}
	err = sw.Switch(context.Background(), switcher.Green)
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("Switch(green) = %v, want *switcher.ProviderError", err)
	}
	t.Logf("error: %v", err)
	if pe.Provider != "nginx" || pe.Op != "switch" || pe.Target != s.upstream {
		t.Errorf("ProviderError = %+v, want provider nginx, op switch, target %s", pe, s.upstream)
	}
	for _, want := range []string{"invalid port", "previous file restored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	after, err := os.ReadFile(s.upstream)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("include file after a failed switch:\n%s\nwant the previous one:\n%s", after, before)
	}
	if c, err := sw.Active(context.Background()); err != nil || c != switcher.Blue {
		t.Errorf("Active = %q, %v; want blue", c, err)
	}
	if got := get(t, s.frontend()+"?delay=0s"); got != "blue" {
		t.Errorf("traffic after a failed switch answered %q, want blue", got)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(s.upstream), ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestFailedReload makes the reload command fail after the test passed:
// the previous file is restored and nginx keeps serving blue.
func TestFailedReload(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	sw := switchertest.Open(t, s.url(url.Values{"reload": {"false"}}))
	err := sw.Switch(context.Background(), switcher.Green)
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "false") {
		t.Fatalf("Switch(green) with a failing reload = %v, want a *switcher.ProviderError naming the command", err)
	}
	if c, err := sw.Active(context.Background()); err != nil || c != switcher.Blue {
		t.Errorf("Active = %q, %v; want blue", c, err)
	}
	if got := get(t, s.frontend()+"?delay=0s"); got != "blue" {
		t.Errorf("traffic answered %q, want blue", got)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"nginx:///x.conf?blue=a:1&green=b:1",                      // no upstream
		"nginx:///x.conf?upstream=app&blue=a:1",                   // no green
		"nginx:///x.conf?upstream=app&blue=a:1&green=a:1",         // same address
		"nginx:///x.conf?upstream=app&blue=a:1;x&green=b:1",       // injection
		"nginx:///x.conf?upstream=app&blue=a:1&green=b:1&bad=1",   // unknown key
		"nginx://host/x.conf?upstream=app&blue=a:1&green=b:1",     // host
		"nginx:///x.conf?upstream=app&blue=a:1&green=b:1&reload=", // empty reload
		"nginx:///x.conf?upstream=app&blue=a:1&green=b:1&timeout=x",
		"nginx:///x.conf?upstream=app&blue=a:1&green=b:1&check=ftp://x",
	} {
		if sw, err := switcher.Open(context.Background(), raw); err == nil {
			sw.Close()
			t.Errorf("Open(%s) succeeded, want an error", raw)
		}
	}
}

// TestMissingFile: Active on a file that does not exist is ErrNotFound.
func TestMissingFile(t *testing.T) {
	t.Parallel()
	sw := switchertest.Open(t, "nginx://"+filepath.Join(t.TempDir(), "none.conf")+"?upstream=app&blue=127.0.0.1:1&green=127.0.0.1:2")
	_, err := sw.Active(context.Background())
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) || !errors.Is(err, switcher.ErrNotFound) {
		t.Fatalf("Active on a missing file = %v, want a ProviderError wrapping ErrNotFound", err)
	}
}

// TestReloadKeepAlive measures what a reload does to clients holding
// keep-alive connections: it counts requests that failed, requests that Go's
// transport retried on a new connection after the old one was closed under
// it, and connections opened beyond the initial ones. It logs the figures;
// only failed requests fail the test (Go retries idempotent requests).
func TestReloadKeepAlive(t *testing.T) {
	t.Parallel()
	s := startNginx(t)
	switchertest.KeepAlive(t, "nginx reload", switchertest.Instance{Switcher: switchertest.Open(t, s.url(nil)), Frontend: s.frontend()})
}

// BenchmarkSwitchUnderLoad: 20 switches blue→green→blue… by rewriting the
// upstream and reloading nginx, under steady load (bench/switch/run.sh).
func BenchmarkSwitchUnderLoad(b *testing.B) {
	s := startNginx(b)
	in := switchertest.Instance{Switcher: switchertest.Open(b, s.url(nil)), Frontend: s.frontend()}
	switchertest.Bench(b, in, 20, 16)
}

// TestInFlight: nginx proxying 5 requests that blue's backend holds has
// 5 in flight for blue and 0 for green; after the switch (a reload) the
// old worker still holds blue's 5 and green has 0; once they are answered
// blue has 0 (the client's keep-alive connections to nginx still open).
func TestInFlight(t *testing.T) {
	t.Parallel()
	held := switchertest.StartHeldBackends(t)
	s := startNginxFor(t, &held.Backends)
	// No check=: the backends hold the check's request too.
	sw := switchertest.Open(t, s.url(url.Values{"check": {""}}))
	took := switchertest.CheckInFlight(t, sw, held, s.frontend(), 5)
	t.Logf("0 in flight %s after the release", took)
}

// TestInFlightUnknown: without pid= or for a unix socket server nginx's
// in-flight requests cannot be counted; ok is false, with no error.
func TestInFlightUnknown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, q := range []string{
		"upstream=app&blue=127.0.0.1:8081&green=127.0.0.1:8082",
		"upstream=app&blue=unix:/run/blue.sock&green=127.0.0.1:8082&pid=" + dir + "/nginx.pid",
	} {
		sw := switchertest.Open(t, "nginx://"+dir+"/up.conf?"+q)
		if n, ok, err := sw.(switcher.InFlightReader).InFlight(t.Context(), switcher.Blue); n != 0 || ok || err != nil {
			t.Errorf("%s: InFlight(blue) = %d, %v, %v; want 0, false, nil", q, n, ok, err)
		}
	}
}
