//go:build !unix

package secretfile

import "io/fs"

// Without O_NOFOLLOW, Read checks with Lstat before opening instead.
const noFollow = 0

func isLinkError(error) bool { return false }

// owner is unknown where files have no uid; the mode checks still apply.
func owner(fs.FileInfo) (int, bool) { return 0, false }

func links(fs.FileInfo) (uint64, bool) { return 0, false }

const nonBlock = 0
