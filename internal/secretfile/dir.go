package secretfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkDir accepts a directory that is owned by this user or root and that
// nobody else can write to, or only with the sticky bit (/tmp, Kubernetes
// volume roots), which stops them from renaming or removing others' files.
func checkDir(dir string) *ExposedError {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil // the file in it was opened; nothing more to learn
	}
	me := os.Geteuid()
	if uid, known := owner(fi); known && uid != me && uid != 0 {
		return &ExposedError{Path: dir,
			Problem: fmt.Sprintf("is owned by uid %d: that user can replace the files in it", uid),
			Fix:     "keep secret files in a directory you own"}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		uid, _ := owner(fi)
		return &ExposedError{Path: dir,
			Problem:    fmt.Sprintf("has mode %04o: other users can replace the files in it", perm),
			Fix:        fmt.Sprintf("run `chmod go-w %s`", dir),
			Repairable: uid == me} // a chmod by this user works only on its own directory
	}
	return nil
}

// checkAncestors applies checkDir to every directory above dir, up to the
// root: whoever may write to one of them can rename dir's whole subtree
// away and put their own in its place between redsafe's checks and
// redis-server reading redis.conf by path (which can load a module, that
// is, run their code as this user). OpenSSH's StrictModes checks the same.
func checkAncestors(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return err
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		if e := checkDir(p); e != nil {
			e.Problem += " (it is above " + dir + ", which it could swap for a directory of its own)"
			e.Repairable = false // narrowing a parent is the operator's call, not --fix-permissions'
			return e
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// CheckPrivateDir checks a directory redsafe creates files in and adopts
// files from (`up --dir`): it must be owned by this process's user and
// writable by nobody else. A sticky bit does not excuse it there: others
// could still plant the names redsafe is about to create or adopt. With
// repair, a directory this user owns is narrowed to 0700.
func CheckPrivateDir(dir string, repair bool) (repaired bool, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s is not a directory", dir)
	}
	me := os.Geteuid()
	if uid, known := owner(fi); known && uid != me {
		return false, &ExposedError{Path: dir,
			Problem: fmt.Sprintf("is owned by uid %d, not by uid %d (this process): that user can plant files in it", uid, me),
			Fix:     "use a directory of your own (--dir)"}
	}
	if err := checkAncestors(dir); err != nil {
		return false, err
	}
	perm := fi.Mode().Perm()
	if perm&0o022 == 0 {
		return false, nil
	}
	if repair {
		return true, os.Chmod(dir, 0o700)
	}
	return false, &ExposedError{Path: dir,
		Problem:    fmt.Sprintf("has mode %04o: other users can plant or replace files in it", perm),
		Fix:        fmt.Sprintf("run `chmod 700 %s`", dir),
		Repairable: true}
}
