// Package localredis runs the redis-server that `redsafe up` owns: started
// in the background from a directory's redis.conf, found again through its
// pid file, and stopped by `redsafe down`.
package localredis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is the redis-server of one directory. Its redis.conf must set
// daemonize yes, pidfile PidFile, logfile LogFile and dir Dir.
type Server struct {
	Dir     string // absolute
	Conf    string
	PidFile string
	LogFile string
}

// In returns the server whose files live in dir.
func In(dir string) (Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Server{}, err
	}
	return Server{
		Dir:     abs,
		Conf:    filepath.Join(abs, "redis.conf"),
		PidFile: filepath.Join(abs, "redis.pid"),
		LogFile: filepath.Join(abs, "redis.log"),
	}, nil
}

// ErrNotInstalled is returned when redis-server cannot be found.
var ErrNotInstalled = errors.New("redis-server is not installed")

// Binary finds redis-server and checks that it was built with TLS.
func Binary() (string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("%w: install it with `sudo apt-get install redis-server` (Debian, Ubuntu), `sudo dnf install redis` (Fedora) or `brew install redis` (macOS)", ErrNotInstalled)
	}
	// Builds without TLS are rare but exist; ldd tells without starting one.
	if out, err := exec.Command("ldd", path).Output(); err == nil && !bytes.Contains(out, []byte("libssl")) {
		return "", fmt.Errorf("%s was built without TLS: install your distribution's redis-server package, or build Redis with BUILD_TLS=yes", path)
	}
	return path, nil
}

// Pid returns the pid of this directory's running server. A stale pid file,
// or one whose pid now belongs to another process, reports not running.
func (s Server) Pid() (int, bool) {
	b, err := ReadSmall(s.PidFile, 64)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	// Pids are reused: make sure it is a redis-server working in our
	// directory before anyone signals it.
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if !strings.HasPrefix(string(comm), "redis-server") || cwd != s.Dir {
			return 0, false
		}
	}
	return pid, true
}

// Start launches redis-server with the directory's redis.conf and waits
// until ready reports nil, or ctx ends. On failure the error includes the
// end of the log.
func (s Server) Start(ctx context.Context, ready func(context.Context) error) error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	// redis-server opens its pid and log files by name and follows links:
	// a link planted there would have it write wherever the link points.
	for _, p := range []string{s.PidFile, s.LogFile} {
		if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (%v); redis-server would write through it: remove it", p, fi.Mode().Type())
		}
	}
	os.Remove(s.PidFile)
	cmd := exec.CommandContext(ctx, bin, s.Conf)
	cmd.Dir = s.Dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	// redis-server creates users.acl (ACL SAVE rewrites it), the RDB file,
	// the pid and the log with the umask it inherits: 077 keeps the ACL's
	// hashes and the data private. The umask is the process's, and nothing
	// else creates files while the server forks.
	old := syscall.Umask(0o077)
	err = cmd.Run() // daemonize yes: returns once forked
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("redis-server did not start: %v\n%s%s", err, strings.TrimSpace(stderr.String()), s.logTail())
	}
	var last error
	for {
		if _, running := s.Pid(); running {
			if last = ready(ctx); last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("redis-server is not ready: %v%s", last, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM, waits for the process to exit, and uses SIGKILL if it
// has not within the context. It reports whether a server was running.
func (s Server) Stop(ctx context.Context) (bool, error) {
	pid, running := s.Pid()
	if !running {
		os.Remove(s.PidFile) // stale
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
	os.Remove(s.PidFile)
	return true, nil
}

func (s Server) logTail() string {
	b, err := readTail(s.LogFile, 64<<10)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\nlast lines of " + s.LogFile + ":\n  " + strings.Join(lines, "\n  ")
}

// ReadSmall reads a file of the directory that is at most max bytes, never
// through a link: a planted link to /dev/zero or a huge file cannot make
// redsafe read without end.
func ReadSmall(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, err
}

// readTail reads the last max bytes of a regular file, never through a link.
func readTail(path string, max int64) ([]byte, error) {
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
