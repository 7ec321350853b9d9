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
	"io"
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
// addresses in want, established or being opened. It asks the kernel
// first (sock_diag, else /proc/net/tcp and tcp6) for the sockets
// connected to want, then reads
// the descriptors of each process for those sockets: a connection that
// closed in between is not counted, and one opened in between is missed,
// which a drain does not mind (the old color gets no new connection).
// The other order misses every connection opened while the descriptors
// are read, which under load is most of them. A process that exits
// meanwhile, or whose descriptors cannot be read, holds none.
func countConnsOf(pids []int, want map[netip.AddrPort]bool) (int, error) {
	connected := map[string]bool{}
	if err := diagConnectedTo(want, connected); err != nil {
		// No sock_diag (a kernel without it, a seccomp profile): the
		// same from /proc/net/tcp, much slower under load.
		clear(connected)
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			if err := connectedTo(f, want, connected); err != nil {
				return 0, err
			}
		}
	}
	n := 0
	for _, pid := range pids {
		if len(connected) == 0 {
			break
		}
		n += takeSockets(pid, connected)
	}
	return n, nil
}

// takeSockets counts the sockets of inodes that process pid holds open,
// and removes them from inodes (a socket two processes share counts
// once).
func takeSockets(pid int, inodes map[string]bool) int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		if in, ok := strings.CutPrefix(link, "socket:["); ok {
			if in = strings.TrimSuffix(in, "]"); inodes[in] {
				n++
				delete(inodes, in)
			}
		}
	}
	return n
}

// TCP states of /proc/net/tcp counted as a request in flight.
const (
	tcpEstablished = "01"
	tcpSynSent     = "02"
)

// connectedTo adds to into the inodes of the sockets of a /proc/net/tcp
// file whose remote end is in want, established or being opened.
func connectedTo(path string, want map[netip.AddrPort]bool, into map[string]bool) error {
	data, err := readProc(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // no IPv6
		}
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || (f[3] != tcpEstablished && f[3] != tcpSynSent) {
			continue
		}
		remote, err := parseProcAddr(f[2])
		if err != nil {
			return fmt.Errorf("%s: %q: %w", path, f[2], err)
		}
		if want[remote] && f[9] != "0" {
			into[f[9]] = true
		}
	}
	return sc.Err()
}

// readProc reads a /proc file in reads of 4 MiB: the kernel fills each
// read from its table as it is then, so fewer reads of a table that
// changes under them skip fewer lines.
func readProc(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out bytes.Buffer
	buf := make([]byte, 4<<20)
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF || n == 0 {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
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
