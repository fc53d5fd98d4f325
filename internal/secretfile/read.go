package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// MaxSize bounds what Read reads. A key, a password or a PEM private key
// (an RSA 4096 key is about 3.3 KB) is far smaller; a larger file is not a
// secret file, and reading it whole (a link to /dev/zero, a log) is refused.
const MaxSize = 64 << 10

// Options says how Read treats links and problems.
type Options struct {
	// FollowSymlinks accepts a symbolic link at the path. Kubernetes secret
	// volumes are links into a root-owned ..data directory, so the files a
	// deployment names (REDIS_PASSWORD_FILE, --key-file) may be links. The
	// owner and mode checks apply to the file the link leads to, and the
	// directory checks to the directories of both. Without it, a link is
	// refused: files redsafe created itself are never links.
	FollowSymlinks bool
	// RootGroupRead accepts a root-owned file that its group may read and
	// nobody else (0440, 0640): what a Kubernetes secret volume mounted with
	// fsGroup holds, the only way a non-root pod can read it.
	RootGroupRead bool
	// Repair narrows a file this process's user owns from a wider mode to
	// 0600 (on the open descriptor) instead of refusing it, and tells
	// Repaired. A file owned by another user is never repaired.
	Repair   bool
	Repaired func(path string, old fs.FileMode)
	// Tolerate, when set, receives every *ExposedError instead of failing
	// the read: the library's development and testing policies warn.
	Tolerate func(*ExposedError)
}

// Owned reads the files redsafe created in a directory it keeps (`up`'s
// secrets): no links, owner and mode 0600 enforced.
var Owned = Options{}

// Named reads the files an operator or a deployment names (--key-file,
// --*-password-file, REDIS_PASSWORD_FILE): links are followed and the
// Kubernetes fsGroup form is accepted, owner and mode still enforced.
var Named = Options{FollowSymlinks: true, RootGroupRead: true}

// ExposedError is a secret file, or a directory holding one, that another
// user wrote or can read or replace. It names the path, the problem and the
// fix, and never the content.
type ExposedError struct {
	Path       string
	Problem    string // "has mode 0644: ..."
	Fix        string // "run `chmod 600 PATH`"
	Repairable bool   // a mode problem on something this user owns: Options.Repair would fix it
}

func (e *ExposedError) Error() string { return e.Path + " " + e.Problem + "; " + e.Fix }

// Read returns the content of the secret file at path after checking, on
// the opened descriptor, that it is a regular file of at most MaxSize
// bytes, owned by this process's user or root, with no group or other
// permission bits, in a directory nobody else can replace it in.
func Read(path string, o Options) ([]byte, error) {
	f, fi, err := openRegular(path, o.FollowSymlinks, "a secret must be kept in a plain file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := o.checkFile(f, path, fi); err != nil {
		return nil, err
	}
	if err := o.checkDirs(f, path); err != nil {
		return nil, err
	}
	data, err := readAtMost(f, MaxSize)
	if err != nil {
		clear(data)
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("%s is larger than %d KiB: it does not hold one key or password", path, MaxSize>>10)
		}
		return nil, err
	}
	return data, nil
}

// ReadPublic reads a file that holds no secret, such as a certificate or
// a pid file: the one bounded reader of such files. It opens the file
// without blocking and checks on the descriptor that it is a regular file,
// so that a FIFO or device planted at path cannot hang or flood the read,
// and reads at most max bytes. A link is followed only with follow: the
// certificates a deployment names may be links (Kubernetes secrets), the
// files redsafe keeps itself never are.
func ReadPublic(path string, max int64, follow bool) ([]byte, error) {
	f, _, err := openRegular(path, follow, "redsafe reads it only from a plain file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAtMost(f, max)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, err
}

// openRegular opens path for reading without blocking, refusing a link
// unless follow, and returns it only if what was opened (fstat on the
// descriptor, not the path) is a regular file.
func openRegular(path string, follow bool, why string) (*os.File, fs.FileInfo, error) {
	flags := os.O_RDONLY | nonBlock
	if !follow {
		flags |= noFollow
		if noFollow == 0 {
			if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return nil, nil, linkError(path)
			}
		}
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if !follow && isLinkError(err) {
			return nil, nil, linkError(path)
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file (%v); %s", path, fi.Mode().Type(), why)
	}
	return f, fi, nil
}

var errTooLarge = errors.New("file too large")

// readAtMost reads f whole if it holds at most max bytes, else errTooLarge
// (with what was read, for the caller to clear).
func readAtMost(f *os.File, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(data)) > max {
		err = errTooLarge
	}
	return data, err
}

func linkError(path string) error {
	return fmt.Errorf("%s is a symbolic link; redsafe reads the secrets it keeps only from regular files: replace the link with the file it points to", path)
}

// report fails with e, or hands it to Tolerate.
func (o Options) report(e *ExposedError) error {
	if e == nil {
		return nil
	}
	if o.Tolerate != nil {
		o.Tolerate(e)
		return nil
	}
	return e
}

func (o Options) checkFile(f *os.File, path string, fi fs.FileInfo) error {
	me := os.Geteuid()
	uid, known := owner(fi)
	if known && uid != me && uid != 0 {
		if err := o.report(&ExposedError{Path: path,
			Problem: fmt.Sprintf("is owned by uid %d, not by uid %d (this process): that user chose its content", uid, me),
			Fix:     fmt.Sprintf("remove it, or check its content and run `chown %d %s`", me, path)}); err != nil {
			return err
		}
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 || (o.RootGroupRead && known && uid == 0 && perm&0o037 == 0) {
		return nil
	}
	mine := !known || uid == me
	if o.Repair && mine {
		if err := f.Chmod(Mode); err != nil {
			return fmt.Errorf("%s has mode %04o and could not be narrowed to 0600: %w", path, perm, err)
		}
		if o.Repaired != nil {
			o.Repaired(path, perm)
		}
		return nil
	}
	return o.report(&ExposedError{Path: path,
		Problem:    fmt.Sprintf("has mode %04o: other users can read or change it", perm),
		Fix:        fmt.Sprintf("run `chmod 600 %s`", path),
		Repairable: mine})
}

// checkDirs checks the directory of path and, when path is a link, the
// directory of the file it leads to.
func (o Options) checkDirs(f *os.File, path string) error {
	dirs := []string{filepath.Dir(path)}
	if o.FollowSymlinks {
		if real := resolved(f, path); real != "" && filepath.Dir(real) != filepath.Dir(absPath(path)) {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	for _, d := range dirs {
		if err := o.report(checkDir(d)); err != nil {
			return err
		}
	}
	return nil
}

// resolved names the file f has open: from /proc where there is one (no
// race with a link swapped after the open), else by resolving path.
func resolved(f *os.File, path string) string {
	if p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd()))); err == nil && filepath.IsAbs(p) {
		return p
	}
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return absPath(p)
	}
	return ""
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
