package backup

import (
	"os"
	"path/filepath"
	"slices"
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

// A link at path is moved aside as a link: rename never follows it, so the
// file it points to is neither moved nor changed; a planted name at the
// backup path is skipped, not replaced.
func TestMoveAsideNeverFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	path := filepath.Join(dir, "app.password")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	planted := path + ".bak-20261202-160000"
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	got, err := MoveAside(path, now)
	if err != nil || got != planted+".1" {
		t.Fatalf("MoveAside = %q, %v; want %s.1", got, err, planted)
	}
	if fi, err := os.Lstat(got); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("backup is not the link itself: %v, %v", fi, err)
	}
	if fi, err := os.Lstat(planted); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the planted name was replaced")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim changed to %q", b)
	}
}

// LinkAside keeps path in place (readers never find it missing) and the
// backup is the same file, mode included.
func TestLinkAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.password")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bak, err := LinkAside(path, time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC))
	if err != nil || bak != path+".bak-20261123-093000" {
		t.Fatalf("LinkAside = %q, %v", bak, err)
	}
	for _, p := range []string{path, bak} {
		b, err := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if err != nil || string(b) != "old\n" || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %q, %v, %v", p, b, fi, err)
		}
	}
}

// TestExisting: a file and a dangling symbolic link exist (writing through
// the link would create its target), a missing file does not, and a path
// named twice is reported once.
func TestExisting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(file, []byte("cert"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ca.key")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), link); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "server.crt")

	got, err := Existing([]string{missing, file, link, file})
	if want := []string{file, link}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Existing = %q, %v; want %q", got, err, want)
	}
	if got, err := Existing([]string{missing}); err != nil || len(got) != 0 {
		t.Errorf("Existing(missing) = %q, %v", got, err)
	}
	// A path that cannot be looked at is an error, not "missing".
	if _, err := Existing([]string{filepath.Join(file, "below")}); err == nil {
		t.Error("Existing(a path below a file) returned no error")
	}

	e := &ExistsError{Paths: got}
	if want := "already exist: " + file + ", " + link; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}
