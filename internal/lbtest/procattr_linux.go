package lbtest

import "syscall"

// sysProcAttr makes the kernel kill haproxy when the test binary dies
// without stopping it (a panic, a timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
