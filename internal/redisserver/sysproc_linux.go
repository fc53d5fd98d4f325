package redisserver

import "syscall"

// sysProcAttr: an attached child gets its own process group, so that
// Ctrl-C reaches only us (we then stop it), and is killed by the kernel if
// we die without stopping it (a `go test -timeout` panic, SIGKILL). A
// detached child (`redsafe up`) gets its own session and outlives us.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
