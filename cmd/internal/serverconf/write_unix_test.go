//go:build unix

package serverconf

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteModesIgnoreUmask: the modes are exact whatever the umask, so a
// permissive umask never widens a secret and a strict one never hides the
// public files from the container's user. Not parallel: the umask belongs
// to the whole process, and parallel tests only start once the sequential
// ones are done.
func TestWriteModesIgnoreUmask(t *testing.T) {
	for _, mask := range []int{0, 0o077, 0o027} {
		old := syscall.Umask(mask)
		dir := filepath.Join(t.TempDir(), "deploy")
		files := testFiles(t)
		written, err := Write(dir, files, false, writeTime)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		assertWritten(t, dir, true, files, written)
	}
}
