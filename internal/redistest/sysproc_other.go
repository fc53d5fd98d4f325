//go:build !linux

package redistest

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; t.Cleanup still stops
// servers on every normal exit path.
func sysProcAttr() *syscall.SysProcAttr { return nil }
