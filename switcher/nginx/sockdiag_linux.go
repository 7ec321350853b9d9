package nginx

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
)

// Netlink sock_diag, as ss(8) asks it: the TCP sockets of the host in the
// states asked for, in one dump per address family, filtered in the
// kernel by state. Reading /proc/net/tcp instead lists every socket,
// TIME_WAIT ones included: tens of thousands under load, seconds to read.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	diagReqLen       = 56 // struct inet_diag_req_v2
	diagMsgLen       = 72 // struct inet_diag_msg
)

// diagConnectedTo adds to into the inodes of the TCP sockets, established
// or being opened, whose remote end is in want.
func diagConnectedTo(want map[netip.AddrPort]bool, into map[string]bool) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer syscall.Close(fd)
	for _, family := range []uint8{syscall.AF_INET, syscall.AF_INET6} {
		if err := diagDump(fd, family, want, into); err != nil {
			return err
		}
	}
	return nil
}

func diagDump(fd int, family uint8, want map[netip.AddrPort]bool, into map[string]bool) error {
	req := make([]byte, syscall.NLMSG_HDRLEN+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1)
	r := req[syscall.NLMSG_HDRLEN:]
	r[0], r[1] = family, syscall.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<1|1<<2) // TCP_ESTABLISHED, TCP_SYN_SENT
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	buf := make([]byte, 1<<20)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("sock_diag: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
					}
				}
				return nil
			}
			d := m.Data
			if len(d) < diagMsgLen {
				continue
			}
			// inet_diag_msg: family, state, timer, retrans, then the
			// sockid: sport, dport (big-endian), src[16], dst[16], if,
			// cookie; then expires, rqueue, wqueue, uid, inode.
			id := d[4:52]
			port := binary.BigEndian.Uint16(id[2:4])
			var ip netip.Addr
			if d[0] == syscall.AF_INET {
				ip = netip.AddrFrom4([4]byte(id[20:24]))
			} else {
				ip = netip.AddrFrom16([16]byte(id[20:36])).Unmap()
			}
			if inode := ne.Uint32(d[68:72]); inode != 0 && want[netip.AddrPortFrom(ip, port)] {
				into[strconv.FormatUint(uint64(inode), 10)] = true
			}
		}
	}
}
