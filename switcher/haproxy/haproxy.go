// Package haproxy switches traffic through HAProxy's Runtime API (the stats
// socket), without a reload: no connection is dropped. It registers the
// scheme haproxy in two modes.
//
// Map mode: the frontend picks its backend from a map,
//
//	frontend www
//	    use_backend %[str(app),map(/etc/haproxy/color.map)]
//
//	haproxy:///run/haproxy.sock?map=/etc/haproxy/color.map&key=app&blue=app_blue&green=app_green
//
// Switch runs "set map <map> <key> <backend>" on the running HAProxy, then
// writes the new value to the map file on disk (a temporary file renamed
// over it, so a reload or restart keeps the color). Active reads "show map
// <map>"; Places also reads the file, and Repair makes it agree with the
// running HAProxy. The
// parameters blue and green name the backend of each color (default "blue"
// and "green"); file names the map file on disk when it is not where
// HAProxy loaded it from (a chroot, a container).
//
// Server mode: one backend holds a server per color,
//
//	backend app
//	    server blue_srv 10.0.0.1:8080
//	    server green_srv 10.0.0.2:8080 disabled
//
//	haproxy:///run/haproxy.sock?backend=app&blue=blue_srv&green=green_srv
//
// Switch restores the new server's configured weight and sets it "state
// ready" first, waits until it is up (a server with health checks must pass
// one; wait=10s bounds this, else the switch fails and the old server keeps
// serving), then sets the old one "state drain" (or "state maint" with
// old=maint): both serve for a moment, so no request finds no server, and a
// server left in drain or maint by anyone is brought back. In server mode
// the switcher is a switcher.Weighted: SetWeights runs "set server
// app/srv weight N" (the backend needs a dynamic balance algorithm such as
// roundrobin). Active and Weights read "show servers state".
//
// In both modes the switcher is a switcher.InFlightReader: InFlight reads
// the current sessions of "show stat", of the color's backend (map mode)
// or of its server plus the requests queued for it (server mode), so a
// drain waits for the old color's last request rather than for a timer.
//
// The socket is a unix socket (haproxy:///path) or a TCP admin socket
// (haproxy://host:port); it needs "level admin". Open checks that the
// socket answers and that the map, key, backends and servers exist; what
// is missing is a *switcher.ProviderError wrapping switcher.ErrNotFound.
package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("haproxy", Open) }

const provider = "haproxy"

// Open opens a haproxy:// URL (see the package documentation).
func Open(ctx context.Context, u *url.URL) (switcher.Switcher, error) {
	cfg, err := parseURL(u)
	if err != nil {
		return nil, &switcher.ProviderError{Provider: provider, Op: "open", Target: u.Redacted(), Err: err}
	}
	if cfg.mapName != "" {
		return openMap(ctx, cfg)
	}
	return openServers(ctx, cfg)
}

type config struct {
	api          runtimeAPI
	mapName, key string        // map mode
	file         string        // map mode: the map file on disk
	backend      string        // server mode
	blue, green  string        // backends (map mode) or servers (server mode)
	old          string        // server mode: "drain" or "maint"
	wait         time.Duration // server mode: how long Switch waits for the new server to be up
}

func (c config) name(color switcher.Color) string {
	if color == switcher.Green {
		return c.green
	}
	return c.blue
}

var params = []string{"map", "key", "file", "backend", "blue", "green", "old", "wait"}

// defaultWait is how long Switch waits for the new server to pass its
// health check.
const defaultWait = 10 * time.Second

func parseURL(u *url.URL) (config, error) {
	var c config
	switch {
	case u.Opaque != "":
		return c, fmt.Errorf("want haproxy:///path/to/socket or haproxy://host:port, not %q", u.String())
	case u.Host != "":
		if u.Path != "" && u.Path != "/" {
			return c, fmt.Errorf("a TCP socket %q takes no path, got %q", u.Host, u.Path)
		}
		c.api = runtimeAPI{network: "tcp", addr: u.Host}
	case u.Path != "":
		c.api = runtimeAPI{network: "unix", addr: u.Path}
	default:
		return c, errors.New("no socket: want haproxy:///path/to/socket or haproxy://host:port")
	}
	q := u.Query()
	for k, v := range q {
		if !slices.Contains(params, k) {
			return c, fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(params, ", "))
		}
		if len(v) > 1 {
			return c, fmt.Errorf("parameter %q given %d times", k, len(v))
		}
	}
	c.mapName, c.key, c.file, c.backend = q.Get("map"), q.Get("key"), q.Get("file"), q.Get("backend")
	c.blue, c.green, c.old = q.Get("blue"), q.Get("green"), q.Get("old")
	if c.blue == "" {
		c.blue = string(switcher.Blue)
	}
	if c.green == "" {
		c.green = string(switcher.Green)
	}
	if c.blue == c.green {
		return c, fmt.Errorf("blue and green both name %q", c.blue)
	}
	check := []struct{ what, v string }{{"blue", c.blue}, {"green", c.green}}
	switch {
	case c.mapName != "" && c.backend != "":
		return c, errors.New("give map (map mode) or backend (server mode), not both")
	case c.mapName != "":
		if c.key == "" {
			return c, errors.New("map mode needs key, the map key the frontend looks up")
		}
		if c.old != "" || q.Get("wait") != "" {
			return c, errors.New("old and wait are for server mode")
		}
		if c.file == "" {
			c.file = c.mapName
		}
		check = append(check, struct{ what, v string }{"map", c.mapName}, struct{ what, v string }{"key", c.key})
	case c.backend != "":
		if c.key != "" || c.file != "" {
			return c, errors.New("key and file are for map mode")
		}
		c.wait = defaultWait
		if w := q.Get("wait"); w != "" {
			d, err := time.ParseDuration(w)
			if err != nil || d < 0 {
				return c, fmt.Errorf("wait=%q: want a duration such as 10s", w)
			}
			c.wait = d
		}
		switch c.old {
		case "":
			c.old = "drain"
		case "drain", "maint":
		default:
			return c, fmt.Errorf("old=%q: want drain or maint", c.old)
		}
		check = append(check, struct{ what, v string }{"backend", c.backend})
	default:
		return c, errors.New("give map and key (map mode) or backend (server mode)")
	}
	for _, n := range check {
		if err := checkName(n.what, n.v); err != nil {
			return c, err
		}
	}
	return c, nil
}

// ---- map mode ----

// MapSwitcher switches by changing the value of a map key.
type MapSwitcher struct {
	cfg    config
	lock   chan struct{} // serializes Switch, cancellably
	target string
	// afterRuntime, set by tests, runs between the running HAProxy's
	// change and the map file's.
	afterRuntime func()
}

var (
	_ switcher.Switcher  = (*MapSwitcher)(nil)
	_ switcher.Inspector = (*MapSwitcher)(nil)
)

func openMap(ctx context.Context, cfg config) (*MapSwitcher, error) {
	s := &MapSwitcher{cfg: cfg, lock: make(chan struct{}, 1),
		target: fmt.Sprintf("%s map %s key %s", cfg.api.target(), cfg.mapName, cfg.key)}
	fail := func(err error) (*MapSwitcher, error) {
		return nil, &switcher.ProviderError{Provider: provider, Op: "open", Target: s.target, Err: err}
	}
	if _, err := s.value(ctx); err != nil {
		return fail(err)
	}
	backends, err := cfg.api.run(ctx, "show backend")
	if err != nil {
		return fail(err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(backends, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			have[line] = true
		}
	}
	for _, b := range []string{cfg.blue, cfg.green} {
		if !have[b] {
			return fail(fmt.Errorf("backend %q: %w", b, switcher.ErrNotFound))
		}
	}
	if _, err := readMapFile(cfg.file); err != nil {
		return fail(err)
	}
	return s, nil
}

// value reads the map entry of the key.
func (s *MapSwitcher) value(ctx context.Context) (string, error) {
	cmd := "show map " + s.cfg.mapName
	out, err := s.cfg.api.run(ctx, cmd)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasPrefix(f[0], "0x") {
			if f[1] == s.cfg.key {
				return f[2], nil
			}
			continue
		}
		if msg := strings.TrimSpace(line); msg != "" {
			return "", answerError(cmd, msg)
		}
	}
	return "", fmt.Errorf("key %q in map %s: %w", s.cfg.key, s.cfg.mapName, switcher.ErrNotFound)
}

// Active returns the color whose backend the map key names.
func (s *MapSwitcher) Active(ctx context.Context) (switcher.Color, error) {
	v, err := s.value(ctx)
	if err != nil {
		return "", s.err(ctx, "active", err)
	}
	switch v {
	case s.cfg.blue:
		return switcher.Blue, nil
	case s.cfg.green:
		return switcher.Green, nil
	}
	return "", s.err(ctx, "active", fmt.Errorf("key %q names backend %q, neither blue (%q) nor green (%q)", s.cfg.key, v, s.cfg.blue, s.cfg.green))
}

// Switch points the map key at the backend of color to: first in the
// running HAProxy (what routes traffic), then in the map file a reload or
// restart reads. When the file cannot be written the running HAProxy is
// set back, so both keep the old color. A process killed between the two
// leaves them disagreeing; Places reports that and Repair rewrites the
// file from the running HAProxy.
func (s *MapSwitcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	if err := acquire(ctx, s.lock); err != nil {
		return err
	}
	defer func() { <-s.lock }()
	backend := s.cfg.name(to)
	was, err := s.value(ctx)
	if err != nil {
		return s.err(ctx, "switch", err)
	}
	if err := s.setRuntime(ctx, backend); err != nil {
		return s.err(ctx, "switch", err)
	}
	if s.afterRuntime != nil {
		s.afterRuntime()
	}
	if _, err := writeMapFile(s.cfg.file, s.cfg.key, backend); err != nil {
		if rerr := s.setRuntime(context.WithoutCancel(ctx), was); rerr != nil {
			return s.err(ctx, "switch", fmt.Errorf("write %s: %w; and setting the running HAProxy back to %s failed: %w (it routes to %s, a reload would not)", s.cfg.file, err, was, rerr, backend))
		}
		return s.err(ctx, "switch", fmt.Errorf("write %s: %w (the running HAProxy was set back to %s)", s.cfg.file, err, was))
	}
	return nil
}

// setRuntime sets the map key in the running HAProxy and reads it back.
func (s *MapSwitcher) setRuntime(ctx context.Context, backend string) error {
	if err := s.cfg.api.set(ctx, fmt.Sprintf("set map %s %s %s", s.cfg.mapName, s.cfg.key, backend)); err != nil {
		return err
	}
	got, err := s.value(ctx)
	if err != nil {
		return err
	}
	if got != backend {
		return fmt.Errorf("after set map, key %q names %q, want %q", s.cfg.key, got, backend)
	}
	return nil
}

func (s *MapSwitcher) color(backend string) switcher.Color {
	switch backend {
	case s.cfg.blue:
		return switcher.Blue
	case s.cfg.green:
		return switcher.Green
	}
	return ""
}

// Places reads the color from the running HAProxy (first: it routes the
// traffic) and from the map file.
func (s *MapSwitcher) Places(ctx context.Context) ([]switcher.Place, error) {
	v, err := s.value(ctx)
	if err != nil {
		return nil, s.err(ctx, "active", err)
	}
	out := []switcher.Place{{Name: "the running HAProxy's map " + s.cfg.mapName, Value: v, Color: s.color(v)}}
	content, err := readMapFile(s.cfg.file)
	if err != nil {
		return nil, s.err(ctx, "active", err)
	}
	file := switcher.Place{Name: "the map file " + s.cfg.file}
	if fv, ok := mapFileValue(content, s.cfg.key); ok {
		file.Value, file.Color = fv, s.color(fv)
	}
	return append(out, file), nil
}

// Repair writes the running HAProxy's backend for the key to the map file.
func (s *MapSwitcher) Repair(ctx context.Context) error {
	if err := acquire(ctx, s.lock); err != nil {
		return err
	}
	defer func() { <-s.lock }()
	v, err := s.value(ctx)
	if err != nil {
		return s.err(ctx, "repair", err)
	}
	if _, err := writeMapFile(s.cfg.file, s.cfg.key, v); err != nil {
		return s.err(ctx, "repair", err)
	}
	return nil
}

// Close does nothing: each command uses its own connection.
func (s *MapSwitcher) Close() error { return nil }

func (s *MapSwitcher) err(ctx context.Context, op string, err error) error {
	return wrap(ctx, op, s.target, err)
}

// wrap returns the context's error when it ended the operation, else a
// *switcher.ProviderError.
func wrap(ctx context.Context, op, target string, err error) error {
	if cerr := ctx.Err(); cerr != nil && (errors.Is(err, cerr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return cerr
	}
	return &switcher.ProviderError{Provider: provider, Op: op, Target: target, Err: err}
}

func acquire(ctx context.Context, lock chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ---- server mode ----

// ServerSwitcher switches between two servers of one backend.
type ServerSwitcher struct {
	cfg    config
	lock   chan struct{}
	target string
}

var _ switcher.Weighted = (*ServerSwitcher)(nil)

func openServers(ctx context.Context, cfg config) (*ServerSwitcher, error) {
	s := &ServerSwitcher{cfg: cfg, lock: make(chan struct{}, 1),
		target: fmt.Sprintf("%s backend %s servers %s, %s", cfg.api.target(), cfg.backend, cfg.blue, cfg.green)}
	if _, err := s.servers(ctx); err != nil {
		return nil, wrap(ctx, "open", s.target, err)
	}
	return s, nil
}

// servers reads the blue and green servers.
func (s *ServerSwitcher) servers(ctx context.Context) (map[switcher.Color]serverState, error) {
	all, err := s.cfg.api.showServersState(ctx, s.cfg.backend)
	if err != nil {
		return nil, err
	}
	out := map[switcher.Color]serverState{}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		st, ok := all[s.cfg.name(c)]
		if !ok {
			names := make([]string, 0, len(all))
			for n := range all {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("server %q (%s) in backend %q, which has %v: %w", s.cfg.name(c), c, s.cfg.backend, names, switcher.ErrNotFound)
		}
		out[c] = st
	}
	return out, nil
}

// Active returns the color whose server has the larger effective weight
// (blue on a tie).
func (s *ServerSwitcher) Active(ctx context.Context) (switcher.Color, error) {
	st, err := s.servers(ctx)
	if err != nil {
		return "", wrap(ctx, "active", s.target, err)
	}
	return active(st)
}

func active(st map[switcher.Color]serverState) (switcher.Color, error) {
	b, g := st[switcher.Blue].effectiveWeight(), st[switcher.Green].effectiveWeight()
	switch {
	case b == 0 && g == 0:
		return "", &switcher.ProviderError{Provider: provider, Op: "active", Target: st[switcher.Blue].name + ", " + st[switcher.Green].name,
			Err: fmt.Errorf("neither server takes traffic: %v, %v", st[switcher.Blue], st[switcher.Green])}
	case g > b:
		return switcher.Green, nil
	}
	return switcher.Blue, nil
}

func (s *ServerSwitcher) srv(c switcher.Color) string { return s.cfg.backend + "/" + s.cfg.name(c) }

// Switch sends all traffic to the server of color to: it restores that
// server's configured weight and sets it ready, then drains (or puts in
// maintenance) the other one.
func (s *ServerSwitcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	if err := acquire(ctx, s.lock); err != nil {
		return err
	}
	defer func() { <-s.lock }()
	if err := s.apply(ctx, "switch", []string{
		"set server " + s.srv(to) + " weight 100%",
		"set server " + s.srv(to) + " state ready",
	}); err != nil {
		return err
	}
	if err := s.waitUp(ctx, to); err != nil {
		return err
	}
	if err := s.apply(ctx, "switch", []string{"set server " + s.srv(to.Other()) + " state " + s.cfg.old}); err != nil {
		return err
	}
	st, err := s.servers(ctx)
	if err != nil {
		return wrap(ctx, "switch", s.target, err)
	}
	if st[to].effectiveWeight() == 0 || st[to.Other()].effectiveWeight() != 0 {
		return wrap(ctx, "switch", s.target, fmt.Errorf("after the switch to %s haproxy reports %v, %v", to, st[switcher.Blue], st[switcher.Green]))
	}
	return nil
}

// waitUp waits until the server of color takes traffic: at once without
// health checks, after a passing check with them. A server that stays
// down past the context's deadline or s.cfg.wait is an error, and the
// other server is left serving.
func (s *ServerSwitcher) waitUp(ctx context.Context, c switcher.Color) error {
	deadline := time.Now().Add(s.cfg.wait)
	for {
		st, err := s.servers(ctx)
		if err != nil {
			return wrap(ctx, "switch", s.target, err)
		}
		if st[c].up() {
			return nil
		}
		if time.Now().After(deadline) {
			return wrap(ctx, "switch", s.target, fmt.Errorf("server %v is not up after %v; %v still serves", st[c], s.cfg.wait, st[c.Other()]))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// apply runs commands in order, stopping at the first error.
func (s *ServerSwitcher) apply(ctx context.Context, op string, cmds []string) error {
	for i, cmd := range cmds {
		if err := s.cfg.api.set(ctx, cmd); err != nil {
			if i > 0 {
				err = fmt.Errorf("%w (after %q succeeded)", err, cmds[:i])
			}
			return wrap(ctx, op, s.target, err)
		}
	}
	return nil
}

// SetWeights gives the server of color percent as its weight and the other
// 100-percent. The server that gains traffic is set first, so some server
// always serves.
func (s *ServerSwitcher) SetWeights(ctx context.Context, color switcher.Color, percent int) error {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return err
	}
	if percent < 0 || percent > 100 {
		return &switcher.ProviderError{Provider: provider, Op: "weights", Target: s.target,
			Err: fmt.Errorf("percent %d not between 0 and 100", percent)}
	}
	if err := acquire(ctx, s.lock); err != nil {
		return err
	}
	defer func() { <-s.lock }()
	want := map[switcher.Color]int{color: percent, color.Other(): 100 - percent}
	first, second := color, color.Other()
	if want[second] > want[first] {
		first, second = second, first
	}
	cmds := []string{
		fmt.Sprintf("set server %s weight %d", s.srv(first), want[first]),
		"set server " + s.srv(first) + " state ready",
		fmt.Sprintf("set server %s weight %d", s.srv(second), want[second]),
	}
	if want[second] > 0 {
		cmds = append(cmds, "set server "+s.srv(second)+" state ready")
	}
	return s.apply(ctx, "weights", cmds)
}

// Weights returns the share of each server's effective weight.
func (s *ServerSwitcher) Weights(ctx context.Context) (map[switcher.Color]int, error) {
	st, err := s.servers(ctx)
	if err != nil {
		return nil, wrap(ctx, "weights", s.target, err)
	}
	b, g := st[switcher.Blue].effectiveWeight(), st[switcher.Green].effectiveWeight()
	if b+g == 0 {
		return map[switcher.Color]int{switcher.Blue: 0, switcher.Green: 0}, nil
	}
	bp := (b*100 + (b+g)/2) / (b + g)
	return map[switcher.Color]int{switcher.Blue: bp, switcher.Green: 100 - bp}, nil
}

// Close does nothing: each command uses its own connection.
func (s *ServerSwitcher) Close() error { return nil }
