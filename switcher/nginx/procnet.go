package nginx

// The connections of a process to an address, from Linux's /proc. The
// addresses in /proc/net/tcp are read as a little-endian host stores them
// (amd64, arm64).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

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

// countConnsOf counts the TCP connections the processes pids hold to one of the
// addresses in want, established or being opened, from /proc: the
// sockets in each process's file descriptors, looked up in /proc/net/tcp
// and tcp6. A process that exits meanwhile, or whose descriptors cannot be
// read, holds none.
func countConnsOf(pids []int, want map[netip.AddrPort]bool) (int, error) {
	inodes := map[string]bool{}
	for _, pid := range pids {
		socketInodes(pid, inodes)
	}
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		c, err := countConns(f, inodes, want)
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
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
		return netip.AddrPort{}, errors.New("no port")
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, errors.New("bad address")
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, errors.New("bad port")
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}
