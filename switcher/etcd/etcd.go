// Package etcd publishes the active color as the value of an etcd key, for
// setups where a config manager (confd, a sidecar, a custom controller)
// watches the key and points the load balancer. Import it for its side
// effect:
//
//	import _ "github.com/bgmigrate/bgmigrate/switcher/etcd"
//
// The switcher URL names the endpoints and the key:
//
//	etcd://127.0.0.1:2379/bgmigrate/app/active
//	etcd://user:password@10.0.0.1:2379,10.0.0.2:2379/bgmigrate/app/active?timeout=3s
//
// The host is one endpoint or a comma-separated list, reached over plain
// HTTP (gRPC without TLS); user and password in the URL authenticate
// against etcd's auth. The path, leading slash included, is the key. Query
// keys:
//
//	timeout  limit for each etcd request (Go duration; default 5s)
//
// The value is "blue" or "green". Switch writes it in one transaction that
// compares the current value first, so switching to the active color writes
// nothing and wakes no watcher. Switch returns once etcd has committed the
// write (a quorum has it); when the load balancer follows is up to whatever
// watches the key, which this switcher cannot see. Active reads the key
// with a linearizable read; a key that does not exist is
// switcher.ErrNotFound.
//
// The switcher uses etcd's official Go client, go.etcd.io/etcd/client/v3,
// which speaks the v3 gRPC API of etcd 3.4 and later.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("etcd", open) }

const provider = "etcd"

// Config names the etcd cluster and the key.
type Config struct {
	Endpoints          []string // URLs, e.g. http://127.0.0.1:2379
	Key                string
	Username, Password string
	Timeout            time.Duration // per request; default 5s
}

// Switcher writes the active color to an etcd key.
type Switcher struct {
	cfg    Config
	target string // endpoints and key, for errors
	cli    *clientv3.Client
}

var _ switcher.Switcher = (*Switcher)(nil)

// New connects to cfg.Endpoints. The connection is made lazily: an
// unreachable cluster shows up as an error of the first request.
func New(cfg Config) (*Switcher, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcd switcher: no endpoint")
	}
	if cfg.Key == "" || cfg.Key == "/" {
		return nil, errors.New("etcd switcher: no key (etcd://HOST:PORT/KEY)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		Username:    cfg.Username,
		Password:    cfg.Password,
		DialTimeout: cfg.Timeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd switcher: %w", err)
	}
	return &Switcher{cfg: cfg, cli: cli, target: strings.Join(cfg.Endpoints, ",") + " key " + cfg.Key}, nil
}

func open(_ context.Context, u *url.URL) (switcher.Switcher, error) {
	q := u.Query()
	for k := range q {
		if k != "timeout" {
			return nil, fmt.Errorf("etcd switcher URL: unknown query key %q", k)
		}
	}
	if u.Host == "" {
		return nil, errors.New("etcd switcher URL: no endpoint (etcd://HOST:PORT/KEY)")
	}
	cfg := Config{Key: u.Path}
	for _, h := range strings.Split(u.Host, ",") {
		if h == "" {
			return nil, fmt.Errorf("etcd switcher URL: empty endpoint in %q", u.Host)
		}
		cfg.Endpoints = append(cfg.Endpoints, "http://"+h)
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("etcd switcher URL: invalid timeout %q", t)
		}
		cfg.Timeout = d
	}
	return New(cfg)
}

// Active reads the color from the key.
func (s *Switcher) Active(ctx context.Context) (switcher.Color, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.cfg.Key)
	if err != nil {
		return "", s.fail(ctx, "active", err)
	}
	if len(resp.Kvs) == 0 {
		return "", s.fail(ctx, "active", fmt.Errorf("%w: key %q does not exist", switcher.ErrNotFound, s.cfg.Key))
	}
	v := strings.TrimSpace(string(resp.Kvs[0].Value))
	c, err := switcher.ParseColor(v)
	if err != nil {
		return "", s.fail(ctx, "active", fmt.Errorf("key %q holds %q: %w", s.cfg.Key, v, err))
	}
	return c, nil
}

// Switch writes to as the key's value unless it holds it already.
func (s *Switcher) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	_, err := s.cli.Txn(rctx).
		If(clientv3.Compare(clientv3.Value(s.cfg.Key), "=", string(to))).
		Else(clientv3.OpPut(s.cfg.Key, string(to))).
		Commit()
	if err != nil {
		return s.fail(ctx, "switch", err)
	}
	return nil
}

// Close closes the connection to etcd.
func (s *Switcher) Close() error { return s.cli.Close() }

// fail wraps err for op. A cancelled or expired caller context is returned
// as is; a request that ran out of the switcher's own timeout says so.
func (s *Switcher) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %v (is etcd running at %s?): %w", s.cfg.Timeout, strings.Join(s.cfg.Endpoints, ", "), err)
	}
	return &switcher.ProviderError{Provider: provider, Op: op, Target: s.target, Err: err}
}
