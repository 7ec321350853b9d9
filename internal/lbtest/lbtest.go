// Package lbtest runs a real HAProxy in front of the two colors of an
// end-to-end test of bgmigrate deploy, switched by the haproxy:// switcher
// in either of its modes:
//
//	frontend fe            map mode: use_backend %[str(app),map(<dir>/color.map)],
//	                       the map holding "app app_blue" at first
//	frontend fe_weighted   server mode: backend app, servers blue_srv and
//	                       green_srv (disabled at first), balance roundrobin
//
// The backends app_blue and app_green hold one server each. Keep-alive is
// on (no option http-server-close), without health checks.
package lbtest

import (
	"bufio"
	"fmt"
	"io"
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

	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

// LB is a haproxy that HAProxy started: where to send requests, the
// switcher URLs of its two modes, and its admin sockets.
type LB struct {
	Frontend         string // URL of the map-mode frontend: http://127.0.0.1:PORT
	Weighted         string // URL of the server-mode frontend
	Switcher         string // haproxy:// URL of the map mode
	WeightedSwitcher string // haproxy:// URL of the server mode
	Sock             string // the unix admin socket (level admin)
	TCPAdmin         string // host:port of the TCP admin socket (level admin)
	Dir              string // holds haproxy.cfg, color.map, the socket and haproxy.log

	bin, cfg, mapFile string
	client            *http.Client

	mu   sync.Mutex
	proc *process // nil when stopped
}

// The configuration; {{…}} are replaced.
const configTemplate = `global
    stats socket {{dir}}/admin.sock mode 600 level admin
    stats socket 127.0.0.1:{{adminport}} level admin
    maxconn 4000

defaults
    mode http
    maxconn 4000
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{{feport}}
    use_backend %[str(app),map({{dir}}/color.map)]

frontend fe_weighted
    bind 127.0.0.1:{{weightedport}}
    default_backend app

backend app_blue
    server blue {{blue}}

backend app_green
    server green {{green}}

backend app
    balance roundrobin
    server blue_srv {{blue}}
    server green_srv {{green}} disabled
`

// HAProxy starts haproxy in front of blue and green (host:port each),
// sending traffic to blue in both modes, and stops it when the test ends.
// Without a haproxy binary that starts, the test is skipped, or fails when
// the environment variable CI is "true".
func HAProxy(t testing.TB, blue, green string) *LB {
	t.Helper()
	bin := Binary(t)
	dir, err := os.MkdirTemp("", "bgm-lb-")
	if err != nil {
		t.Fatal(err)
	}
	// A unix socket path is limited to 107 bytes: fall back to /tmp when
	// TMPDIR is deep.
	if len(filepath.Join(dir, "admin.sock")) > 100 {
		os.Remove(dir)
		if dir, err = os.MkdirTemp("/tmp", "bgm-lb-"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &LB{
		Dir:     dir,
		Sock:    filepath.Join(dir, "admin.sock"),
		bin:     bin,
		cfg:     filepath.Join(dir, "haproxy.cfg"),
		mapFile: filepath.Join(dir, "color.map"),
		client:  &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}},
	}
	if err := os.WriteFile(h.mapFile, []byte("app app_blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 3 { // a port taken meanwhile by someone else: try others
		fe, weighted, admin := switchertest.FreePort(t), switchertest.FreePort(t), switchertest.FreePort(t)
		cfg := strings.NewReplacer("{{dir}}", dir, "{{adminport}}", fmt.Sprint(admin),
			"{{feport}}", fmt.Sprint(fe), "{{weightedport}}", fmt.Sprint(weighted),
			"{{blue}}", blue, "{{green}}", green).Replace(configTemplate)
		if err := os.WriteFile(h.cfg, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if lastErr = h.start(); lastErr == nil {
			h.Frontend = fmt.Sprintf("http://127.0.0.1:%d", fe)
			h.Weighted = fmt.Sprintf("http://127.0.0.1:%d", weighted)
			h.TCPAdmin = fmt.Sprintf("127.0.0.1:%d", admin)
			break
		}
	}
	if lastErr != nil {
		switchertest.Unavailable(t, "haproxy", "cannot start haproxy: %v", lastErr)
	}
	t.Cleanup(func() {
		h.Stop()
		h.client.CloseIdleConnections()
	})
	h.Switcher = (&url.URL{Scheme: "haproxy", Path: h.Sock, RawQuery: "map=" + url.QueryEscape(h.mapFile) +
		"&key=app&blue=app_blue&green=app_green"}).String()
	h.WeightedSwitcher = (&url.URL{Scheme: "haproxy", Path: h.Sock,
		RawQuery: "backend=app&blue=blue_srv&green=green_srv"}).String()
	return h
}

// Binary finds haproxy, or skips the test (fails it when CI=true).
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	switchertest.Unavailable(t, "haproxy", "haproxy not found on PATH, in /usr/sbin or /usr/local/sbin")
	return ""
}

// process is one run of haproxy.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd.Wait returned
}

// start runs haproxy in the foreground and waits until its socket
// answers.
func (h *LB) start() error {
	logPath := filepath.Join(h.Dir, "haproxy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(h.bin, "-db", "-f", h.cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("haproxy exited (%v): %s", cmd.ProcessState, log)
		default:
		}
		if c, err := net.Dial("unix", h.Sock); err == nil {
			c.Close()
			h.mu.Lock()
			h.proc = p
			h.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			p.stop()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("haproxy socket %s did not answer within 10s: %s", h.Sock, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends haproxy: SIGTERM, then SIGKILL after 5 s.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Stop ends haproxy and waits for it to exit; its admin socket is gone
// (removed if haproxy left it), so a switcher fails. Stopping a stopped
// HAProxy does nothing.
func (h *LB) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return
	}
	h.proc.stop()
	h.proc = nil
	_ = os.Remove(h.Sock)
	h.client.CloseIdleConnections()
}

// Restart starts haproxy again (stopping it first if it runs), with the
// same configuration and ports and the map file as it is on disk, so that
// the color of the last switch is kept.
func (h *LB) Restart(t testing.TB) {
	t.Helper()
	h.Stop()
	if err := h.start(); err != nil {
		t.Fatalf("restart haproxy: %v", err)
	}
}

// Runtime sends one command to the Runtime API through the admin socket
// and returns HAProxy's answer.
func (h *LB) Runtime(t testing.TB, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("unix", h.Sock, 10*time.Second)
	if err != nil {
		t.Fatalf("haproxy runtime API: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatalf("haproxy runtime API: %q: %v", cmd, err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("haproxy runtime API: %q: %v", cmd, err)
	}
	return string(out)
}

// Active returns the color the map-mode frontend sends traffic to, read
// from HAProxy's map through the admin socket: "blue" or "green".
func (h *LB) Active(t testing.TB) string {
	t.Helper()
	out := h.Runtime(t, "show map "+h.mapFile)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		// 0x55d1c3b0e2a0 app app_blue
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[1] == "app" {
			switch f[2] {
			case "app_blue":
				return "blue"
			case "app_green":
				return "green"
			}
			t.Fatalf("haproxy map %s: app names backend %q, neither app_blue nor app_green", h.mapFile, f[2])
		}
	}
	t.Fatalf("haproxy map %s has no key app: %q", h.mapFile, out)
	return ""
}

// Get sends GET path through the map-mode frontend and returns the
// status and the body; a request that gets no answer fails the test.
func (h *LB) Get(t testing.TB, path string) (status int, body string) {
	t.Helper()
	resp, err := h.client.Get(h.Frontend + path)
	if err != nil {
		t.Fatalf("GET %s through haproxy: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s through haproxy: %v", path, err)
	}
	return resp.StatusCode, string(b)
}
