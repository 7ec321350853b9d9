// Package memswitch is the in-memory reference switcher, for tests and dry
// runs: mem://NAME. Switchers with the same name share their state within
// a process.
package memswitch

import (
	"context"
	"net/url"
	"sync"

	"github.com/bgmigrate/bgmigrate/switcher"
)

func init() { switcher.Register("mem", open) }

var (
	mu     sync.Mutex
	states = map[string]*state{}
)

type state struct {
	mu      sync.RWMutex
	weights map[switcher.Color]int
}

// Switcher is an in-memory load balancer.
type Switcher struct{ st *state }

var _ switcher.Weighted = (*Switcher)(nil)

// New returns a switcher sending all traffic to active.
func New(active switcher.Color) *Switcher {
	return &Switcher{st: &state{weights: map[switcher.Color]int{active: 100, active.Other(): 0}}}
}

func open(_ context.Context, u *url.URL) (switcher.Switcher, error) {
	name := u.Host + u.Path
	mu.Lock()
	defer mu.Unlock()
	st, ok := states[name]
	if !ok {
		initial := switcher.Blue
		if c := u.Query().Get("active"); c != "" {
			var err error
			if initial, err = switcher.ParseColor(c); err != nil {
				return nil, err
			}
		}
		st = New(initial).st
		states[name] = st
	}
	return &Switcher{st: st}, nil
}

// Active returns the color with the larger share.
func (s *Switcher) Active(ctx context.Context) (switcher.Color, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	if s.st.weights[switcher.Green] > s.st.weights[switcher.Blue] {
		return switcher.Green, nil
	}
	return switcher.Blue, nil
}

// Switch sends all traffic to to.
func (s *Switcher) Switch(ctx context.Context, to switcher.Color) error {
	return s.SetWeights(ctx, to, 100)
}

// SetWeights sends percent of the traffic to color.
func (s *Switcher) SetWeights(ctx context.Context, color switcher.Color, percent int) error {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return err
	}
	if percent < 0 || percent > 100 {
		return &switcher.ProviderError{Provider: "mem", Op: "weights", Target: "memory", Err: errPercent}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.weights = map[switcher.Color]int{color: percent, color.Other(): 100 - percent}
	return nil
}

// Weights returns the current split.
func (s *Switcher) Weights(ctx context.Context) (map[switcher.Color]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return map[switcher.Color]int{switcher.Blue: s.st.weights[switcher.Blue], switcher.Green: s.st.weights[switcher.Green]}, nil
}

// Close does nothing.
func (s *Switcher) Close() error { return nil }

type percentError struct{}

func (percentError) Error() string { return "percent must be between 0 and 100" }

var errPercent = percentError{}
