package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const secret = "s3cret-Value_42"

func writeSecret(t *testing.T, dir, name, content string, mode fs.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// wantExposed fails unless err is an *ExposedError naming path and want,
// and never the secret.
func wantExposed(t *testing.T, err error, path string, want ...string) {
	t.Helper()
	var e *ExposedError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *ExposedError", err, err)
	}
	msg := err.Error()
	for _, w := range append([]string{path}, want...) {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error %q contains the secret", msg)
	}
}

func TestReadLineAcceptsAPrivateFile(t *testing.T) {
	dir := privateDir(t)
	for _, content := range []string{secret, secret + "\n", secret + "\r\n"} {
		p := writeSecret(t, dir, "pw", content, 0o600)
		got, err := ReadLine(p, Owned)
		if err != nil || got != secret {
			t.Fatalf("ReadLine(%q) = %q, %v", content, got, err)
		}
		os.Remove(p)
	}
}

// The mode and owner are checked on what was opened; root reads any file,
// so these test the checks, not the kernel's.
func TestReadRefusesLooseModes(t *testing.T) {
	dir := privateDir(t)
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o606, 0o610} {
		p := writeSecret(t, dir, "pw", secret+"\n", mode)
		_, err := Read(p, Owned)
		wantExposed(t, err, p, fmt.Sprintf("has mode %04o", mode), "chmod 600 "+p)
		os.Remove(p)
	}
}

func TestReadModeNamesTheMode(t *testing.T) {
	dir := privateDir(t)
	p := writeSecret(t, dir, "encryption.key", secret+"\n", 0o644)
	_, err := ReadLine(p, Named)
	wantExposed(t, err, p, "has mode 0644", "run `chmod 600 "+p+"`")
	var e *ExposedError
	if errors.As(err, &e); !e.Repairable {
		t.Error("a loose mode on our own file is repairable")
	}
}

func TestReadRepairNarrowsOwnFile(t *testing.T) {
	dir := privateDir(t)
	p := writeSecret(t, dir, "pw", secret+"\n", 0o644)
	var fixed string
	o := Owned
	o.Repair, o.Repaired = true, func(path string, old fs.FileMode) { fixed = path + " " + old.String() }
	got, err := ReadLine(p, o)
	if err != nil || got != secret {
		t.Fatalf("ReadLine with Repair = %q, %v", got, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after repair %04o, want 0600", fi.Mode().Perm())
	}
	if fixed != p+" -rw-r--r--" {
		t.Fatalf("Repaired told %q", fixed)
	}
}

func TestReadRefusesAnotherUsersFile(t *testing.T) {
	dir := privateDir(t)
	p := writeSecret(t, dir, "pw", secret+"\n", 0o600)
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Skipf("cannot chown (not root?): %v", err)
	}
	_, err := Read(p, Owned)
	wantExposed(t, err, p, "owned by uid 65534")
	// Repair never adopts another user's file, even 0600.
	o := Named
	o.Repair = true
	_, err = Read(p, o)
	wantExposed(t, err, p, "owned by uid 65534")
	os.Chmod(p, 0o644)
	_, err = Read(p, o)
	wantExposed(t, err, p, "owned by uid 65534")
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Fatalf("another user's file was changed to %04o", fi.Mode().Perm())
	}
}

func TestReadRootGroupReadIsKubernetesOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own a root file that is not ours")
	}
	dir := privateDir(t)
	p := writeSecret(t, dir, "pw", secret+"\n", 0o440)
	if _, err := Read(p, Named); err != nil {
		t.Fatalf("Named refuses a root-owned 0440 file: %v", err)
	}
	_, err := Read(p, Owned)
	wantExposed(t, err, p, "has mode 0440")
	os.Chmod(p, 0o444)
	_, err = Read(p, Named)
	wantExposed(t, err, p, "has mode 0444")
}

func TestReadTolerateReportsAndReads(t *testing.T) {
	dir := privateDir(t)
	p := writeSecret(t, dir, "pw", secret+"\n", 0o644)
	var seen []*ExposedError
	o := Named
	o.Tolerate = func(e *ExposedError) { seen = append(seen, e) }
	got, err := ReadLine(p, o)
	if err != nil || got != secret || len(seen) != 1 || !strings.Contains(seen[0].Problem, "0644") {
		t.Fatalf("Tolerate: %q, %v, %v", got, err, seen)
	}
}

func TestReadSymlinks(t *testing.T) {
	dir := privateDir(t)
	target := writeSecret(t, dir, "target", secret+"\n", 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(link, Owned); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("Owned read through a link: %v", err)
	}
	if got, err := ReadLine(link, Named); err != nil || got != secret {
		t.Fatalf("Named through a link: %q, %v", got, err)
	}
	// Named checks the file the link leads to.
	os.Chmod(target, 0o644)
	_, err := Read(link, Named)
	wantExposed(t, err, link, "has mode 0644")
}

// A Kubernetes secret volume: NAME -> ..data/NAME, ..data -> ..TIMESTAMP,
// in a sticky world-writable root that only root controls.
func TestReadKubernetesLayout(t *testing.T) {
	root := t.TempDir()
	if err := os.Chmod(root, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	ts := filepath.Join(root, "..2026_12_02_10_00_00.1")
	if err := os.Mkdir(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSecret(t, ts, "password", secret+"\n", 0o400)
	if err := os.Symlink(filepath.Base(ts), filepath.Join(root, "..data")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "password")
	if err := os.Symlink("..data/password", p); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadLine(p, Named); err != nil || got != secret {
		t.Fatalf("Kubernetes layout: %q, %v", got, err)
	}
	// The directory the link leads into is checked too.
	os.Chmod(ts, 0o777)
	_, err := Read(p, Named)
	wantExposed(t, err, ts, "has mode 0777", "chmod go-w")
}

func TestReadRefusesOpenDirectories(t *testing.T) {
	dir := t.TempDir()
	p := writeSecret(t, dir, "pw", secret+"\n", 0o600)
	os.Chmod(dir, 0o777)
	_, err := Read(p, Named)
	wantExposed(t, err, dir, "has mode 0777", "other users can replace")
	os.Chmod(dir, 0o770)
	_, err = Read(p, Named)
	wantExposed(t, err, dir, "has mode 0770")
	os.Chmod(dir, os.ModeSticky|0o777) // sticky: others cannot rename our file
	if _, err := Read(p, Named); err != nil {
		t.Fatalf("sticky directory: %v", err)
	}
	os.Chmod(dir, 0o755)
	if err := os.Chown(dir, 65534, 65534); err == nil {
		_, err = Read(p, Named)
		wantExposed(t, err, dir, "owned by uid 65534")
	}
}

func TestReadRefusesNonRegularAndLargeFiles(t *testing.T) {
	dir := privateDir(t)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(fifo, Named); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("FIFO: %v", err) // and it did not hang
	}
	if _, err := Read("/dev/zero", Named); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("/dev/zero: %v", err)
	}
	big := writeSecret(t, dir, "big", strings.Repeat("a", MaxSize+1), 0o600)
	if _, err := Read(big, Owned); err == nil || !strings.Contains(err.Error(), "larger than 64 KiB") {
		t.Fatalf("large file: %v", err)
	}
	exact := writeSecret(t, dir, "exact", strings.Repeat("a", MaxSize), 0o600)
	if _, err := Read(exact, Owned); err != nil {
		t.Fatalf("file of MaxSize: %v", err)
	}
}

func TestReadLineRefusesAnythingButOneLine(t *testing.T) {
	dir := privateDir(t)
	for content, want := range map[string]string{
		"":                               "is empty",
		"\n":                             "is empty",
		secret + "\nsecond\n":            "has more than one line",
		secret + "\n\n":                  "has more than one line",
		"\n" + secret:                    "has more than one line",
		secret + "\rx":                   "has more than one line",
		secret + "\x00":                  "contains a NUL byte",
		secret + "\x1b[31m":              "contains a control character (0x1b)",
		"\t" + secret:                    "contains a control character (0x09)",
		secret + "\x7f":                  "contains a control character (0x7f)",
		" " + secret:                     "starts or ends with a space",
		secret + " \n":                   "starts or ends with a space",
		"\xef\xbb\xbf" + secret + "\r\n": "starts with a UTF-8 byte order mark",
	} {
		p := writeSecret(t, dir, "pw", content, 0o600)
		_, err := ReadLine(p, Owned)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadLine(%q): %v, want %q", content, err, want)
		} else if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "second") {
			t.Errorf("ReadLine(%q): error quotes the content: %v", content, err)
		}
		os.Remove(p)
	}
}

func TestCheckPrivateDir(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []fs.FileMode{0o700, 0o750, 0o755} {
		os.Chmod(dir, mode)
		if _, err := CheckPrivateDir(dir, false); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	for _, mode := range []fs.FileMode{0o777, 0o770, os.ModeSticky | 0o777, 0o702} {
		os.Chmod(dir, mode)
		_, err := CheckPrivateDir(dir, false)
		wantExposed(t, err, dir, "chmod 700 "+dir)
	}
	os.Chmod(dir, 0o777)
	if fixed, err := CheckPrivateDir(dir, true); !fixed || err != nil {
		t.Fatalf("repair: %v, %v", fixed, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("repaired to %04o", fi.Mode().Perm())
	}
	if err := os.Chown(dir, 65534, 65534); err == nil {
		if _, err := CheckPrivateDir(dir, true); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Fatalf("another user's directory: %v", err)
		}
	}
}

func TestCheckInPlace(t *testing.T) {
	dir := privateDir(t)
	if fixed, err := CheckInPlace(filepath.Join(dir, "missing"), true, false); fixed || err != nil {
		t.Fatalf("missing: %v %v", fixed, err)
	}
	conf := writeSecret(t, dir, "redis.conf", "port 0\n", 0o644)
	if _, err := CheckInPlace(conf, false, false); err != nil {
		t.Fatalf("0644 public file: %v", err)
	}
	_, err := CheckInPlace(conf, true, false)
	wantExposed(t, err, conf, "has mode 0644", "chmod 600 "+conf)
	os.Chmod(conf, 0o666)
	_, err = CheckInPlace(conf, false, false)
	wantExposed(t, err, conf, "has mode 0666", "chmod go-w "+conf)
	if fixed, err := CheckInPlace(conf, false, true); !fixed || err != nil {
		t.Fatalf("repair: %v %v", fixed, err)
	}
	if fi, _ := os.Stat(conf); fi.Mode().Perm() != 0o644 {
		t.Fatalf("repaired to %04o", fi.Mode().Perm())
	}
	link := filepath.Join(dir, "redis.log")
	os.Symlink("/etc/passwd", link)
	if _, err := CheckInPlace(link, false, true); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("link: %v", err)
	}
	if err := os.Chown(conf, 65534, 65534); err == nil {
		_, err = CheckInPlace(conf, false, true)
		wantExposed(t, err, conf, "owned by uid 65534")
	}
}

// TestCheckPrivateDirAncestors: a directory above up's, writable by others
// without the sticky bit, lets them swap the whole directory; it is
// refused naming that ancestor, and --fix-permissions does not narrow it.
// A sticky one (/tmp) is fine.
func TestCheckPrivateDirAncestors(t *testing.T) {
	open := t.TempDir() // under /tmp, which is sticky
	dir := filepath.Join(open, "rs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckPrivateDir(dir, false); err != nil {
		t.Fatalf("a private directory under sticky and private ancestors: %v", err)
	}
	os.Chmod(open, 0o777)
	for _, repair := range []bool{false, true} {
		_, err := CheckPrivateDir(dir, repair)
		var e *ExposedError
		if !errors.As(err, &e) || e.Path != open || e.Repairable || !strings.Contains(err.Error(), "has mode 0777") || !strings.Contains(err.Error(), "above "+dir) {
			t.Fatalf("repair %v: %v", repair, err)
		}
		if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o777 {
			t.Fatalf("the ancestor was narrowed to %04o", fi.Mode().Perm())
		}
	}
	os.Chmod(open, os.ModeSticky|0o777)
	if _, err := CheckPrivateDir(dir, false); err != nil {
		t.Fatalf("a sticky ancestor: %v", err)
	}
}
