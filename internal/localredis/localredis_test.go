package localredis

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// redis-server opens its log and pid file by name and follows links (it
// appends its log to whatever redis.log points to): Start refuses a link
// there before the server is launched.
func TestStartRefusesLinkedPidAndLog(t *testing.T) {
	if _, err := Binary(); err != nil {
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
		os.WriteFile(s.Conf, []byte("port 0\ndaemonize yes\n"), 0o644)
		err = s.Start(context.Background(), func(context.Context) error { return nil })
		if err == nil || !strings.Contains(err.Error(), name+" is not a regular file") {
			t.Fatalf("%s as a link: %v", name, err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious" {
			t.Fatalf("victim changed to %q", b)
		}
	}
}

func TestReadSmallIsBoundedAndNoFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "redis.pid")
	os.WriteFile(p, []byte("123\n"), 0o644)
	if b, err := ReadSmall(p, 64); err != nil || string(b) != "123\n" {
		t.Fatalf("ReadSmall = %q, %v", b, err)
	}
	link := filepath.Join(dir, "link.pid")
	os.Symlink("/dev/zero", link)
	if _, err := ReadSmall(link, 64); err == nil {
		t.Fatal("ReadSmall followed a link to /dev/zero")
	}
	if _, err := ReadSmall("/dev/zero", 64); err == nil {
		t.Fatal("ReadSmall read a device")
	}
	os.WriteFile(p, make([]byte, 65), 0o644)
	if _, err := ReadSmall(p, 64); err == nil || !strings.Contains(err.Error(), "larger than 64 bytes") {
		t.Fatalf("65 bytes: %v", err)
	}
}
