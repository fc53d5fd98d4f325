// Package secretfile is the one way redsafe writes and reads files that
// hold secrets (keys, passwords, env files) and the certificates beside
// them.
//
// Writes never follow a symbolic link: a link planted at the target is
// refused (Create, CreatePublic) or replaced as a name (Replace), never
// written through. Secret files are created 0600 and certificates 0644 from
// the first byte, whatever the umask.
//
// Reads (Read, ReadLine) open the file once and check what was opened (its
// owner, mode and size, through fstat on the open descriptor, so there is
// no window between the check and the read) and the directories it lives
// in, so that a secret another user wrote or can read is never adopted.
package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Mode is the permission of every secret file: keys, passwords, env files.
const Mode fs.FileMode = 0o600

// PublicMode is the permission of certificates and other public files.
const PublicMode fs.FileMode = 0o644

// Create writes data to a new file at path with mode 0600. It refuses to
// replace an existing file, so a key is never lost by accident, and refuses
// a symbolic link at path, so the write cannot be redirected.
func Create(path string, data []byte) error { return create(path, data, Mode) }

// CreatePublic is Create for certificates and configuration: mode 0644.
func CreatePublic(path string, data []byte) error { return create(path, data, PublicMode) }

func create(path string, data []byte, mode fs.FileMode) error {
	// O_EXCL fails on any existing name, a dangling link included; O_NOFOLLOW
	// says so explicitly for the systems where O_EXCL alone would not.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, mode)
	if errors.Is(err, fs.ErrExist) || isLinkError(err) {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; refusing to write through it: remove the link (`rm %s`) and run again", path, path)
		}
		return fmt.Errorf("%s already exists; choose another path or move it away first", path)
	}
	if err != nil {
		return err
	}
	if err := fill(f, data, mode); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// fill sets the exact mode (the umask may have narrowed it, never widened
// it), writes data and syncs it to disk, and closes f.
func fill(f *os.File, data []byte, mode fs.FileMode) error {
	err := f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Replace writes data to path atomically with exactly mode: a temp file in
// the same directory, renamed over path. Readers see the old or the new
// content, never a partial file; an existing file's wider mode is not
// inherited (a new inode replaces it); a symbolic link at path is replaced
// as a name, never followed.
func Replace(path string, data []byte, mode fs.FileMode) (err error) {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	// CreateTemp opens with O_EXCL and mode 0600: never readable by others
	// before the Chmod below, and never through a planted link.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := fill(f, data, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	// Persist the rename itself; best effort, as not every FS supports it.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// OpenOutput opens a public output file that each run overwrites (a chart,
// a report): created 0644 or truncated, and refused when path is a
// symbolic link, so a link planted at a predictable name cannot make
// redsafe overwrite the file it points to. A FIFO, a block device or a file
// with other hard links (another name for someone's file) is refused too
// (a character device such as /dev/null is written to as it is), and
// nothing is truncated before what was opened has been checked: O_NONBLOCK
// keeps a FIFO without a reader from hanging the open. The caller writes
// and closes it and must check both errors.
func OpenOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|noFollow|nonBlock, PublicMode)
	if isLinkError(err) {
		return nil, fmt.Errorf("%s is a symbolic link; refusing to write through it: remove the link or choose another path", path)
	}
	if errors.Is(err, syscall.ENXIO) { // a FIFO or socket nobody reads
		return nil, fmt.Errorf("%s is not a regular file; refusing to write to it: choose a file path", path)
	}
	if err != nil {
		return nil, err
	}
	if err := checkOutput(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkOutput refuses what OpenOutput must not overwrite, then truncates.
func checkOutput(f *os.File, path string) error {
	fi, err := f.Stat() // fstat: what was opened
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeCharDevice != 0 {
		return nil // /dev/null, /dev/full, a terminal: only root can plant one
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%v); refusing to write to it: choose a file path", path, fi.Mode().Type())
	}
	if n, known := links(fi); known && n > 1 {
		return fmt.Errorf("%s has %d hard links; overwriting it would change the other names too: remove it (`rm %s`) or choose another path", path, n, path)
	}
	return f.Truncate(0)
}
