package main

import (
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// chown UID FILE... gives files to another user (the scripts run as root),
// to show that a file or directory another user owns is never adopted.
func cmdChown(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: chown UID FILE...")
	}
	uid, err := strconv.Atoi(args[0])
	ts.Check(err)
	for _, f := range args[1:] {
		ts.Check(os.Lchown(ts.MkAbs(f), uid, uid))
	}
}
