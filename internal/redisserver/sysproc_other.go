//go:build unix && !linux

package redisserver

import "syscall"

// sysProcAttr: no parent-death signal outside Linux, so an attached child
// stays in our process group: a Ctrl-C at the terminal reaches it too, and
// Stop, the context and t.Cleanup stop it on every other exit path.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return nil
}
