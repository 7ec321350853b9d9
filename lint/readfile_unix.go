//go:build unix

package lint

import (
	"io/fs"
	"syscall"
)

// readFile reads a whole migration into buf, grown as needed, with four
// system calls: open, fstat, one read of the size fstat gave, close.
// os.ReadFile also offers each descriptor to the network poller, which
// refuses regular files: four fcntl calls and a failing epoll_ctl that
// doubled the system calls per file and cost a tenth of a corpus run; and
// it reads until a read returns nothing, one more call per file.
func readFile(name string, buf []byte) ([]byte, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	size := 0
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil && st.Size > 0 {
		size = int(st.Size)
	}
	// One byte more than the size, so that the read reaching the end of
	// the file needs no larger buffer.
	if cap(buf) < size+1 {
		buf = make([]byte, 0, size+1)
	}
	buf = buf[:0]
	for {
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(fd, buf[len(buf):cap(buf)]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == size && size > 0 {
			return buf, nil // all fstat announced: a regular file ends here
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // the file grew
		}
	}
}

func ignoringEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
