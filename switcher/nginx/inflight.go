package nginx

import (
	"context"
	"strings"

	"github.com/bgmigrate/bgmigrate/switcher"
)

var _ switcher.InFlightReader = (*Switcher)(nil)

// InFlight counts the requests nginx is proxying to color now: the TCP
// connections that the workers of the master in pid= hold to color's
// server address, established or being opened (Linux: the sockets from
// the kernel's sock_diag, their owners from /proc; the switcher runs on
// the nginx host and may read the workers' file descriptors). Without upstream keepalive nginx opens one
// connection per proxied request, so after a switch these are the old
// workers' requests still in flight; they reach 0 when the last one is
// answered, at the latest when the old workers exit. With keepalive in
// the upstream block the idle connections a worker keeps count too (an
// old worker closes them as it shuts down).
//
// InFlight reports ok=false, and no error, when it cannot count: no pid=
// in the URL, or a color served on a unix socket.
func (s *Switcher) InFlight(ctx context.Context, color switcher.Color) (int, bool, error) {
	if err := switcher.InFlightArgs(ctx, color); err != nil {
		return 0, false, err
	}
	addr := s.cfg.Servers[color]
	if s.cfg.PIDFile == "" || strings.HasPrefix(addr, "unix:") {
		return 0, false, nil
	}
	want, err := resolve(ctx, addr)
	if err != nil {
		return 0, false, s.fail("in-flight", err)
	}
	workers, err := children(s.cfg.PIDFile)
	if err != nil {
		return 0, false, s.fail("in-flight", err)
	}
	var pids []int
	for pid, title := range workers {
		if strings.Contains(title, "worker process") {
			pids = append(pids, pid)
		}
	}
	n, err := countConnsOf(pids, want)
	if err != nil {
		return 0, false, s.fail("in-flight", err)
	}
	return n, true, nil
}
