// Package secretfile writes files that hold secrets: keys, passwords and env
// files. They are created with mode 0600 from the first byte, so there is no
// moment at which another user could read them.
package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Mode is the permission of every secret file.
const Mode fs.FileMode = 0o600

// Create writes data to a new file at path with mode 0600. It refuses to
// replace an existing file, so a key is never lost by accident.
func Create(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, Mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; choose another path or move it away first", path)
	}
	if err != nil {
		return err
	}
	// The umask may have narrowed the mode further, never widened it; set it
	// exactly so that the file is what the docs promise.
	if err := f.Chmod(Mode); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
