//go:build unix && !linux

package redisserver

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; Stop, the context and
// t.Cleanup still stop attached children on every normal exit path.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}
