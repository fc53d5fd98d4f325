package redisserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// redis-server opens its log and pid file by name and follows links (it
// appends its log to whatever redis.log points to): Start refuses a link
// there before the server is launched.
func TestStartRefusesLinkedPidAndLog(t *testing.T) {
	if _, err := RedisServer(); err != nil {
		t.Skip(err)
	}
	for _, name := range []string{"redis.log", "redis.pid"} {
		dir := t.TempDir()
		s, err := In(dir)
		if err != nil {
			t.Fatal(err)
		}
		victim := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(victim, []byte("precious"), 0o644)
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(s.Conf, []byte("port 0\n"), 0o644)
		_, err = s.Start(context.Background(), func(context.Context) error { return nil })
		if err == nil || !strings.Contains(err.Error(), name+" is not a regular file") {
			t.Fatalf("%s as a link: %v", name, err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious" {
			t.Fatalf("victim changed to %q", b)
		}
	}
}

// A detached server outlives the context that bounded its start, is found
// again through its pid file, and Dir.Stop stops exactly that pid. A pid
// file naming a process that is not this directory's redis-server (here,
// the test itself) is never trusted.
func TestDetachedServerFoundAndStoppedByDir(t *testing.T) {
	RedisServerPath(t)
	d, err := In(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	conf := "port " + itoa(ports[0]) + "\nbind 127.0.0.1\nsave \"\"\npidfile " + d.PidFile + "\nlogfile " + d.LogFile + "\n"
	if err := os.WriteFile(d.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	p, err := d.Start(ctx, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(p.Stop) // only if the assertions below fail first
	cancel()
	time.Sleep(100 * time.Millisecond)
	pid, running := d.Pid()
	if !running || pid != p.Pid() || p.Exited() {
		t.Fatalf("after the start context ended: Pid() = %d, %v; launched %d (exited %v)", pid, running, p.Pid(), p.Exited())
	}
	// Named through a link (`redsafe up --dir link`), it is the same server:
	// the kernel reports the resolved working directory.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(d.Dir, link); err != nil {
		t.Fatal(err)
	}
	viaLink, _ := In(link)
	if pid, running := viaLink.Pid(); !running || pid != p.Pid() {
		t.Errorf("through a link: Pid() = %d, %v; want %d", pid, running, p.Pid())
	}
	stopped, err := d.Stop(context.Background())
	if !stopped || err != nil {
		t.Fatalf("Stop = %v, %v", stopped, err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Dir.Stop did not stop the launched pid")
	}

	// A pid file naming another live process.
	os.WriteFile(d.PidFile, []byte(itoa(os.Getpid())+"\n"), 0o600)
	if pid, running := d.Pid(); running {
		t.Fatalf("Pid() trusted a pid file naming the test process (%d)", pid)
	}
	if stopped, _ := d.Stop(context.Background()); stopped {
		t.Fatal("Stop signalled a process that is not this directory's server")
	}
	// Nor does a start delete the pid file of a live process.
	os.WriteFile(d.PidFile, []byte(itoa(os.Getpid())+"\n"), 0o600)
	if _, err := d.Start(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "which is running") {
		t.Fatalf("Start over a pid file naming a live process: %v", err)
	}
	if b, _ := os.ReadFile(d.PidFile); strings.TrimSpace(string(b)) != itoa(os.Getpid()) {
		t.Fatalf("the pid file was changed to %q", b)
	}
}
