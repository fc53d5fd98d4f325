package serverconf

import "syscall"

// sysProcAttr makes the kernel kill redis-server if the test binary dies
// without running its cleanups, so no server outlives the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
