package secretfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPublicIsBoundedAndNoFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "redis.pid")
	os.WriteFile(p, []byte("123\n"), 0o644)
	if b, err := ReadPublic(p, 64, false); err != nil || string(b) != "123\n" {
		t.Fatalf("ReadPublic = %q, %v", b, err)
	}
	link := filepath.Join(dir, "link.pid")
	os.Symlink("/dev/zero", link)
	if _, err := ReadPublic(link, 64, false); err == nil {
		t.Fatal("ReadPublic followed a link to /dev/zero")
	}
	if _, err := ReadPublic(link, 64, true); err == nil {
		t.Fatal("ReadPublic, following links, read the device a link names")
	}
	if _, err := ReadPublic("/dev/zero", 64, true); err == nil {
		t.Fatal("ReadPublic read a device")
	}
	os.WriteFile(p, make([]byte, 65), 0o644)
	if _, err := ReadPublic(p, 64, false); err == nil || !strings.Contains(err.Error(), "larger than 64 bytes") {
		t.Fatalf("65 bytes: %v", err)
	}
}
