package certs

import (
	"fmt"
	"os"
	"path/filepath"
)

// Modes are fixed: keys are secrets, certificates are public.
const (
	KeyFileMode  os.FileMode = 0o600
	CertFileMode os.FileMode = 0o644
)

// WriteKey writes a private key file with mode 0600.
func WriteKey(path string, pemData []byte) error { return writeAtomic(path, pemData, KeyFileMode) }

// WriteCert writes a certificate file with mode 0644.
func WriteCert(path string, pemData []byte) error { return writeAtomic(path, pemData, CertFileMode) }

// writeAtomic writes to a temp file in the target directory and renames it
// over path. Consequences that matter for security:
//   - the temp file is created 0600 and fchmod'ed to mode, so the umask
//     cannot widen or narrow the result and a key is never briefly readable;
//   - a pre-existing file's mode (e.g. a 0644 key) is not inherited, because
//     a new inode replaces it;
//   - a symlink at path is replaced, never followed, so the write cannot be
//     redirected to another file;
//   - readers see either the old or the new content, never a partial file.
func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("certs: %s is a directory", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	// Persist the rename itself; best effort, as not every FS supports it.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
