package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// Services read REDIS_PASSWORD_FILE for every new connection: while
// rotate-password writes the new password, the file must never be missing
// (a reader would fail to connect), and the old one is kept as a backup.
func TestPasswordFileWriteNeverRemovesThePath(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	path := filepath.Join(dir, "app.password")
	if err := os.WriteFile(path, []byte("old-password-old-password-old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stop, missing, reads atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for stop.Load() == 0 {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				missing.Add(1)
			}
			reads.Add(1)
		}
	}()
	p := passwordFile{path: path}
	var last string
	for i := range 200 {
		last = strings.Repeat(string(rune('a'+i%26)), 32)
		if _, err := p.write(last); err != nil {
			stop.Store(1)
			<-done
			t.Fatal(err)
		}
	}
	stop.Store(1)
	<-done
	if n := missing.Load(); n > 0 {
		t.Fatalf("the password file was missing for %d of %d reads during 200 writes", n, reads.Load())
	}
	if got, err := secretfile.ReadLine(path, secretfile.Owned); err != nil || got != last {
		t.Fatalf("after the writes: %q, %v", got, err)
	}
	baks, _ := filepath.Glob(path + ".bak-*")
	if len(baks) != 200 {
		t.Fatalf("%d backups, want 200", len(baks))
	}
	for _, b := range baks {
		if fi, err := os.Lstat(b); err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
			t.Fatalf("backup %s: %v, %v", b, fi, err)
		}
	}
}
