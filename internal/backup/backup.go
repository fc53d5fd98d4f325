// Package backup moves files aside before they are replaced, so that a
// regenerated certificate, key or env file never destroys the old one, and
// finds the files that are in the way when replacing was not asked for.
package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// ExistsError is returned when files exist and replacing them was not
// asked for. Nothing has been written or moved when it is returned.
type ExistsError struct{ Paths []string }

func (e *ExistsError) Error() string {
	return "already exist: " + strings.Join(e.Paths, ", ")
}

// Existing returns the paths among paths that exist, in their order and
// each once. It looks with Lstat, so a dangling symbolic link counts as
// existing: writing there would follow it. Any error other than not-exist
// is returned.
func Existing(paths []string) ([]string, error) {
	var existing []string
	for _, p := range paths {
		if slices.Contains(existing, p) {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			existing = append(existing, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return existing, nil
}

// MoveAside renames path to path.bak-YYYYMMDD-HHMMSS (with a counter when
// that exists too) and returns the new name. It returns "" and no error
// when path does not exist. The rename keeps the file's mode, so a 0600
// key stays 0600.
func MoveAside(path string, now time.Time) (string, error) { return aside(path, now, os.Rename) }

// LinkAside is MoveAside for a file that readers open by name at any time
// (a password file read for every new connection): the backup is a second
// hard link to the same file, so path never stops existing, and the caller
// then replaces path atomically (secretfile.Replace). A link at path is
// linked as a link, not followed.
func LinkAside(path string, now time.Time) (string, error) { return aside(path, now, os.Link) }

func aside(path string, now time.Time, move func(old, new string) error) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	base := path + ".bak-" + now.UTC().Format("20060102-150405")
	target := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if i > 1000 {
			return "", fmt.Errorf("too many backups of %s", path)
		}
		target = fmt.Sprintf("%s.%d", base, i)
	}
	if err := move(path, target); err != nil {
		return "", err
	}
	return target, nil
}
