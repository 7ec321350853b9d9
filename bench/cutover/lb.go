package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lb is a running load balancer in front of the two backends: its
// frontend (HTTP/2 without TLS, so that 10,000 requests in flight share
// a few hundred client connections, or HTTP/1.1), the switcher URL that
// drives it, and its process.
type lb struct {
	name     string
	frontend string
	switcher string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// The HAProxy configuration, map mode as bgmigrate's deploy drives it.
// Backend connections are HTTP/1.1, one per request in flight, and count
// in HAProxy's socket budget (twice the global maxconn) with the client
// connections: maxconn is half the file descriptors the process may
// open. pool-max-conn bounds the idle connections a color keeps once
// drained, which would otherwise hold sockets the new color needs.
const haproxyConfig = `global
    stats socket {{dir}}/admin.sock mode 600 level admin
    maxconn {{maxconn}}
    ulimit-n {{fds}}
    nbthread 2
    tune.h2.max-concurrent-streams 200
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    option dontlog-normal
    maxconn 4000
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend fe
    bind 127.0.0.1:{{port}}{{h2}}
    use_backend %[str(app),map({{dir}}/color.map)]

backend app_blue
    server blue {{blue}} pool-max-conn 1000 pool-purge-delay 1s

backend app_green
    server green {{green}} pool-max-conn 1000 pool-purge-delay 1s
`

// The nginx configuration: two workers (one a core), each with room for
// its half of the client streams and upstream connections. No upstream
// keepalive: one connection per proxied request, which is what the nginx
// switcher's in-flight reader counts.
const nginxConfig = `{{user}}
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile {{fds}};
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 19000; }
http {
    access_log off;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy;
    fastcgi_temp_path {{dir}}/fastcgi;
    uwsgi_temp_path {{dir}}/uwsgi;
    scgi_temp_path {{dir}}/scgi;
    http2_max_concurrent_streams 200;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    include {{dir}}/upstream.conf;
    server {
        listen 127.0.0.1:{{port}}{{http2}} reuseport;
        location / {
            proxy_pass http://app;
            proxy_read_timeout 60s;
        }
    }
}
`

// startLB starts name ("haproxy" or "nginx") on a free port in front of
// blue and green (host:port), blue active.
func startLB(name, proto, blue, green string, fds int) (*lb, error) {
	dir, err := os.MkdirTemp("", "bgm-cutover-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	l := &lb{name: name, dir: dir, frontend: fmt.Sprintf("http://127.0.0.1:%d/", port), exited: make(chan struct{})}
	h2, http2 := "", ""
	if proto == "h2" {
		h2, http2 = " proto h2", " http2"
	}
	repl := strings.NewReplacer("{{h2}}", h2, "{{http2}}", http2, "{{dir}}", dir, "{{port}}", fmt.Sprint(port), "{{blue}}", blue, "{{green}}", green, "{{fds}}", fmt.Sprint(fds), "{{maxconn}}", fmt.Sprint(fds/2-100))
	var ready func() bool
	switch name {
	case "haproxy":
		mapFile := filepath.Join(dir, "color.map")
		if err := os.WriteFile(mapFile, []byte("app app_blue\n"), 0o644); err != nil {
			return nil, err
		}
		cfg := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(cfg, []byte(repl.Replace(haproxyConfig)), 0o644); err != nil {
			return nil, err
		}
		l.cmd = exec.Command("haproxy", "-db", "-f", cfg)
		sock := filepath.Join(dir, "admin.sock")
		l.switcher = "haproxy://" + sock + "?map=" + url.QueryEscape(mapFile) + "&key=app&blue=app_blue&green=app_green"
		ready = func() bool { return dial("unix", sock) }
	case "nginx":
		user := ""
		if os.Geteuid() == 0 {
			user = "user root;"
		}
		conf := filepath.Join(dir, "nginx.conf")
		upstream := filepath.Join(dir, "upstream.conf")
		if err := os.WriteFile(upstream, []byte("upstream app {\n    server "+blue+";\n}\n"), 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(conf, []byte(strings.Replace(repl.Replace(nginxConfig), "{{user}}", user, 1)), 0o644); err != nil {
			return nil, err
		}
		errLog := filepath.Join(dir, "error.log")
		base := "nginx -e " + errLog + " -p " + dir + " -c " + conf
		l.cmd = exec.Command("nginx", "-e", errLog, "-p", dir, "-c", conf)
		q := url.Values{
			"upstream": {"app"}, "blue": {blue}, "green": {green},
			"test": {base + " -t -q"}, "reload": {base + " -s reload"},
			"pid": {filepath.Join(dir, "nginx.pid")}, "timeout": {"30s"},
		}
		l.switcher = (&url.URL{Scheme: "nginx", Path: upstream, RawQuery: q.Encode()}).String()
		ready = func() bool {
			_, err := os.Stat(filepath.Join(dir, "nginx.pid"))
			return err == nil && dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		}
	default:
		return nil, fmt.Errorf("unknown load balancer %q (want haproxy or nginx)", name)
	}
	log, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	l.cmd.Stdout, l.cmd.Stderr = log, log
	if err := l.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = l.cmd.Wait(); close(l.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for !ready() {
		select {
		case <-l.exited:
			out, _ := os.ReadFile(filepath.Join(dir, name+".out"))
			return nil, fmt.Errorf("%s exited: %s", name, out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			l.stop()
			return nil, errors.New(name + " did not start within 15s")
		}
	}
	return l, nil
}

// stop ends the load balancer by its PID (SIGTERM, then SIGKILL) and
// removes its directory.
func (l *lb) stop() {
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.exited:
	case <-time.After(5 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.exited
	}
	if os.Getenv("CUTOVER_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "%s's files are kept in %s\n", l.name, l.dir)
		return
	}
	os.RemoveAll(l.dir)
}

func dial(network, addr string) bool {
	c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freePort returns a port of 127.0.0.1 below 32768 (out of the ephemeral
// range the load churns) that was free a moment ago.
func freePort() (int, error) {
	for range 200 {
		p := 20000 + rand.IntN(12768)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			return p, nil
		}
	}
	return 0, errors.New("no free port below 32768")
}
