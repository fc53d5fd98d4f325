package serverconf

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
	"github.com/redsafe/redsafe/internal/secretfile"
)

// Modes of what Write creates.
const (
	PublicFileMode fs.FileMode = secretfile.PublicMode
	DirMode        fs.FileMode = 0o700 // the deployment and secrets directories
)

// Written is one file that Write wrote.
type Written struct {
	Path   string
	Mode   fs.FileMode
	Backup string // where the previous file was moved, "" if there was none
}

// Write writes files into dir, creating it (and secrets/) with mode 0700.
// If any file exists, Write refuses before touching anything, with a
// *backup.ExistsError, unless replace is set: then each existing file is
// first moved aside to a timestamped backup (backup.MoveAside), so that no
// password or key is ever lost by regenerating.
func Write(dir string, files []File, replace bool, now time.Time) ([]Written, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, filepath.FromSlash(f.Name))
	}
	existing, err := backup.Existing(paths)
	if err != nil {
		return nil, err
	}
	if len(existing) > 0 && !replace {
		return nil, &backup.ExistsError{Paths: existing}
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return nil, err
	}
	var out []Written
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := makeParent(dir, p, f.Secret); err != nil {
			return out, err
		}
		bak, err := backup.MoveAside(p, now)
		if err != nil {
			return out, fmt.Errorf("moving %s aside: %w", p, err)
		}
		mode := PublicFileMode
		if f.Secret {
			mode = secretfile.Mode
			err = secretfile.Create(p, f.Data)
		} else {
			err = secretfile.CreatePublic(p, f.Data)
		}
		if err != nil {
			return out, err
		}
		out = append(out, Written{Path: p, Mode: mode, Backup: bak})
	}
	return out, nil
}

// makeParent creates the directory of p. A directory below dir that holds
// secrets is forced to 0700 even if it already existed with a wider mode.
func makeParent(dir, p string, secret bool) error {
	parent := filepath.Dir(p)
	if parent == filepath.Clean(dir) {
		return nil
	}
	if err := os.MkdirAll(parent, DirMode); err != nil {
		return err
	}
	if secret {
		return os.Chmod(parent, DirMode)
	}
	return nil
}
