package redisserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// readyMarker is logged by redis 6/7 once all listeners are bound;
// sentinelReadyMarker by a Sentinel, which logs no readyMarker, once it
// has loaded its configuration and bound its listeners.
const (
	readyMarker         = "Ready to accept connections"
	sentinelReadyMarker = "Sentinel ID is"
)

// ErrPortInUse is returned by Launch when redis could not bind its port:
// the caller picks another (FreePorts) or tells the operator.
var ErrPortInUse = errors.New("port already in use")

// umaskMu serialises the umask change around each start.
var umaskMu sync.Mutex

// Launch describes one redis-server process.
type Launch struct {
	Binary  string // "" => RedisServer()
	Dir     string // working directory
	Conf    string // redis.conf (secrets stay in it, never on argv)
	LogFile string // the conf's logfile; "" => it logs to stdout
	// Ready is the end-to-end probe (e.g. an authenticated PING over TLS),
	// polled once the process has logged readiness. nil => none.
	Ready func(ctx context.Context) error
	// Timeout bounds the readiness wait; 0 => 10 s.
	Timeout time.Duration
	// Detach lets the process outlive this one (`redsafe up`): its own
	// session, no parent-death signal, and ctx bounds only the start.
	// Otherwise the process is stopped when ctx ends.
	Detach bool
	// Sentinel runs it as a Redis Sentinel (--sentinel); Conf must then be
	// writable, as a Sentinel rewrites it with what it learns.
	Sentinel bool
}

// Process is one redis-server child of this process.
type Process struct {
	cmd     *exec.Cmd
	logFile string
	out     *tailBuffer   // stdout+stderr: config errors appear here, not in the log
	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done
	stopped chan struct{} // closed when Stop was asked for
	once    sync.Once
	marker  string // what its log says once it is ready
}

// Launch starts redis-server and returns once it is ready. Redis is told
// `--daemonize no` whatever its file says, so that its pid stays ours. On
// failure the process is stopped and the error carries the log tail;
// errors.Is(err, ErrPortInUse) when the port was taken.
func (l Launch) Start(ctx context.Context) (*Process, error) {
	bin := l.Binary
	if bin == "" {
		var err error
		if bin, err = RedisServer(); err != nil {
			return nil, err
		}
	}
	if l.LogFile != "" {
		// So that the tail and the ready marker are this start's: an old
		// "Ready" line left in place would pass for this one's.
		if err := os.Remove(l.LogFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cannot clear the old log: %w", err)
		}
	}
	p := &Process{logFile: l.LogFile, out: &tailBuffer{max: 64 << 10}, done: make(chan struct{}), stopped: make(chan struct{}), marker: readyMarker}
	args := []string{l.Conf, "--daemonize", "no"}
	if l.Sentinel {
		args = append(args, "--sentinel")
		p.marker = sentinelReadyMarker
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = l.Dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = sysProcAttr(l.Detach)
	// Once the process has exited, stop waiting for its output after 2 s: a
	// forked child (BGSAVE) holding the pipe must not keep Wait, and so
	// Stop, from returning.
	p.cmd.WaitDelay = 2 * time.Second
	// redis-server creates its pid, log, ACL and data files with the umask
	// it inherits: 077 keeps them private. The umask is process-wide:
	// umaskMu keeps concurrent starts from restoring each other's.
	umaskMu.Lock()
	old := syscall.Umask(0o077)
	err := p.cmd.Start()
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("redis-server did not start: %w", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	if !l.Detach {
		context.AfterFunc(ctx, p.Stop)
	}
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := p.waitReady(rctx, l.Ready); err != nil {
		p.Stop()
		if strings.Contains(p.LogTail(50), "Address already in use") {
			err = fmt.Errorf("%w: %v", ErrPortInUse, err)
		}
		return nil, fmt.Errorf("%w%s", err, indent(p.LogTail(15)))
	}
	return p, nil
}

// waitReady first waits for our own process to log readiness (so a PONG can
// never come from another server that won a race for the port), then polls
// ready, the end-to-end probe.
func (p *Process) waitReady(ctx context.Context, ready func(context.Context) error) error {
	var last error
	for {
		if p.Exited() {
			return fmt.Errorf("redis-server exited during start: %v", p.waitErr)
		}
		if strings.Contains(p.log(), p.marker) {
			if ready == nil {
				return nil
			}
			if last = ready(ctx); last == nil {
				return nil
			}
			var perm permanent
			if errors.As(last, &perm) {
				return perm.error
			}
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("redis-server is not ready: %v", last)
		case <-p.done:
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// log is what this process has logged so far (bounded).
func (p *Process) log() string {
	if p.logFile == "" {
		return p.out.String()
	}
	b, _ := ReadTail(p.logFile, 64<<10)
	return string(b)
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Crashed reports an exit that Stop did not ask for, with its log tail,
// or nil while the process runs or after Stop.
func (p *Process) Crashed() error {
	select {
	case <-p.stopped:
		return nil
	default:
	}
	if !p.Exited() {
		return nil
	}
	return fmt.Errorf("redis-server (pid %d) exited on its own: %v%s", p.Pid(), p.waitErr, indent(p.LogTail(15)))
}

// Stop terminates the process by its own pid (SIGTERM, then SIGKILL after
// 5 s) and waits until it is reaped. Idempotent and safe for concurrent use.
func (p *Process) Stop() { p.end(syscall.SIGTERM) }

// Kill ends the process by its own pid with SIGKILL, as a crash would (no
// shutdown, no final save, its connections reset), and waits until it is
// reaped. It counts as asked for: Crashed stays nil. Stop after it, or
// Kill after Stop, only waits; safe for concurrent use.
func (p *Process) Kill() { p.end(syscall.SIGKILL) }

// end sends sig once, the first time Stop or Kill is called, then SIGKILL
// should the process outlive stopGrace; every call waits for the reaping.
func (p *Process) end(sig syscall.Signal) {
	p.once.Do(func() {
		close(p.stopped)
		if p.Exited() {
			return
		}
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	<-p.done
}

// LogTail returns the last n lines of the log and of what redis printed to
// stdout/stderr (config errors are reported there).
func (p *Process) LogTail(n int) string {
	out := ""
	if p.logFile != "" {
		out = tail(p.log(), n)
	}
	if o := strings.TrimSpace(p.out.String()); o != "" {
		if out != "" {
			out += "\n--- stdout/stderr ---\n"
		}
		out += tail(o, n)
	}
	return out
}

func indent(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return "\n  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// tailBuffer keeps the last max bytes written to it: exec's copying
// goroutine writes while readers read.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ReadTail reads the last max bytes of a regular file, never through a
// link: the one bounded log reader.
func ReadTail(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > max {
		if _, err := f.Seek(fi.Size()-max, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// permanent marks a probe error that waiting will not fix.
type permanent struct{ error }

// Permanent wraps a Ready error to end the readiness poll at once (a TLS
// or AUTH failure) instead of retrying until the timeout.
func Permanent(err error) error { return permanent{err} }
