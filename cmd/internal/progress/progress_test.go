package progress

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestAutoIsOffTerminal: /dev/null is a character device, as a
// terminal is, and a pipe is what `| tee log` gives. Neither may get the bar
// that --progress auto draws with \r on a terminal; a real pseudo-terminal
// must, so that the check is not simply "never".
func TestAutoIsOffTerminal(t *testing.T) {
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
		if NewPrinter(tc.f, Auto).bar {
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
		if !NewPrinter(tty, Auto).bar {
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

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -50000: "-50,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q", n, got)
		}
	}
}

func TestPrinter(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(1000, 0)
	p := NewPrinter(&b, Auto) // a buffer is no terminal: lines
	p.now = func() time.Time { return clock }
	p.Update(Report{Fraction: 0, Keys: 0})
	clock = clock.Add(time.Second)
	p.Update(Report{Fraction: 0.1, Keys: 100}) // too soon after the first line
	clock = clock.Add(5 * time.Second)
	p.Update(Report{Fraction: 0.5, Keys: 5000, Summary: "5,000 rotated"})
	p.Finish(Report{Fraction: 1, Keys: 10000})
	want := "progress:   0% 0 keys\n" +
		"progress:  50% 5,000 keys 833/s ETA 6s  5,000 rotated\n" +
		"progress: 100% 10,000 keys 1,666/s\n"
	if b.String() != want {
		t.Errorf("lines:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	p = NewPrinter(&b, Bar)
	p.now = func() time.Time { return clock }
	p.Update(Report{Fraction: 0.5, Keys: 10})
	p.Finish(Report{Fraction: 1})
	if got := b.String(); !strings.Contains(got, "\r\033[K[############------------]  50% 10 keys") || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("bar: %q", got)
	}
	b.Reset()
	p = NewPrinter(&b, None)
	p.Update(Report{Fraction: 0.5})
	p.Finish(Report{})
	if b.Len() != 0 {
		t.Errorf("none printed %q", b.String())
	}
	if _, err := ParseMode("fancy"); err == nil {
		t.Error("ParseMode accepted fancy")
	}
}
