//go:build unix

package redisserver

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestStop(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{})
	pid := s.Pid()
	s.Stop()
	s.Stop() // idempotent; t.Cleanup calls it a third time
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Error("port still accepts connections after Stop")
	}
	if !s.proc.Exited() {
		t.Error("process not reaped")
	}
	// Reaped, so the pid no longer exists (ESRCH), not even as a zombie.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v, want ESRCH", pid, err)
	}
}
