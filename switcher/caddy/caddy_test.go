package caddy_test

import (
	"context"
	"encoding/json"
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
	"testing"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/caddy"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// server is one caddy started for a test.
type server struct {
	admin, http int
	backends    *switchertest.Backends
}

func (s *server) frontend() string { return fmt.Sprintf("http://127.0.0.1:%d/", s.http) }

func (s *server) url(path string) string {
	q := url.Values{"blue": {s.backends.Blue}, "green": {s.backends.Green}}
	return (&url.URL{Scheme: "caddy", Host: fmt.Sprintf("127.0.0.1:%d", s.admin), Path: path, RawQuery: q.Encode()}).String()
}

// startCaddy runs a real caddy with its admin API and one reverse proxy on
// free ports of 127.0.0.1, blue active, and stops it by PID when the test
// ends.
func startCaddy(t testing.TB) *server {
	t.Helper()
	return startCaddyFor(t, switchertest.StartBackends(t))
}

// startCaddyFor runs caddy as startCaddy does, in front of b.
func startCaddyFor(t testing.TB, b *switchertest.Backends) *server {
	t.Helper()
	bin, err := exec.LookPath("caddy")
	if err != nil {
		switchertest.Unavailable(t, "caddy", "caddy not found in PATH")
	}
	s := &server{backends: b}
	var last error
	for range 5 {
		s.admin, s.http = switchertest.FreePort(t), switchertest.FreePort(t)
		if last = s.start(t, bin); last == nil {
			return s
		}
	}
	switchertest.Unavailable(t, "caddy", "cannot start caddy: %v", last)
	return nil
}

func (s *server) start(t testing.TB, bin string) error {
	dir := t.TempDir()
	cfg := map[string]any{
		"admin":   map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", s.admin), "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": map[string]any{
			"listen":          []string{fmt.Sprintf("127.0.0.1:%d", s.http)},
			"automatic_https": map[string]any{"disable": true},
			"routes": []any{map[string]any{"handle": []any{map[string]any{
				"handler":   "reverse_proxy",
				"upstreams": []any{map[string]any{"@id": "app_upstream", "dial": s.backends.Blue}},
			}}}},
		}}}},
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "caddy.json")
	if err := os.WriteFile(conf, data, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "run", "--config", conf)
	// Keep caddy's data, config and autosave out of the real home.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for !ready(s) {
		select {
		case err := <-exited:
			return fmt.Errorf("caddy exited: %v: %s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("caddy not ready within 15s: %s", out.String())
		}
	}
	t.Cleanup(func() {
		switchertest.Stop(cmd, exited)
		if t.Failed() {
			t.Logf("caddy output:\n%s", out.String())
		}
	})
	return nil
}

func ready(s *server) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.http), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/id/app_upstream", s.admin))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestConformance(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "caddy",
		Open: func(t *testing.T) switchertest.Instance {
			s := startCaddy(t)
			return switchertest.Instance{Switcher: switchertest.Open(t, s.url("/id/app_upstream")), Frontend: s.frontend()}
		},
	})
}

// TestConfigPath addresses the upstream by its position in the config
// instead of its @id.
func TestConfigPath(t *testing.T) {
	t.Parallel()
	s := startCaddy(t)
	sw := switchertest.Open(t, s.url("/config/apps/http/servers/srv0/routes/0/handle/0/upstreams/0"))
	ctx := context.Background()
	for _, c := range []switcher.Color{switcher.Green, switcher.Blue} {
		if err := sw.Switch(ctx, c); err != nil {
			t.Fatalf("Switch(%s): %v", c, err)
		}
		if got, err := sw.Active(ctx); err != nil || got != c {
			t.Fatalf("Active = %q, %v; want %s", got, err, c)
		}
	}
}

// TestUnreachable: an admin API nobody listens on gives a ProviderError
// naming the URL, for Active and for Switch.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	port := switchertest.FreePort(t)
	raw := fmt.Sprintf("caddy://127.0.0.1:%d/id/app_upstream?blue=127.0.0.1:1&green=127.0.0.1:2&timeout=2s", port)
	sw := switchertest.Open(t, raw)
	want := fmt.Sprintf("http://127.0.0.1:%d/id/app_upstream/dial", port)
	_, errActive := sw.Active(context.Background())
	errSwitch := sw.Switch(context.Background(), switcher.Green)
	for op, err := range map[string]error{"active": errActive, "switch": errSwitch} {
		var pe *switcher.ProviderError
		if !errors.As(err, &pe) {
			t.Fatalf("%s on an unreachable admin API = %v, want *switcher.ProviderError", op, err)
		}
		if pe.Provider != "caddy" || pe.Op != op || pe.Target != want || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: ProviderError{%q, %q, %q}: %v; want provider caddy, op %s, target %s", op, pe.Provider, pe.Op, pe.Target, err, op, want)
		}
	}
	t.Logf("error: %v", errSwitch)
}

// TestUnknownID: an @id the config lacks is ErrNotFound.
func TestUnknownID(t *testing.T) {
	t.Parallel()
	s := startCaddy(t)
	sw := switchertest.Open(t, s.url("/id/nope"))
	_, err := sw.Active(context.Background())
	if !errors.Is(err, switcher.ErrNotFound) {
		t.Errorf("Active on an unknown @id = %v, want ErrNotFound", err)
	}
	if err := sw.Switch(context.Background(), switcher.Green); !errors.Is(err, switcher.ErrNotFound) {
		t.Errorf("Switch on an unknown @id = %v, want ErrNotFound", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"caddy:///id/x?blue=a:1&green=b:1",                 // no host
		"caddy://127.0.0.1:2019?blue=a:1&green=b:1",        // no path
		"caddy://127.0.0.1:2019/apps/x?blue=a:1&green=b:1", // not /id or /config
		"caddy://127.0.0.1:2019/id/x?blue=a:1",             // no green
		"caddy://127.0.0.1:2019/id/x?blue=a:1&green=a:1",   // same
		"caddy://127.0.0.1:2019/id/x?blue=a:1&green=b:1&route=1",
		"caddy://127.0.0.1:2019/id/x?blue=a:1&green=b:1&timeout=-1s",
	} {
		if sw, err := switcher.Open(context.Background(), raw); err == nil {
			sw.Close()
			t.Errorf("Open(%s) succeeded, want an error", raw)
		}
	}
	if sw, err := switcher.Open(context.Background(), "caddy://127.0.0.1:2019/id/x?blue=a:1&green=b:1"); err != nil {
		t.Errorf("Open: %v", err)
	} else if _, ok := sw.(switcher.Weighted); ok {
		t.Errorf("caddy switcher is Weighted; Caddy 2.6 has no weighted policy")
	}
}

// TestSwitchKeepAlive measures what a config change does to clients
// holding keep-alive connections (see the nginx test of the same kind).
func TestSwitchKeepAlive(t *testing.T) {
	t.Parallel()
	s := startCaddy(t)
	switchertest.KeepAlive(t, "caddy config change", switchertest.Instance{Switcher: switchertest.Open(t, s.url("/id/app_upstream")), Frontend: s.frontend()})
}

// BenchmarkSwitchUnderLoad: 20 switches blue→green→blue… through Caddy's
// admin API under steady load (bench/switch/run.sh).
func BenchmarkSwitchUnderLoad(b *testing.B) {
	s := startCaddy(b)
	in := switchertest.Instance{Switcher: switchertest.Open(b, s.url("/id/app_upstream")), Frontend: s.frontend()}
	switchertest.Bench(b, in, 20, 16)
}

// TestInFlight: Caddy proxying 5 requests that blue's backend holds
// counts 5 for blue in its pool, and 0 once they are answered; green, not
// in the pool, cannot be counted; after a switch blue has left the pool
// and cannot be counted either, while green is counted (0).
func TestInFlight(t *testing.T) {
	t.Parallel()
	held := switchertest.StartHeldBackends(t)
	s := startCaddyFor(t, &held.Backends)
	sw := switchertest.Open(t, s.url("/id/app_upstream"))
	r := sw.(switcher.InFlightReader)
	ctx := t.Context()
	errs := make(chan error, 5)
	for range 5 {
		go func() {
			resp, err := http.Get(s.frontend())
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	switchertest.WaitInFlight(ctx, t, r, switcher.Blue, 5, 10*time.Second)
	if n, ok, err := r.InFlight(ctx, switcher.Green); n != 0 || ok || err != nil {
		t.Fatalf("InFlight(green), out of the pool = %d, %v, %v; want 0, false, nil", n, ok, err)
	}
	held.Release()
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	switchertest.WaitInFlight(ctx, t, r, switcher.Blue, 0, 10*time.Second)
	if err := sw.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := r.InFlight(ctx, switcher.Blue); n != 0 || ok || err != nil {
		t.Fatalf("InFlight(blue) after the switch = %d, %v, %v; want 0, false, nil", n, ok, err)
	}
	switchertest.WaitInFlight(ctx, t, r, switcher.Green, 0, 10*time.Second)
}
