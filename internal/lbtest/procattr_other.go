//go:build !linux

package lbtest

import "syscall"

// sysProcAttr: only Linux can kill haproxy when the test binary dies.
func sysProcAttr() *syscall.SysProcAttr { return nil }
