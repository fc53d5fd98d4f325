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

// Kill ends the server at once by SIGKILL (its exit status says so), waits
// for the reaping, is not reported as a crash, and leaves Stop nothing to
// do.
func TestKill(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{})
	pid := s.Pid()
	s.Kill()
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Error("port still accepts connections after Kill")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v, want ESRCH", pid, err)
	}
	if ws, ok := s.proc.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("exit status %v, want killed by SIGKILL", s.proc.cmd.ProcessState)
	}
	if err := s.proc.Crashed(); err != nil {
		t.Errorf("a Kill asked for is reported as a crash: %v", err)
	}
	s.Stop()
	s.Kill()
}
