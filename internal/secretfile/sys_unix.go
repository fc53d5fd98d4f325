//go:build unix

package secretfile

import (
	"errors"
	"io/fs"
	"syscall"
)

// noFollow makes open fail on a symbolic link in the last path component.
const noFollow = syscall.O_NOFOLLOW

// isLinkError reports the error open returns with O_NOFOLLOW on a link.
func isLinkError(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// owner returns the uid that owns fi.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// links returns the number of hard links of fi.
func links(fi fs.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}

// nonBlock keeps open from hanging on a FIFO planted at the path; the
// regular-file check then refuses it.
const nonBlock = syscall.O_NONBLOCK
