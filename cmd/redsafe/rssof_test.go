package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// rssOf is the test binary as "rss-of FILE PROG ARGS...": it runs PROG
// with the same environment and standard streams, writes PROG's peak
// resident set size (KiB, from wait4) to FILE, and exits with PROG's
// status.
//
// Why a process in between: on Linux a child's ru_maxrss is the larger of
// its own peak and the peak of the address space it replaced at exec, and
// Go starts children with vfork, sharing the parent's address space until
// then. So a CLI started by the test process reports at least the test
// process's own peak, which grows with the other tests of the package; a
// child of this small process reports its own or this process's, a few
// MiB.
func rssOf() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rss-of FILE PROG [ARGS...]")
		os.Exit(125)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// Killed (the OOM killer, say): say so, as a shell would.
			fmt.Fprintf(os.Stderr, "rss-of: %s was killed by %v\n", os.Args[2], ws.Signal())
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		fmt.Fprintln(os.Stderr, "rss-of:", err)
		os.Exit(125)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if err := os.WriteFile(os.Args[1], []byte(strconv.FormatInt(ru.Maxrss, 10)), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "rss-of:", err)
			os.Exit(125)
		}
	}
	os.Exit(code)
}
