package nginx

import (
	"maps"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
)

// TestCountConns: this process's connections to a listener of its own, over
// IPv4 and IPv6, are counted; closed, they are not.
func TestCountConns(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("procnet reads Linux's /proc")
	}
	for _, network := range []string{"tcp4", "tcp6"} {
		ln, err := net.Listen(network, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network])
		if err != nil {
			t.Logf("%s: %v", network, err)
			continue
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		want, err := resolve(t.Context(), ln.Addr().String())
		if err != nil || !want[netip.MustParseAddrPort(ln.Addr().String())] {
			t.Fatalf("Resolve(%s) = %v, %v", ln.Addr(), want, err)
		}
		var conns []net.Conn
		for range 3 {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		if n, err := countConnsOf([]int{os.Getpid()}, want); err != nil || n != 3 {
			t.Fatalf("%s: Count with 3 connections = %d, %v", network, n, err)
		}
		// Both ways of asking the kernel see them.
		viaDiag, viaProc := map[string]bool{}, map[string]bool{}
		if err := diagConnectedTo(want, viaDiag); err != nil || len(viaDiag) != 3 {
			t.Fatalf("%s: sock_diag found %d sockets, %v", network, len(viaDiag), err)
		}
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			if err := connectedTo(f, want, viaProc); err != nil {
				t.Fatal(err)
			}
		}
		if !maps.Equal(viaDiag, viaProc) {
			t.Fatalf("%s: sock_diag found %v, /proc/net/tcp %v", network, viaDiag, viaProc)
		}
		if n, err := countConnsOf([]int{os.Getppid()}, want); err != nil || n != 0 {
			t.Fatalf("%s: Count of another process = %d, %v", network, n, err)
		}
		for _, c := range conns {
			c.Close()
		}
		if n, err := countConnsOf([]int{os.Getpid()}, want); err != nil || n != 0 {
			t.Fatalf("%s: Count after close = %d, %v", network, n, err)
		}
	}
}
