package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// CheckInPlace checks a file that redsafe leaves for another program to
// read (redis-server reads the redis.conf, users.acl and TLS key of an `up`
// directory, and writes its pid and log file there): it must be a regular
// file and not a link, owned by this process's user, and with no group or
// other bits when secret, else not writable by group or others. With
// repair, a file this user owns is narrowed (to 0600, or by removing the
// write bits). A missing file is fine.
func CheckInPlace(path string, secret, repair bool) (repaired bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("%s is a symbolic link; redsafe writes and adopts only regular files here, so that nothing is written through the link: remove it (`rm %s`)", path, path)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file (%v): remove it", path, fi.Mode().Type())
	}
	me := os.Geteuid()
	if uid, known := owner(fi); known && uid != me {
		return false, &ExposedError{Path: path,
			Problem: fmt.Sprintf("is owned by uid %d, not by uid %d (this process): that user chose its content", uid, me),
			Fix:     fmt.Sprintf("remove it, or check its content and run `chown %d %s`", me, path)}
	}
	perm := fi.Mode().Perm()
	mask, want, fix := fs.FileMode(0o022), perm&^0o022, "chmod go-w"
	if secret {
		mask, want, fix = 0o077, Mode, "chmod 600"
	}
	if perm&mask == 0 {
		return false, nil
	}
	if repair {
		return true, os.Chmod(path, want)
	}
	return false, &ExposedError{Path: path,
		Problem:    fmt.Sprintf("has mode %04o: other users can %s it", perm, map[bool]string{true: "read or change", false: "change"}[secret]),
		Fix:        fmt.Sprintf("run `%s %s`", fix, path),
		Repairable: true}
}
