package redistest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long redis gets to exit after SIGTERM before SIGKILL.
// With persistence off it normally exits in milliseconds.
const stopGrace = 5 * time.Second

// proc is one redis-server child process.
type proc struct {
	cmd     *exec.Cmd
	out     *LockedBuffer // stdout+stderr: config errors appear here, not in the log
	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done
	once    sync.Once
}

// startProc runs "redis-server <conf>": secrets stay in the 0600 config
// file, never on argv where any local user could read them via ps.
func startProc(bin, conf, dir string) (*proc, error) {
	p := &proc{out: &LockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, conf)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop terminates the process and waits until it is reaped. Idempotent and
// safe for concurrent use.
func (p *proc) stop() {
	p.once.Do(func() {
		if p.exited() {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	<-p.done
}

// LockedBuffer collects a process's output: exec's copying goroutine writes
// it while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
