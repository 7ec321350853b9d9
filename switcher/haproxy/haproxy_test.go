package haproxy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/internal/ci"
	"github.com/bgmigrate/bgmigrate/internal/lbtest"
	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/haproxy"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// lb is one real HAProxy started for a test, with a map-mode frontend and
// a server-mode frontend in front of the same two backends.
type lb struct {
	dir      string
	sock     string // admin socket
	mapFile  string
	mapFE    string // URL of the map-mode frontend
	serverFE string // URL of the server-mode frontend
	tcpAdmin string // host:port of the TCP admin socket
	bin, cfg string
	stop     func() // stops the running haproxy
}

const configTemplate = `global
    stats socket {{dir}}/admin.sock mode 600 level admin
    stats socket 127.0.0.1:{{adminport}} level admin
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe_map
    bind 127.0.0.1:{{mapport}}
    use_backend %[str(app),map({{dir}}/color.map)]

frontend fe_server
    bind 127.0.0.1:{{serverport}}
    default_backend app

backend app_blue
    server s 127.0.0.1:{{blueport}}

backend app_green
    server s 127.0.0.1:{{greenport}}

backend app
    balance roundrobin
    server blue_srv 127.0.0.1:{{blueport}}
    server green_srv 127.0.0.1:{{greenport}} disabled

backend app_checked
    server blue_srv 127.0.0.1:{{blueport}} check inter 200ms
    server green_srv 127.0.0.1:{{downport}} check inter 200ms disabled

backend app_checked_ok
    server blue_srv 127.0.0.1:{{blueport}} check inter 200ms
    server green_srv 127.0.0.1:{{greenport}} check inter 200ms disabled

backend app_static
    balance source
    server blue_srv 127.0.0.1:{{blueport}}
    server green_srv 127.0.0.1:{{greenport}} disabled
`

// startHAProxy starts HAProxy in front of b, blue active in both modes, and
// stops it (by PID) when the test ends.
func startHAProxy(t testing.TB, b *switchertest.Backends) *lb {
	t.Helper()
	bin := lbtest.Binary(t)
	// A short folder: a unix socket path is limited to 107 bytes.
	dir, err := os.MkdirTemp("", "bgm-haproxy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &lb{dir: dir, sock: filepath.Join(dir, "admin.sock"), mapFile: filepath.Join(dir, "color.map")}
	if err := os.WriteFile(l.mapFile, []byte("# color of app, written by bgmigrate\napp app_blue\nother app_green\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, bp, _ := net.SplitHostPort(b.Blue)
	_, gp, _ := net.SplitHostPort(b.Green)
	var lastErr error
	for range 3 { // a frontend port taken meanwhile by someone else: try others
		mp, sp, ap := switchertest.FreePort(t), switchertest.FreePort(t), switchertest.FreePort(t)
		cfg := strings.NewReplacer("{{dir}}", dir, "{{mapport}}", fmt.Sprint(mp), "{{serverport}}", fmt.Sprint(sp), "{{adminport}}", fmt.Sprint(ap), "{{downport}}", fmt.Sprint(switchertest.FreePort(t)),
			"{{blueport}}", bp, "{{greenport}}", gp).Replace(configTemplate)
		cfgPath := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		l.bin, l.cfg = bin, cfgPath
		if lastErr = l.run(t); lastErr == nil {
			l.mapFE = fmt.Sprintf("http://127.0.0.1:%d/", mp)
			l.serverFE = fmt.Sprintf("http://127.0.0.1:%d/", sp)
			l.tcpAdmin = fmt.Sprintf("127.0.0.1:%d", ap)
			return l
		}
	}
	ci.Unavailable(t, "cannot start haproxy: %v", lastErr)
	return nil
}

// run starts haproxy in the foreground and waits until its socket answers.
func (l *lb) run(t testing.TB) error {
	logPath := filepath.Join(l.dir, "haproxy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(l.bin, "-db", "-f", l.cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("haproxy exited (%v): %s", err, log)
		default:
		}
		if c, err := net.Dial("unix", l.sock); err == nil {
			c.Close()
			t.Cleanup(stop)
			l.stop = stop
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("haproxy socket %s did not answer within 10s: %s", l.sock, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *lb) mapURL() string {
	return "haproxy://" + l.sock + "?map=" + url.QueryEscape(l.mapFile) + "&key=app&blue=app_blue&green=app_green"
}

func (l *lb) serverURL() string {
	return "haproxy://" + l.sock + "?backend=app&blue=blue_srv&green=green_srv"
}

func TestConformanceMap(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "haproxy-map",
		Open: func(t *testing.T) switchertest.Instance {
			l := startHAProxy(t, switchertest.StartBackends(t))
			return switchertest.Instance{Switcher: switchertest.Open(t, l.mapURL()), Frontend: l.mapFE}
		},
	})
}

func TestConformanceServer(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "haproxy-server",
		Open: func(t *testing.T) switchertest.Instance {
			l := startHAProxy(t, switchertest.StartBackends(t))
			return switchertest.Instance{Switcher: switchertest.Open(t, l.serverURL()), Frontend: l.serverFE}
		},
	})
}

// TestConformanceTCPSocket runs the suite in server mode through a TCP
// admin socket, without a frontend.
func TestConformanceTCPSocket(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "haproxy-tcp",
		Open: func(t *testing.T) switchertest.Instance {
			l := startHAProxy(t, switchertest.StartBackends(t))
			return switchertest.Instance{Switcher: switchertest.Open(t, "haproxy://"+l.tcpAdmin+"?backend=app&blue=blue_srv&green=green_srv")}
		},
	})
}

// runtimeCmd sends one Runtime API command, for checks behind the switcher.
func runtimeCmd(t *testing.T, sock, cmd string) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(cmd + "\n")); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// getColor sends one request through a frontend.
func getColor(t *testing.T, frontend string) string {
	t.Helper()
	resp, err := http.Get(frontend + "?delay=0s")
	if err != nil {
		t.Fatalf("GET %s: %v", frontend, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 64)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d %q", frontend, resp.StatusCode, b.String())
	}
	return b.String()
}

func wantBlueTraffic(t *testing.T, l *lb) {
	t.Helper()
	for _, fe := range []string{l.mapFE, l.serverFE} {
		for range 4 {
			if got := getColor(t, fe); got != "blue" {
				t.Fatalf("%s answered %q, want blue", fe, got)
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	sockQ := l.sock
	mapQ := url.QueryEscape(l.mapFile)
	for _, tc := range []struct {
		name, url string
		notFound  bool
		contains  string // what the error must name
	}{
		{"missing socket", "haproxy://" + l.dir + "/nosuch.sock?backend=app&blue=blue_srv&green=green_srv", true, "nosuch.sock"},
		{"unknown backend", "haproxy://" + sockQ + "?backend=nosuch&blue=blue_srv&green=green_srv", true, "nosuch"},
		{"unknown blue server", "haproxy://" + sockQ + "?backend=app&blue=nosuch_srv&green=green_srv", true, "nosuch_srv"},
		{"unknown green server", "haproxy://" + sockQ + "?backend=app&blue=blue_srv&green=nosuch_srv", true, "nosuch_srv"},
		{"unknown map key", "haproxy://" + sockQ + "?map=" + mapQ + "&key=nosuch&blue=app_blue&green=app_green", true, "nosuch"},
		{"unknown map", "haproxy://" + sockQ + "?map=" + url.QueryEscape(l.dir+"/nosuch.map") + "&key=app&blue=app_blue&green=app_green", true, "nosuch.map"},
		{"unknown map backend", "haproxy://" + sockQ + "?map=" + mapQ + "&key=app&blue=app_blue&green=nosuch_be", true, "nosuch_be"},
		{"map file not on disk", "haproxy://" + sockQ + "?map=" + mapQ + "&key=app&blue=app_blue&green=app_green&file=" + url.QueryEscape(l.dir+"/gone.map"), true, "gone.map"},
		{"map and backend", "haproxy://" + sockQ + "?map=" + mapQ + "&key=app&backend=app", false, "not both"},
		{"map without key", "haproxy://" + sockQ + "?map=" + mapQ, false, "key"},
		{"neither mode", "haproxy://" + sockQ, false, "backend"},
		{"unknown parameter", "haproxy://" + sockQ + "?backend=app&colour=blue", false, "colour"},
		{"same server twice", "haproxy://" + sockQ + "?backend=app&blue=blue_srv&green=blue_srv", false, "blue_srv"},
		{"name with a semicolon", "haproxy://" + sockQ + "?backend=app%3Bshutdown&blue=blue_srv&green=green_srv", false, "app;shutdown"},
		{"bad old", "haproxy://" + sockQ + "?backend=app&blue=blue_srv&green=green_srv&old=kill", false, "old"},
		{"no socket", "haproxy:?backend=app", false, "socket"},
		{"refused tcp socket", fmt.Sprintf("haproxy://127.0.0.1:%d?backend=app&blue=blue_srv&green=green_srv", switchertest.FreePort(t)), false, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := switcher.Open(context.Background(), tc.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", tc.url)
			}
			var pe *switcher.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("Open = %T %v, want *switcher.ProviderError", err, err)
			}
			if pe.Provider != "haproxy" || pe.Op != "open" {
				t.Errorf("ProviderError{Provider: %q, Op: %q}, want haproxy, open", pe.Provider, pe.Op)
			}
			if got := errors.Is(err, switcher.ErrNotFound); got != tc.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v: %v", got, tc.notFound, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not name %q", err, tc.contains)
			}
			t.Log(err)
			wantBlueTraffic(t, l)
		})
	}
}

// TestMapPersists checks that a switch in map mode is written to the map
// file, keeping its other lines, so that a restarted HAProxy keeps the
// color.
func TestMapPersists(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	s := switchertest.Open(t, l.mapURL())
	ctx := context.Background()
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(l.mapFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# color of app, written by bgmigrate\napp app_green\nother app_green\n"; string(got) != want {
		t.Errorf("map file after the switch:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(l.mapFile); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("map file mode = %v, %v; want 0644", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(l.dir, ".color.map.*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	l.stop()
	if err := l.run(t); err != nil {
		t.Fatalf("restart haproxy: %v", err)
	}
	s = switchertest.Open(t, l.mapURL())
	if c, err := s.Active(ctx); err != nil || c != switcher.Green {
		t.Fatalf("Active after a restart = %q, %v; want green", c, err)
	}
	if got := getColor(t, l.mapFE); got != "green" {
		t.Fatalf("after a restart the map frontend answered %q, want green", got)
	}
}

// TestServerRecoversFromAnyState leaves the two servers in every pair of
// states an operator could leave them in, then switches each way: the
// traffic must follow, with no 503 from a server left in drain or maint.
func TestServerRecoversFromAnyState(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	ctx := context.Background()
	states := []string{"ready", "drain", "maint"}
	for _, old := range []string{"drain", "maint"} {
		s := switchertest.Open(t, l.serverURL()+"&old="+old)
		for _, blue := range states {
			for _, green := range states {
				for _, to := range []switcher.Color{switcher.Green, switcher.Blue} {
					runtimeCmd(t, l.sock, "set server app/blue_srv state "+blue)
					runtimeCmd(t, l.sock, "set server app/green_srv state "+green)
					runtimeCmd(t, l.sock, "set server app/blue_srv weight 0")
					if err := s.Switch(ctx, to); err != nil {
						t.Fatalf("old=%s, blue %s, green %s: Switch(%s): %v", old, blue, green, to, err)
					}
					for range 4 {
						if got := getColor(t, l.serverFE); got != string(to) {
							t.Fatalf("old=%s, blue %s, green %s: after Switch(%s) the frontend answered %q", old, blue, green, to, got)
						}
					}
					out := runtimeCmd(t, l.sock, "show servers state app")
					if adm := adminState(t, out, string(to.Other())+"_srv"); adm&map[string]int{"drain": 0x08, "maint": 0x01}[old] == 0 {
						t.Errorf("old=%s: the old server is not in %s (admin state %#x):\n%s", old, old, adm, out)
					}
				}
			}
		}
	}
}

// adminState reads a server's srv_admin_state from "show servers state".
func adminState(t *testing.T, out, server string) int {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[3] == server {
			var adm int
			if _, err := fmt.Sscan(f[6], &adm); err != nil {
				t.Fatal(err)
			}
			return adm
		}
	}
	t.Fatalf("no server %s in:\n%s", server, out)
	return 0
}

// TestSetWeightsError checks that an error from HAProxy reaches the caller
// and leaves traffic where it was.
func TestSetWeightsError(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	s := switchertest.Open(t, l.serverURL()).(switcher.Weighted)
	err := s.SetWeights(context.Background(), switcher.Green, 300)
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) || pe.Op != "weights" {
		t.Fatalf("SetWeights(green, 300) = %v, want a *switcher.ProviderError", err)
	}
	wantBlueTraffic(t, l)

	// balance source is static: HAProxy refuses weights other than 0% and
	// 100%, but a switch still works.
	s = switchertest.Open(t, strings.Replace(l.serverURL(), "backend=app&", "backend=app_static&", 1)).(switcher.Weighted)
	err = s.SetWeights(context.Background(), switcher.Green, 30)
	if !errors.As(err, &pe) || pe.Op != "weights" || !strings.Contains(err.Error(), "static") {
		t.Fatalf("SetWeights(green, 30) on a static backend = %v, want a *switcher.ProviderError quoting haproxy", err)
	}
	t.Log(err)
	if c, err := s.Active(context.Background()); err != nil || c != switcher.Blue {
		t.Fatalf("Active after a failed SetWeights = %q, %v; want blue", c, err)
	}
	for _, c := range []switcher.Color{switcher.Green, switcher.Blue} {
		if err := s.Switch(context.Background(), c); err != nil {
			t.Fatalf("Switch(%s) on a static backend: %v", c, err)
		}
	}
	wantBlueTraffic(t, l)
}

// TestSwitchToDownServer checks that a switch to a server failing its
// health check gives up without draining the server that serves.
func TestSwitchToDownServer(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	u := strings.Replace(l.serverURL(), "backend=app&", "backend=app_checked&", 1) + "&wait=1s"
	s := switchertest.Open(t, u)
	ctx := context.Background()
	err := s.Switch(ctx, switcher.Green)
	var pe *switcher.ProviderError
	if !errors.As(err, &pe) || pe.Op != "switch" || !strings.Contains(err.Error(), "not up") {
		t.Fatalf("Switch to a down server = %v, want a *switcher.ProviderError saying it is not up", err)
	}
	t.Log(err)
	if c, err := s.Active(ctx); err != nil || c != switcher.Blue {
		t.Fatalf("Active = %q, %v; want blue", c, err)
	}
	if adm := adminState(t, runtimeCmd(t, l.sock, "show servers state app_checked"), "blue_srv"); adm != 0 {
		t.Fatalf("blue_srv admin state = %#x after the failed switch, want 0", adm)
	}
	// A context that ends while waiting returns the context's error.
	c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := s.Switch(c, switcher.Green); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Switch with a deadline = %v, want context.DeadlineExceeded", err)
	}

	// Healthy servers with checks: the switch waits for the first check.
	s = switchertest.Open(t, strings.Replace(l.serverURL(), "backend=app&", "backend=app_checked_ok&", 1))
	for _, c := range []switcher.Color{switcher.Green, switcher.Blue, switcher.Green} {
		start := time.Now()
		if err := s.Switch(ctx, c); err != nil {
			t.Fatalf("Switch(%s) between healthy checked servers: %v", c, err)
		}
		t.Logf("switch to %s with health checks took %v", c, time.Since(start))
		if got, err := s.Active(ctx); err != nil || got != c {
			t.Fatalf("Active = %q, %v; want %s", got, err, c)
		}
	}
}

// BenchmarkSwitchUnderLoad: 20 switches blue→green→blue… through the
// Runtime API under steady load (bench/switch/run.sh prints the figures).
func BenchmarkSwitchUnderLoad(b *testing.B) {
	for _, mode := range []string{"map", "server"} {
		b.Run(mode, func(b *testing.B) {
			l := startHAProxy(b, switchertest.StartBackends(b))
			in := switchertest.Instance{Switcher: switchertest.Open(b, l.mapURL()), Frontend: l.mapFE}
			if mode == "server" {
				in = switchertest.Instance{Switcher: switchertest.Open(b, l.serverURL()), Frontend: l.serverFE}
			}
			switchertest.Bench(b, in, 20, 16)
		})
	}
}

// TestMapKilledBetweenRuntimeAndFile: the running HAProxy changes first
// and the map file after, so a process killed between the two leaves
// traffic where the switch sent it; Places names the disagreement, Repair
// writes the file from the running HAProxy, and a restart then keeps the
// color.
func TestMapKilledBetweenRuntimeAndFile(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	s := switchertest.Open(t, l.mapURL())
	ctx := context.Background()
	type killed struct{}
	haproxy.SetAfterRuntime(s, func() {
		if got := getColor(t, l.mapFE); got != "green" {
			t.Errorf("between the two changes the frontend answers %q, want green (the running HAProxy first)", got)
		}
		if b, _ := os.ReadFile(l.mapFile); !strings.Contains(string(b), "app app_blue") {
			t.Errorf("the map file changed before the running HAProxy:\n%s", b)
		}
		panic(killed{})
	})
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(killed); !ok {
					panic(r)
				}
			}
		}()
		_ = s.Switch(ctx, switcher.Green)
		t.Fatal("the switch went on past the kill")
	}()
	in := s.(switcher.Inspector)
	places, err := in.Places(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dis := switcher.Disagreement(places)
	if !strings.Contains(dis, "names green (app_green) but the map file") || !strings.Contains(dis, "names blue (app_blue)") {
		t.Fatalf("disagreement %q from %+v", dis, places)
	}
	if c, err := s.Active(ctx); err != nil || c != switcher.Green {
		t.Fatalf("Active = %q, %v; want green, where the running HAProxy sends traffic", c, err)
	}
	if err := in.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	if places, err := in.Places(ctx); err != nil || switcher.Disagreement(places) != "" {
		t.Fatalf("after Repair: %+v, %v", places, err)
	}
	l.stop()
	if err := l.run(t); err != nil {
		t.Fatalf("restart haproxy: %v", err)
	}
	if got := getColor(t, l.mapFE); got != "green" {
		t.Fatalf("after a restart the frontend answers %q, want green", got)
	}
}

// TestMapFileUnwritable: a map file that cannot be written sets the
// running HAProxy back, so both still name the old color.
func TestMapFileUnwritable(t *testing.T) {
	l := startHAProxy(t, switchertest.StartBackends(t))
	s := switchertest.Open(t, l.mapURL())
	ctx := context.Background()
	haproxy.SetAfterRuntime(s, func() {
		// The map file's place is taken by a folder: it cannot be read
		// or replaced.
		if err := os.Remove(l.mapFile); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(l.mapFile, 0o755); err != nil {
			t.Fatal(err)
		}
	})
	err := s.Switch(ctx, switcher.Green)
	if err == nil || !strings.Contains(err.Error(), "the running HAProxy was set back to app_blue") {
		t.Fatalf("switch with an unwritable map file: %v", err)
	}
	if got := getColor(t, l.mapFE); got != "blue" {
		t.Fatalf("after the failed switch the frontend answers %q, want blue", got)
	}
}

// TestInFlight: a backend holding 5 requests has 5 in flight for its
// color, in map and in server mode, the other color 0; after a switch the
// old color still has 5 and the new one 0, and the old one 0 once the
// requests are answered (their keep-alive connections still open).
func TestInFlight(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"map", "server"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			held := switchertest.StartHeldBackends(t)
			l := startHAProxy(t, &held.Backends)
			u, fe := l.mapURL(), l.mapFE
			if mode == "server" {
				u, fe = l.serverURL(), l.serverFE
			}
			took := switchertest.CheckInFlight(t, switchertest.Open(t, u), held, fe, 5)
			t.Logf("0 in flight %s after the release", took)
		})
	}
}

func TestInFlightErrors(t *testing.T) {
	t.Parallel()
	l := startHAProxy(t, switchertest.StartBackends(t))
	r := switchertest.Open(t, l.mapURL()).(switcher.InFlightReader)
	if _, _, err := r.InFlight(t.Context(), "red"); err == nil {
		t.Fatal("InFlight(red): no error")
	}
	l.stop()
	var pe *switcher.ProviderError
	if _, ok, err := r.InFlight(t.Context(), switcher.Blue); !errors.As(err, &pe) || ok {
		t.Fatalf("InFlight with haproxy stopped: %v, %v", ok, err)
	}
}
