package redisserver

import (
	"context"
	"fmt"
	"github.com/redsafe/redsafe/internal/secretfile"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Dir is the directory of a detached server (`redsafe up`): its redis.conf,
// pid file and log. A later command finds the process again through the pid
// file, and signals it only once the pid is proven to be a redis-server
// working in this directory.
type Dir struct {
	Dir     string // absolute
	Conf    string
	PidFile string
	LogFile string
	// Sentinel runs Conf as a Redis Sentinel (SentinelIn).
	Sentinel bool
}

// In returns the server whose files live in dir.
func In(dir string) (Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Dir{}, err
	}
	return Dir{
		Dir:     abs,
		Conf:    filepath.Join(abs, "redis.conf"),
		PidFile: filepath.Join(abs, "redis.pid"),
		LogFile: filepath.Join(abs, "redis.log"),
	}, nil
}

// SentinelIn returns the Sentinel whose files live in dir: sentinel.conf,
// which the Sentinel rewrites with what it learns, its pid file and log.
func SentinelIn(dir string) (Dir, error) {
	d, err := In(dir)
	if err != nil {
		return Dir{}, err
	}
	d.Conf = filepath.Join(d.Dir, "sentinel.conf")
	d.PidFile = filepath.Join(d.Dir, "sentinel.pid")
	d.LogFile = filepath.Join(d.Dir, "sentinel.log")
	d.Sentinel = true
	return d, nil
}

// Pid returns the pid of this directory's running server. A stale pid file,
// or one whose pid now belongs to another process, reports not running.
func (d Dir) Pid() (int, bool) {
	pid, live := d.pidFileLive()
	if !live {
		return 0, false
	}
	// Pids are reused: only a redis-server working in our directory is
	// ours. What cannot be proven (no /proc, another program) is not: a
	// pid file must never lead to signalling a stranger.
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(string(comm), "redis-server") {
		return 0, false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil || cwd != d.resolved() {
		return 0, false
	}
	return pid, true
}

// resolved is Dir with its links resolved, as the kernel reports a
// process's working directory.
func (d Dir) resolved() string {
	if r, err := filepath.EvalSymlinks(d.Dir); err == nil {
		return r
	}
	return d.Dir
}

// pidFileLive reports the pid a pid file names when that process is alive,
// ours or not.
func (d Dir) pidFileLive() (int, bool) {
	b, err := secretfile.ReadPublic(d.PidFile, 64, false)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0 && syscall.Kill(pid, 0) == nil
}

// Start launches the directory's redis.conf detached, so that it outlives
// this process, and returns once ready reports nil. ctx bounds the start;
// on failure (ctx ended, crash, port taken) the process is stopped and the
// error carries the log tail.
func (d Dir) Start(ctx context.Context, ready func(context.Context) error) (*Process, error) {
	// redis-server opens its pid and log files by name and follows links:
	// a link planted there would have it write wherever the link points.
	for _, p := range []string{d.PidFile, d.LogFile} {
		if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file (%v); redis-server would write through it: remove it", p, fi.Mode().Type())
		}
	}
	// A live process in the pid file may be this directory's server that
	// Pid could not prove ours: never delete its pid file and log.
	if pid, live := d.pidFileLive(); live {
		return nil, fmt.Errorf("%s names pid %d, which is running: stop it with `redsafe down`, or remove the pid file if that process is not this directory's redis-server", d.PidFile, pid)
	}
	os.Remove(d.PidFile)
	timeout := time.Hour // ctx bounds the start
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	return Launch{Dir: d.Dir, Conf: d.Conf, LogFile: d.LogFile, Ready: ready, Timeout: timeout, Detach: true, Sentinel: d.Sentinel}.Start(ctx)
}

// Stop sends SIGTERM to the pid the directory's pid file names (once proven
// ours, see Pid), waits for it to exit, and uses SIGKILL if it has not
// within ctx. It reports whether a server was running.
func (d Dir) Stop(ctx context.Context) (bool, error) {
	pid, running := d.Pid()
	if !running {
		if _, live := d.pidFileLive(); !live {
			os.Remove(d.PidFile) // stale
		}
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return true, err
	}
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			syscall.Kill(pid, syscall.SIGKILL)
			time.Sleep(100 * time.Millisecond)
			if syscall.Kill(pid, 0) == nil {
				return true, fmt.Errorf("redis-server (pid %d) did not exit", pid)
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
	os.Remove(d.PidFile)
	return true, nil
}
