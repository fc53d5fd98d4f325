package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMoveAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server.key")
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

	if got, err := MoveAside(path, now); got != "" || err != nil {
		t.Fatalf("missing file: %q, %v", got, err)
	}
	for i, want := range []string{"server.key.bak-20261123-093000", "server.key.bak-20261123-093000.1"} {
		if err := os.WriteFile(path, []byte{byte(i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := MoveAside(path, now)
		if err != nil || got != filepath.Join(dir, want) {
			t.Fatalf("MoveAside = %q, %v; want %s", got, err, want)
		}
		b, err := os.ReadFile(got)
		if err != nil || len(b) != 1 || b[0] != byte(i) {
			t.Fatalf("backup content %v, %v", b, err)
		}
		if fi, _ := os.Stat(got); fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup mode %v", fi.Mode())
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatal("original still in place")
		}
	}
}
