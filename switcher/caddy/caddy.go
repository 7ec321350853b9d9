// Package caddy switches traffic by changing the dial address of a
// reverse_proxy upstream through Caddy's admin API. Import it for its side
// effect:
//
//	import _ "github.com/bgmigrate/bgmigrate/switcher/caddy"
//
// The switcher URL names the admin API and the upstream object in Caddy's
// JSON config:
//
//	caddy://127.0.0.1:2019/id/app_upstream?blue=127.0.0.1:8081&green=127.0.0.1:8082
//	caddy://127.0.0.1:2019/config/apps/http/servers/srv0/routes/0/handle/0/upstreams/0?blue=…&green=…
//
// The host is the admin listener (plain HTTP, as Caddy serves it on
// localhost). The path is the admin API path of one upstream object: the
// /id/NAME form finds an object tagged "@id": "NAME" anywhere in the config,
// so it survives edits to the route order; the /config/… form addresses it
// by position. Query keys:
//
//	blue     dial address of the blue color (required)
//	green    dial address of the green color (required)
//	timeout  limit for each admin API request (Go duration; default 10s)
//
// Switch PATCHes the object's "dial" field. Caddy applies a config change
// before it answers the request: it starts the new HTTP servers on the same
// listeners and shuts the old ones down gracefully (requests in flight
// finish, idle keep-alive connections are closed, so a client may have to
// retry an idempotent request). Switch then reads the field back. Active
// reads the field (GET) and maps it to a color; an address that is neither
// color is an error.
//
// The switcher is a switcher.InFlightReader. InFlight reads the admin
// API's /reverse_proxy/upstreams, whose num_requests counts the requests
// Caddy proxies to each upstream of its pool. A switch takes the old
// color's address out of the pool at once, while its requests still run
// on the old server, and Caddy 2.6 counts them nowhere else: a color out
// of the pool reports ok=false, and the drain falls back to its timer.
//
// The switcher is not switcher.Weighted: Caddy 2.6 (Debian bookworm) has no
// weighted_round_robin selection policy (added in a later release), and a
// split cannot be expressed with its policies.
package caddy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("caddy", open) }

const provider = "caddy"

// Config names an upstream in a Caddy config and the two dial addresses.
type Config struct {
	Admin   string                    // admin API base URL, e.g. http://127.0.0.1:2019
	Path    string                    // admin API path of the upstream object
	Dial    map[switcher.Color]string // dial address per color
	Timeout time.Duration             // per admin request; default 10s
}

// Switcher changes a reverse_proxy upstream through Caddy's admin API.
type Switcher struct {
	cfg    Config
	target string // the admin URL of the dial field, for errors
	client *http.Client
	mu     sync.Mutex // serializes switches from this process
}

var _ switcher.Switcher = (*Switcher)(nil)

// New returns a switcher for cfg.
func New(cfg Config) (*Switcher, error) {
	if cfg.Admin == "" {
		return nil, errors.New("caddy switcher: no admin API address")
	}
	if !strings.HasPrefix(cfg.Path, "/id/") && !strings.HasPrefix(cfg.Path, "/config/") {
		return nil, fmt.Errorf("caddy switcher: path %q is neither /id/NAME nor /config/…", cfg.Path)
	}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if cfg.Dial[c] == "" {
			return nil, fmt.Errorf("caddy switcher: no %s dial address", c)
		}
	}
	if cfg.Dial[switcher.Blue] == cfg.Dial[switcher.Green] {
		return nil, fmt.Errorf("caddy switcher: blue and green have the same dial address %q", cfg.Dial[switcher.Blue])
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cfg.Admin = strings.TrimRight(cfg.Admin, "/")
	cfg.Path = strings.TrimRight(cfg.Path, "/")
	return &Switcher{
		cfg:    cfg,
		target: cfg.Admin + cfg.Path + "/dial",
		// No keep-alive: a config change can restart the admin server, and
		// a request on a connection it closed fails.
		client: &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{DisableKeepAlives: true}},
	}, nil
}

func open(_ context.Context, u *url.URL) (switcher.Switcher, error) {
	q := u.Query()
	for k := range q {
		switch k {
		case "blue", "green", "timeout":
		default:
			return nil, fmt.Errorf("caddy switcher URL: unknown query key %q", k)
		}
	}
	if u.Host == "" {
		return nil, errors.New("caddy switcher URL: no admin host (caddy://HOST:PORT/id/NAME)")
	}
	cfg := Config{
		Admin: "http://" + u.Host,
		Path:  u.Path,
		Dial:  map[switcher.Color]string{switcher.Blue: q.Get("blue"), switcher.Green: q.Get("green")},
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("caddy switcher URL: invalid timeout %q", t)
		}
		cfg.Timeout = d
	}
	return New(cfg)
}

// Active reads the upstream's dial address and returns its color.
func (s *Switcher) Active(ctx context.Context) (switcher.Color, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c, err := s.active(ctx)
	if err != nil {
		return "", s.fail(ctx, "active", err)
	}
	return c, nil
}

func (s *Switcher) active(ctx context.Context) (switcher.Color, error) {
	var dial string
	if err := s.do(ctx, http.MethodGet, s.target, nil, &dial); err != nil {
		return "", err
	}
	for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
		if dial == s.cfg.Dial[c] {
			return c, nil
		}
	}
	return "", fmt.Errorf("upstream dials %q, neither blue (%s) nor green (%s)", dial, s.cfg.Dial[switcher.Blue], s.cfg.Dial[switcher.Green])
}

// Switch points the upstream at the dial address of to.
func (s *Switcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, err := s.active(ctx); err == nil && cur == to {
		return nil
	}
	if err := s.do(ctx, http.MethodPatch, s.target, s.cfg.Dial[to], nil); err != nil {
		return s.fail(ctx, "switch", err)
	}
	cur, err := s.active(ctx)
	if err == nil && cur != to {
		err = fmt.Errorf("caddy accepted the change but serves %s", cur)
	}
	if err != nil {
		return s.fail(ctx, "switch", err)
	}
	return nil
}

// Close releases idle connections to the admin API.
func (s *Switcher) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// fail wraps err for op; a cancelled or expired ctx is returned as is.
func (s *Switcher) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	return &switcher.ProviderError{Provider: provider, Op: op, Target: s.target, Err: err}
}

// do sends one admin request to target with a JSON body (when in is not nil) and
// decodes a JSON answer into out (when not nil).
func (s *Switcher) do(ctx context.Context, method, target string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	// A config change restarts Caddy's admin server: a read that meets the
	// restart is sent again.
	for try := 1; err != nil && method == http.MethodGet && try < 5 && restarting(err); try++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try) * 20 * time.Millisecond):
		}
		resp, err = s.client.Do(req)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(data))
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		err := fmt.Errorf("%s: %s", resp.Status, msg)
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", switcher.ErrNotFound, err)
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode %s: %w", strings.TrimSpace(string(data)), err)
		}
	}
	return nil
}

// restarting reports whether err is a connection the admin server closed
// or refused, as it does while it restarts.
func restarting(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
