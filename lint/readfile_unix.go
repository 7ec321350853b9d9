//go:build unix

package lint

import (
	"io/fs"
	"syscall"

	"github.com/bgmigrate/bgmigrate/parser"
)

// readFile reads a whole migration into buf, grown as needed, with four
// system calls: open, fstat, one read of the size fstat gave, close.
// os.ReadFile also offers each descriptor to the network poller, which
// refuses regular files: four fcntl calls and a failing epoll_ctl that
// doubled the system calls per file and cost a tenth of a corpus run; and
// it reads until a read returns nothing, one more call per file.
//
// Only a regular file is read. The open does not block, so a named pipe
// without a writer cannot hold the run, and fstat refuses it, or a device
// such as /dev/zero that never ends, before the first read. A file that
// grows while it is read is read up to the size fstat gave, and one for
// which fstat gives no size (as those of /proc) to its end; a file of
// more than parser.MaxInput bytes is refused either way.
func readFile(name string, buf []byte) ([]byte, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	if typ := fileType(uint32(st.Mode)); typ != 0 {
		return nil, &parser.NotRegularError{Mode: typ}
	}
	if st.Size > parser.MaxInput {
		return nil, &parser.TooLargeError{}
	}
	// A file is read up to the size fstat gave, with one read when the
	// buffer holds it; without a size, until a read returns nothing.
	size, limit := int(st.Size), int(st.Size)
	if size == 0 {
		limit = parser.MaxInput + 1
	}
	if c := max(size, 512); cap(buf) < c {
		buf = make([]byte, 0, c)
	}
	buf = buf[:0]
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(fd, buf[len(buf):min(cap(buf), limit)]) })
		if err == syscall.EAGAIN {
			// A regular file may honour O_NONBLOCK one day (see open(2)).
			if err := syscall.SetNonblock(fd, false); err != nil {
				return nil, &fs.PathError{Op: "read", Path: name, Err: err}
			}
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
	if len(buf) > parser.MaxInput {
		return nil, &parser.TooLargeError{}
	}
	return buf, nil
}

// fileType is the fs.FileMode type of a stat mode, 0 for a regular file.
func fileType(mode uint32) fs.FileMode {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return 0
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}

func ignoringEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
