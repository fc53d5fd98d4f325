package redistest

import "syscall"

// sysProcAttr makes the kernel kill redis-server if the test binary dies
// without running cleanups (e.g. a `go test -timeout` panic), so no orphan
// servers outlive the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
