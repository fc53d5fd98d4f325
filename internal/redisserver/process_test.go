package redisserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A child that dies is reported with its own log tail, not a timeout.
func TestCrashReportedWithLogTail(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{})
	if err := s.proc.Crashed(); err != nil {
		t.Fatalf("running server reported as crashed: %v", err)
	}
	syscall.Kill(s.Pid(), syscall.SIGKILL)
	<-s.proc.Done()
	err := s.proc.Crashed()
	if err == nil || !strings.Contains(err.Error(), "exited on its own") || !strings.Contains(err.Error(), readyMarker) {
		t.Fatalf("Crashed() = %v, want the exit and the log tail", err)
	}
}

// A config redis refuses fails Start at once with redis's own words.
func TestBadConfigFailsFastWithTail(t *testing.T) {
	t.Parallel()
	bin := RedisServerPath(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	os.WriteFile(conf, []byte("port 0\nno-such-directive yes\n"), 0o600)
	start := time.Now()
	_, err := Launch{Binary: bin, Dir: dir, Conf: conf}.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no-such-directive") {
		t.Fatalf("err = %v, want the config error from redis", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// The end of Launch's context stops an attached child, by its own pid only.
func TestContextEndStopsOnlyOwnPid(t *testing.T) {
	t.Parallel()
	other := Start(t, Config{NoAuth: true})
	s := Start(t, Config{NoAuth: true})
	ctx, cancel := context.WithCancel(context.Background())
	// A second server on s's port, logging to a file of its own.
	taken := filepath.Join(t.TempDir(), "taken.conf")
	takenLog := filepath.Join(filepath.Dir(taken), "taken.log")
	os.WriteFile(taken, []byte("port "+itoa(s.Port)+"\nbind 127.0.0.1\nsave \"\"\nlogfile "+takenLog+"\n"), 0o600)
	p, err := Launch{Dir: filepath.Dir(taken), Conf: taken, LogFile: takenLog}.Start(ctx)
	if !errors.Is(err, ErrPortInUse) {
		// s holds the port; a second server on the same conf must fail to bind.
		if p != nil {
			p.Stop()
		}
		t.Fatalf("second server on a taken port: %v, want ErrPortInUse", err)
	}
	cancel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	ports, _ := FreePorts(1)
	os.WriteFile(conf, []byte("port "+itoa(ports[0])+"\nbind 127.0.0.1\nsave \"\"\n"), 0o600)
	ctx, cancel = context.WithCancel(context.Background())
	p, err = Launch{Dir: dir, Conf: conf}.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("context end did not stop the process")
	}
	if p.Crashed() != nil {
		t.Errorf("a stop asked for is reported as a crash: %v", p.Crashed())
	}
	for _, x := range []*Server{other, s} {
		if syscall.Kill(x.Pid(), 0) != nil {
			t.Errorf("pid %d was stopped too", x.Pid())
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
