package bench

import "syscall"

// sysProcAttr makes the kernel kill the local redis-server if this process
// dies without stopping it, so that no server outlives `redsafe bench`,
// and keeps it out of the terminal's process group, so that Ctrl-C reaches
// only `redsafe bench`, which then stops it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
