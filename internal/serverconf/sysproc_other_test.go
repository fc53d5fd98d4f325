//go:build !linux

package serverconf

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
