//go:build !linux

package nginx

import (
	"errors"
	"net/netip"
)

// diagConnectedTo needs Linux's sock_diag; elsewhere the caller reads
// /proc/net/tcp, which does not exist either.
func diagConnectedTo(map[netip.AddrPort]bool, map[string]bool) error {
	return errors.New("sock_diag needs Linux")
}
