package secretfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCreateMode(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, tc := range []struct {
		create func(string, []byte) error
		mode   os.FileMode
	}{{Create, 0o600}, {CreatePublic, 0o644}} {
		path := filepath.Join(dir, tc.mode.String())
		if err := tc.create(path, []byte("secret\n")); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tc.mode {
			t.Fatalf("mode %04o, want %04o", fi.Mode().Perm(), tc.mode)
		}
		if b, _ := os.ReadFile(path); string(b) != "secret\n" {
			t.Fatalf("content %q", b)
		}
	}
}

func TestCreateRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Create(path, []byte("new"))
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Create over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("existing file changed to %q", b)
	}
}

// A link planted at the path, to an existing file or dangling, is refused
// and the file it points to is untouched (or not created).
func TestCreateRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	for _, create := range []func(string, []byte) error{Create, CreatePublic} {
		for _, target := range []string{victim, filepath.Join(dir, "dangling")} {
			link := filepath.Join(dir, "link")
			os.Remove(link)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			err := create(link, []byte("attacker"))
			if err == nil || !strings.Contains(err.Error(), "is a symbolic link; refusing to write through it") {
				t.Fatalf("create through a link to %s: %v", target, err)
			}
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim changed to %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "dangling")); !os.IsNotExist(err) {
		t.Fatal("a dangling link's target was created")
	}
}

func TestReplaceDoesNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	link := filepath.Join(dir, "server.key")
	os.Symlink(victim, link)
	if err := Replace(link, []byte("new"), Mode); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim changed to %q", b)
	}
	fi, err := os.Lstat(link)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != Mode {
		t.Fatalf("Replace left %v, %v", fi, err)
	}
}

func TestOpenOutputRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	link := filepath.Join(dir, "chart.png")
	os.Symlink(victim, link)
	if _, err := OpenOutput(link); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("OpenOutput through a link: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim changed to %q", b)
	}
	// An existing regular file is overwritten: each run replaces its chart.
	f, err := OpenOutput(victim)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	f.Close()
	if b, _ := os.ReadFile(victim); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
}

// A FIFO planted at the chart's path is refused without hanging, and a
// hard link to someone's file is refused before anything is truncated.
func TestOpenOutputRefusesFIFOsAndHardLinks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := OpenOutput(fifo)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo+" is not a regular file") {
			t.Fatalf("OpenOutput on a FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		r, _ := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0) // unblock the open
		<-done
		r.Close()
		t.Fatal("OpenOutput on a FIFO hangs")
	}
	// With a reader the open succeeds: the fstat check refuses it.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if f, err := OpenOutput(fifo); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		f.Close()
		t.Fatalf("OpenOutput on a FIFO with a reader: %v", err)
	}
	// A character device is written to as it is (only root can create one).
	if f, err := OpenOutput("/dev/null"); err != nil {
		t.Fatalf("OpenOutput on /dev/null: %v", err)
	} else {
		f.Close()
	}

	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "chart.png")
	if err := os.Link(victim, link); err != nil {
		t.Fatal(err)
	}
	if f, err := OpenOutput(link); err == nil || !strings.Contains(err.Error(), "has 2 hard links") {
		f.Close()
		t.Fatalf("OpenOutput on a hard link: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim changed to %q", b)
	}
}
