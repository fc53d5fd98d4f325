package seal

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// inCI is true where a missing prerequisite must fail rather than skip,
// so that CI cannot go green by silently skipping the interop tests.
func inCI() bool { return os.Getenv("CI") == "true" }

func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// specDir is where the Fernet spec vectors live: in the repository, so
// that a fresh clone runs them. Their absence fails the test, never skips it.
func specDir(t testing.TB) string {
	t.Helper()
	const dir = "testdata/fernet-spec"
	for _, name := range []string{"generate.json", "verify.json", "invalid.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("Fernet spec vectors missing: %v; restore seal/%s from git (see its README.md)", err, dir)
		}
	}
	return dir
}

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  string
)

// findPython returns an interpreter that can import cryptography.
func findPython(t testing.TB) string {
	t.Helper()
	pythonOnce.Do(func() {
		var tried []string
		for _, name := range []string{"python3", "/usr/bin/python3", "python3.11"} {
			p, err := exec.LookPath(name)
			if err != nil {
				tried = append(tried, name+": not found")
				continue
			}
			out, err := exec.Command(p, "-c", "import cryptography.fernet, sys; sys.stdout.write(cryptography.__version__)").CombinedOutput()
			if err != nil {
				tried = append(tried, name+": cannot import cryptography")
				continue
			}
			pythonPath = p
			pythonErr = strings.TrimSpace(string(out))
			return
		}
		pythonErr = strings.Join(tried, "; ")
	})
	if pythonPath == "" {
		skipOrFatal(t, "no Python with the cryptography package (%s); install python3-cryptography to run the interop tests", pythonErr)
	}
	return pythonPath
}

// fixedClock returns a clock stuck at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustKey(t testing.TB, s string) *Key {
	t.Helper()
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
