// Package switcher moves traffic between the two colors of a blue-green
// deploy through the load balancer a team already runs. A provider only
// applies a decision made elsewhere (the gate decides, the switcher flips).
// Providers register under a URL scheme:
//
//	haproxy:///run/haproxy.sock?map=/etc/haproxy/color.map&key=app
//	nginx:///etc/nginx/conf.d/app-upstream.conf?reload=…
//	mem://test
package switcher

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Color is one of the two deployments.
type Color string

const (
	Blue  Color = "blue"
	Green Color = "green"
)

// ParseColor reads "blue" or "green".
func ParseColor(s string) (Color, error) {
	switch Color(s) {
	case Blue, Green:
		return Color(s), nil
	}
	return "", &InvalidColorError{Color: s}
}

// Other returns the other color.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

// Switcher is a load balancer that sends traffic to one color.
type Switcher interface {
	// Active returns the color that receives traffic, read from the load
	// balancer itself.
	Active(ctx context.Context) (Color, error)
	// Switch sends all traffic to color and returns once the load balancer
	// reports the change. Switching to the active color changes nothing.
	Switch(ctx context.Context, to Color) error
	// Close releases connections held by the provider.
	Close() error
}

// Weighted is a switcher that can split traffic for a gradual shift.
type Weighted interface {
	Switcher
	// SetWeights sends percent of the traffic to color, the rest to the
	// other one (0 ≤ percent ≤ 100).
	SetWeights(ctx context.Context, color Color, percent int) error
	// Weights returns the share of traffic each color receives, in percent.
	Weights(ctx context.Context) (map[Color]int, error)
}

// Inspector is a switcher that keeps the color in more than one place:
// HAProxy's map mode holds it in the running process and in the map file a
// reload or restart reads. A process killed part way through a switch can
// leave them naming different colors.
type Inspector interface {
	// Places reads the color from every place, the one that routes the
	// traffic now first.
	Places(ctx context.Context) ([]Place, error)
	// Repair makes every place agree with the first.
	Repair(ctx context.Context) error
}

// InFlightReader is a switcher that can tell how many requests a color's
// backends still serve, so that a drain waits for them rather than for a
// timer: HAProxy's current sessions, nginx's old workers, Caddy's upstream
// requests, Kubernetes' terminating pods, an ALB's deregistering targets.
type InFlightReader interface {
	// InFlight returns the requests color's backends are serving now. ok
	// is false when the provider cannot tell at this moment (the drain
	// then falls back to its timer).
	InFlight(ctx context.Context, color Color) (n int, ok bool, err error)
}

// InFlightArgs is what every InFlight checks before it reads: a valid
// color and a context not done yet.
func InFlightArgs(ctx context.Context, color Color) error {
	if _, err := ParseColor(string(color)); err != nil {
		return err
	}
	return ctx.Err()
}

// Place is one place a load balancer keeps the color in.
type Place struct {
	Name  string // "the map file /etc/haproxy/color.map"
	Value string // what it holds ("app_green")
	Color Color  // the color Value names, "" when neither
}

// Disagreement describes places that do not all name the color of the
// first; "" when they agree.
func Disagreement(places []Place) string {
	if len(places) < 2 {
		return ""
	}
	var parts []string
	for _, p := range places[1:] {
		if p.Color != places[0].Color || p.Value != places[0].Value {
			parts = append(parts, fmt.Sprintf("%s names %s", p.Name, orValue(p)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s names %s but %s", places[0].Name, orValue(places[0]), strings.Join(parts, " and "))
}

func orValue(p Place) string {
	switch {
	case p.Color != "":
		return fmt.Sprintf("%s (%s)", p.Color, p.Value)
	case p.Value == "":
		return "nothing"
	}
	return fmt.Sprintf("%q, neither color", p.Value)
}

// Opener opens a switcher from its URL.
type Opener func(ctx context.Context, u *url.URL) (Switcher, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes a provider available under a URL scheme. Registering a
// scheme twice panics.
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("switcher: Register called twice for scheme " + scheme)
	}
	openers[scheme] = open
}

// Schemes lists the registered schemes.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(openers))
	for s := range openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open opens the switcher a URL names.
func Open(ctx context.Context, rawURL string) (Switcher, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("switcher URL %q: %w", rawURL, err)
	}
	mu.RLock()
	open, ok := openers[u.Scheme]
	mu.RUnlock()
	if !ok {
		return nil, &UnknownSchemeError{Scheme: u.Scheme, Known: Schemes()}
	}
	return open(ctx, u)
}

// InvalidColorError is a color other than blue and green.
type InvalidColorError struct{ Color string }

func (e *InvalidColorError) Error() string {
	return fmt.Sprintf("invalid color %q (want blue or green)", e.Color)
}

// UnknownSchemeError is a switcher URL whose scheme no provider serves.
type UnknownSchemeError struct {
	Scheme string
	Known  []string
}

func (e *UnknownSchemeError) Error() string {
	return fmt.Sprintf("no switcher for scheme %q (known: %v)", e.Scheme, e.Known)
}

// ProviderError is a failure of the load balancer or its API. Providers
// leave traffic where it was; the message says so when a multi-step change
// stopped part way.
type ProviderError struct {
	Provider string
	Op       string // "active", "switch", "weights"
	Target   string // what was tried: a socket, a file, a URL
	Err      error
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("%s %s (%s): %v", e.Provider, e.Op, e.Target, e.Err)
}

func (e *ProviderError) Unwrap() error { return e.Err }

// ErrNotFound marks a backend, server, key or resource that does not exist.
var ErrNotFound = errors.New("not found")
