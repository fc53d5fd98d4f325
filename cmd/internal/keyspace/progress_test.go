package keyspace

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// TestProgressAutoIsOffTerminal: /dev/null is a character device, as a
// terminal is, and a pipe is what `| tee log` gives. Neither may get the bar
// that --progress auto draws with \r on a terminal; a real pseudo-terminal
// must, so that the check is not simply "never".
func TestProgressAutoIsOffTerminal(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if fi, err := devNull.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is not a character device here (%v); the test would prove nothing", os.DevNull, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()

	for _, tc := range []struct {
		name string
		f    *os.File
	}{{os.DevNull, devNull}, {"a pipe", w}} {
		if IsTerminal(tc.f) {
			t.Errorf("IsTerminal(%s) = true", tc.name)
		}
		if NewPrinter(tc.f, ProgressAuto).bar {
			t.Errorf("--progress auto draws a bar on %s", tc.name)
		}
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("IsTerminal(a buffer) = true")
	}

	t.Run("pseudo-terminal", func(t *testing.T) {
		tty := openPTY(t)
		if !IsTerminal(tty) {
			t.Error("IsTerminal(a pseudo-terminal) = false")
		}
		if !NewPrinter(tty, ProgressAuto).bar {
			t.Error("--progress auto draws no bar on a pseudo-terminal")
		}
	})
}

// openPTY opens the terminal side of a new pseudo-terminal (Linux), with the
// standard library only: posix_openpt, unlockpt, ptsname.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlockpt: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("ptsname: %v", errno)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}
