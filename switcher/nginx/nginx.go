// Package nginx switches traffic by rewriting an nginx upstream include file
// and reloading nginx. Import it for its side effect:
//
//	import _ "github.com/bgmigrate/bgmigrate/switcher/nginx"
//
// The switcher URL names the include file; the query says what to write and
// how to run nginx:
//
//	nginx:///etc/nginx/conf.d/app-upstream.conf?upstream=app&blue=127.0.0.1:8081&green=127.0.0.1:8082
//
// Query keys:
//
//	upstream  name of the upstream block the file defines (required)
//	blue      server address of the blue color, as nginx's "server" takes it:
//	          host:port or unix:/path (required)
//	green     server address of the green color (required)
//	test      command that checks the configuration; default "nginx -t -q"
//	reload    command that reloads nginx; default "nginx -s reload"
//	pid       nginx's pid file; when set, Switch waits until every worker
//	          process of that master is a new one (Linux /proc)
//	check     URL served through nginx whose body names the color that
//	          answered; when set, Switch waits until a fresh connection to it
//	          answers with the new color
//	timeout   how long Switch waits for nginx to serve the new configuration
//	          (Go duration; default 10s)
//
// Commands are split into arguments with strings.Fields and run directly,
// never through a shell: write "+" or "%20" between arguments in the URL.
//
// The include file holds one upstream block, with a comment naming the
// active color:
//
//	# Written by bgmigrate: blue 100%, green 0%. A switch overwrites this file.
//	upstream app {
//	    server 127.0.0.1:8081;
//	}
//
// A switch writes the new file atomically (a temporary file in the same
// directory, then a rename), runs the test command and puts the previous
// file back if the test fails, so a broken configuration never reaches
// nginx. Then it runs the reload command, and puts the previous file back if
// that fails too.
//
// `nginx -s reload` only signals the master process and returns at once.
// The master then starts new workers, sleeps 100 ms, and tells the old
// workers to stop accepting connections and finish. Switch waits for that:
//
//   - with pid=, until every process of that master titled "worker
//     process" is one that was not its child before the reload (the old
//     ones retitle themselves "worker process is shutting down" when they
//     close their listening sockets). This is the reliable wait: after it,
//     no new connection reaches the old configuration. It reads /proc, so
//     it works on Linux, with the switcher on the nginx host. If nginx
//     rejects the configuration on reload, the workers never change and
//     Switch fails after timeout= (the file then stays written: see the
//     error log).
//   - with check=, until a request on a fresh connection answers with the
//     new color (only for a full switch: a split cannot be proved by one
//     request). Alone it can succeed on a new worker while an old one still
//     accepts (the 100 ms window above); give it with pid=, as a proof that
//     traffic reaches the new color.
//
// Without either, Switch returns as soon as the reload command has exited.
//
// Active and Weights read the server lines of the file back (the addresses
// and their weight= and down flags), not the comment.
//
// The switcher is also switcher.Weighted: a split is written as two server
// lines with weights (nginx's weighted round robin); a color with 0% has no
// server line.
//
// With pid= the switcher is also a switcher.InFlightReader: InFlight
// counts the connections nginx's workers hold to a color's server address
// (sock_diag and /proc), which without upstream keepalive are its requests in
// flight, so a drain waits until the old workers' last request to the old
// color is answered.
//
// After a reload the old workers still answer the first request of a
// connection they accepted before it, whenever that request comes (nginx
// closes only idle keep-alive connections when a worker shuts down, not
// accepted ones waiting for a request), up to client_header_timeout; and
// over HTTP/2 they take new streams on a busy connection until it goes
// idle. Under heavy load such requests reach the old color after Switch
// returned (docs/cutover.md measures it); a short client_header_timeout
// bounds it, and a drain counts them.
//
// nginx's graceful reload lets requests in flight finish, but the old
// workers close idle keep-alive connections: a client that sends its next
// request on such a connection at that moment sees the connection closed
// and must retry (Go's http.Transport does this itself for idempotent
// requests).
package nginx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("nginx", open) }

const provider = "nginx"

// Config describes one nginx upstream include file and how to reload nginx.
type Config struct {
	File     string                    // the upstream include file
	Upstream string                    // name of the upstream block
	Servers  map[switcher.Color]string // server address per color
	Test     []string                  // configuration test command; nil skips the test
	Reload   []string                  // reload command
	PIDFile  string                    // optional: wait for new workers of this master
	Check    string                    // optional: wait until this URL answers with the new color
	Timeout  time.Duration             // how long to wait for the reload to take effect
}

// Switcher rewrites an upstream include file and reloads nginx.
type Switcher struct {
	cfg    Config
	mu     sync.Mutex // serializes switches from this process
	client *http.Client
}

var _ switcher.Weighted = (*Switcher)(nil)

// New returns a switcher for cfg.
func New(cfg Config) (*Switcher, error) {
	if cfg.File == "" {
		return nil, errors.New("nginx switcher: no upstream file")
	}
	if !validName(cfg.Upstream) {
		return nil, fmt.Errorf("nginx switcher: invalid upstream name %q", cfg.Upstream)
	}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if !validAddr(cfg.Servers[c]) {
			return nil, fmt.Errorf("nginx switcher: invalid %s server address %q", c, cfg.Servers[c])
		}
	}
	if cfg.Servers[switcher.Blue] == cfg.Servers[switcher.Green] {
		return nil, fmt.Errorf("nginx switcher: blue and green have the same address %q", cfg.Servers[switcher.Blue])
	}
	if len(cfg.Reload) == 0 {
		return nil, errors.New("nginx switcher: empty reload command")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Switcher{
		cfg: cfg,
		client: &http.Client{
			Transport: &http.Transport{DisableKeepAlives: true},
			Timeout:   2 * time.Second,
		},
	}, nil
}

func open(_ context.Context, u *url.URL) (switcher.Switcher, error) {
	q := u.Query()
	for k := range q {
		switch k {
		case "upstream", "blue", "green", "test", "reload", "pid", "check", "timeout":
		default:
			return nil, fmt.Errorf("nginx switcher URL: unknown query key %q", k)
		}
	}
	cfg := Config{
		File:     u.Path,
		Upstream: q.Get("upstream"),
		Servers:  map[switcher.Color]string{switcher.Blue: q.Get("blue"), switcher.Green: q.Get("green")},
		Test:     []string{"nginx", "-t", "-q"},
		Reload:   []string{"nginx", "-s", "reload"},
		PIDFile:  q.Get("pid"),
		Check:    q.Get("check"),
	}
	if u.Host != "" {
		return nil, fmt.Errorf("nginx switcher URL: want nginx:///path/to/file (no host), got host %q", u.Host)
	}
	if q.Has("test") {
		cfg.Test = strings.Fields(q.Get("test"))
	}
	if q.Has("reload") {
		cfg.Reload = strings.Fields(q.Get("reload"))
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("nginx switcher URL: invalid timeout %q", t)
		}
		cfg.Timeout = d
	}
	if cfg.Check != "" {
		if cu, err := url.Parse(cfg.Check); err != nil || (cu.Scheme != "http" && cu.Scheme != "https") {
			return nil, fmt.Errorf("nginx switcher URL: check %q is not an http(s) URL", cfg.Check)
		}
	}
	return New(cfg)
}

// Active returns the color with the larger share in the include file.
func (s *Switcher) Active(ctx context.Context) (switcher.Color, error) {
	w, err := s.weights(ctx, "active")
	if err != nil {
		return "", err
	}
	if w[switcher.Green] > w[switcher.Blue] {
		return switcher.Green, nil
	}
	return switcher.Blue, nil
}

// Weights returns the share of each color in the include file.
func (s *Switcher) Weights(ctx context.Context) (map[switcher.Color]int, error) {
	return s.weights(ctx, "weights")
}

func (s *Switcher) weights(ctx context.Context, op string) (map[switcher.Color]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.cfg.File)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %w", switcher.ErrNotFound, err)
		}
		return nil, s.fail(op, err)
	}
	w, err := parse(data, s.cfg.Servers)
	if err != nil {
		return nil, s.fail(op, err)
	}
	return w, nil
}

// Switch sends all traffic to color.
func (s *Switcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	return s.apply(ctx, "switch", to, 100)
}

// SetWeights sends percent of the traffic to color and the rest to the other.
func (s *Switcher) SetWeights(ctx context.Context, color switcher.Color, percent int) error {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return err
	}
	if percent < 0 || percent > 100 {
		return s.fail("weights", fmt.Errorf("percent %d is not between 0 and 100", percent))
	}
	return s.apply(ctx, "weights", color, percent)
}

// Close does nothing: the switcher holds no connection.
func (s *Switcher) Close() error { return nil }

func (s *Switcher) apply(ctx context.Context, op string, color switcher.Color, percent int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	want := map[switcher.Color]int{color: percent, color.Other(): 100 - percent}
	prev, err := os.ReadFile(s.cfg.File)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return s.fail(op, err)
	}
	if existed {
		if cur, err := parse(prev, s.cfg.Servers); err == nil && cur[switcher.Blue] == want[switcher.Blue] && cur[switcher.Green] == want[switcher.Green] {
			return nil // already there: no write, no reload
		}
	}

	restore := func(cause error) error {
		var rerr error
		if existed {
			rerr = writeAtomic(s.cfg.File, prev)
		} else {
			rerr = os.Remove(s.cfg.File)
		}
		if rerr != nil {
			return fmt.Errorf("%w; restoring the previous file also failed: %w", cause, rerr)
		}
		return fmt.Errorf("%w; previous file restored", cause)
	}

	if err := writeAtomic(s.cfg.File, render(s.cfg.Upstream, s.cfg.Servers, want)); err != nil {
		return s.fail(op, err)
	}
	if len(s.cfg.Test) > 0 {
		if err := run(ctx, s.cfg.Test); err != nil {
			return s.fail(op, restore(err))
		}
	}

	var before map[int]string
	if s.cfg.PIDFile != "" {
		if before, err = children(s.cfg.PIDFile); err != nil {
			return s.fail(op, restore(err))
		}
	}
	if err := run(ctx, s.cfg.Reload); err != nil {
		return s.fail(op, restore(err))
	}

	wctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if s.cfg.PIDFile != "" {
		if err := waitWorkers(wctx, s.cfg.PIDFile, before); err != nil {
			return s.fail(op, err)
		}
	}
	if s.cfg.Check != "" && percent == 100 {
		if err := s.waitCheck(wctx, color); err != nil {
			return s.fail(op, err)
		}
	}
	return nil
}

func (s *Switcher) fail(op string, err error) error {
	return &switcher.ProviderError{Provider: provider, Op: op, Target: s.cfg.File, Err: err}
}

// render writes the include file for the weights w.
func render(upstream string, servers map[switcher.Color]string, w map[switcher.Color]int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by bgmigrate: blue %d%%, green %d%%. A switch overwrites this file.\n", w[switcher.Blue], w[switcher.Green])
	fmt.Fprintf(&b, "upstream %s {\n", upstream)
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		switch p := w[c]; {
		case p == 100:
			fmt.Fprintf(&b, "    server %s; # %s\n", servers[c], c)
		case p > 0:
			fmt.Fprintf(&b, "    server %s weight=%d; # %s\n", servers[c], p, c)
		}
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// parse reads the share of each color from the server lines of an include
// file: an address absent or marked down gets 0, others their weight (1 by
// default), scaled to percent.
func parse(data []byte, servers map[switcher.Color]string) (map[switcher.Color]int, error) {
	raw := map[switcher.Color]int{}
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, stmt := range strings.Split(line, ";") {
			f := strings.Fields(stmt)
			if len(f) < 2 || f[0] != "server" {
				continue
			}
			var color switcher.Color
			for c, addr := range servers {
				if f[1] == addr {
					color = c
				}
			}
			if color == "" {
				return nil, fmt.Errorf("server %q is neither blue (%s) nor green (%s)", f[1], servers[switcher.Blue], servers[switcher.Green])
			}
			found = true
			weight := 1
			for _, p := range f[2:] {
				switch {
				case p == "down" || p == "backup":
					weight = 0
				case strings.HasPrefix(p, "weight="):
					n, err := strconv.Atoi(strings.TrimPrefix(p, "weight="))
					if err != nil || n < 1 {
						return nil, fmt.Errorf("server %q: invalid %q", f[1], p)
					}
					if weight != 0 {
						weight = n
					}
				}
			}
			raw[color] += weight
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: no server line for blue (%s) or green (%s)", switcher.ErrNotFound, servers[switcher.Blue], servers[switcher.Green])
	}
	total := raw[switcher.Blue] + raw[switcher.Green]
	if total == 0 {
		return nil, errors.New("every server is down")
	}
	blue := (raw[switcher.Blue]*100 + total/2) / total
	return map[switcher.Color]int{switcher.Blue: blue, switcher.Green: 100 - blue}, nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over path. It keeps path's mode.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CommandError is a test or reload command that failed, with its output.
type CommandError struct {
	Argv   []string
	Output string
	Err    error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.Argv, " "), e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += ": " + out
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

func run(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return &CommandError{Argv: argv, Output: out.String(), Err: err}
	}
	return nil
}

// children lists the processes whose parent is the master named in
// pidFile, with their titles ("nginx: worker process", "nginx: worker
// process is shutting down", "nginx: cache manager process", …).
func children(pidFile string) (map[int]string, error) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return nil, fmt.Errorf("read nginx pid file: %w", err)
	}
	master, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("nginx pid file %s: %w", pidFile, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(master) {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		out[pid] = strings.TrimRight(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})), " ")
	}
	return out, nil
}

// accepting reports whether a process title is that of a worker that
// accepts connections: after a reload an old worker retitles itself
// "worker process is shutting down" and closes its listening sockets.
func accepting(title string) bool { return strings.HasSuffix(title, "worker process") }

// waitWorkers returns once the master runs a worker that was not among its
// children before the reload and none of those children accepts
// connections any more. (A worker forked just before the reload may still
// bear the master's title then, so every child counts as old, whatever its
// title was.) nginx's master starts the new workers, sleeps 100 ms, then
// tells the old ones to quit, so a switch takes a little over 100 ms.
func waitWorkers(ctx context.Context, pidFile string, before map[int]string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		now, err := children(pidFile)
		if err != nil {
			return err
		}
		fresh, stale := false, false
		for pid, title := range now {
			if !accepting(title) {
				continue
			}
			if _, old := before[pid]; old {
				stale = true
			} else {
				fresh = true
			}
		}
		if fresh && !stale {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nginx did not replace its workers (it may have rejected the configuration: see its error log): %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// waitCheck returns once a request on a fresh connection to the check URL
// answers with a body naming color.
func (s *Switcher) waitCheck(ctx context.Context, color switcher.Color) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		got, err := s.check(ctx)
		if err == nil && strings.Contains(got, string(color)) && !strings.Contains(got, string(color.Other())) {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("answered %q", got)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("check %s never answered %s (last: %s): %w", s.cfg.Check, color, last, ctx.Err())
		case <-tick.C:
		}
	}
}

func (s *Switcher) check(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.Check, nil)
	if err != nil {
		return "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return strings.TrimSpace(string(body)), nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// validAddr rejects what would break out of a server directive.
func validAddr(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n;{}#'\"")
}
