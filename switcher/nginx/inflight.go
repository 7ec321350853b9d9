package nginx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/switcher"
)

var _ switcher.InFlightReader = (*Switcher)(nil)

// InFlight counts the requests nginx is proxying to color now: the TCP
// connections that the workers of the master in pid= hold to color's
// server address, established or being opened, read from /proc (Linux,
// with the switcher on the nginx host and allowed to read the workers'
// file descriptors). Without upstream keepalive nginx opens one
// connection per proxied request, so after a switch these are the old
// workers' requests still in flight; they reach 0 when the last one is
// answered, at the latest when the old workers exit. With keepalive in
// the upstream block the idle connections a worker keeps count too (an
// old worker closes them as it shuts down).
//
// InFlight reports ok=false, and no error, when it cannot count: no pid=
// in the URL, or a color served on a unix socket.
func (s *Switcher) InFlight(ctx context.Context, color switcher.Color) (int, bool, error) {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return 0, false, err
	}
	if err := ctx.Err(); err != nil {
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
	inodes := map[string]bool{}
	for pid, title := range workers {
		if strings.Contains(title, "worker process") {
			socketInodes(pid, inodes)
		}
	}
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		c, err := countConns(f, inodes, want)
		if err != nil {
			return 0, false, s.fail("in-flight", err)
		}
		n += c
	}
	return n, true, nil
}

// resolve turns a server address ("127.0.0.1:8081", "[::1]:8081",
// "app.internal:8081", or a host without a port: 80) into the addresses
// nginx may connect to.
func resolve(ctx context.Context, addr string) (map[netip.AddrPort]bool, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "80"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("server %q: port %q: %w", addr, port, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("server %q: %w", addr, err)
	}
	out := map[netip.AddrPort]bool{}
	for _, ip := range ips {
		out[netip.AddrPortFrom(ip.Unmap(), uint16(p))] = true
	}
	return out, nil
}

// socketInodes adds the inodes of the sockets process pid holds open. A
// process that exits meanwhile, or whose descriptors cannot be read,
// adds nothing.
func socketInodes(pid int, into map[string]bool) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		if in, ok := strings.CutPrefix(link, "socket:["); ok {
			into[strings.TrimSuffix(in, "]")] = true
		}
	}
}

// TCP states of /proc/net/tcp counted as a request in flight.
const (
	tcpEstablished = "01"
	tcpSynSent     = "02"
)

// countConns counts the lines of a /proc/net/tcp file whose socket is one
// of inodes, whose remote end is in want, established or being opened.
func countConns(path string, inodes map[string]bool, want map[netip.AddrPort]bool) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil // no IPv6
		}
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || (f[3] != tcpEstablished && f[3] != tcpSynSent) || !inodes[f[9]] {
			continue
		}
		remote, err := parseProcAddr(f[2])
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", path, f[2], err)
		}
		if want[remote] {
			n++
		}
	}
	return n, sc.Err()
}

// parseProcAddr reads an address of /proc/net/tcp: the IP in hex, as the
// kernel stores it (each 32-bit word in host order, little-endian here),
// a colon and the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port")
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address")
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port")
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}
