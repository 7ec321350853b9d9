package caddy

import (
	"context"
	"net/http"

	"github.com/bgmigrate/bgmigrate/switcher"
)

var _ switcher.InFlightReader = (*Switcher)(nil)

// InFlight returns num_requests of color's upstream in Caddy's pool
// (/reverse_proxy/upstreams): the requests Caddy proxies to it now. A
// color whose address is not in the pool, as the old one after a switch,
// cannot be counted: ok is false.
func (s *Switcher) InFlight(ctx context.Context, color switcher.Color) (int, bool, error) {
	if err := switcher.InFlightArgs(ctx, color); err != nil {
		return 0, false, err
	}
	var pool []struct {
		Address     string `json:"address"`
		NumRequests int    `json:"num_requests"`
	}
	if err := s.do(ctx, http.MethodGet, s.cfg.Admin+"/reverse_proxy/upstreams", nil, &pool); err != nil {
		return 0, false, s.fail(ctx, "in-flight", err)
	}
	for _, u := range pool {
		if u.Address == s.cfg.Dial[color] {
			return u.NumRequests, true, nil
		}
	}
	return 0, false, nil
}
