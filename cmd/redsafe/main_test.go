package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"redsafe": main, "rss-of": rssOf})
}

// TestScripts runs the CLI scenarios in testdata/script. Scripts that need
// Python's cryptography read its interpreter from $PYTHON.
func TestScripts(t *testing.T) {
	python := findPython()
	if python == "" && os.Getenv("CI") == "true" {
		t.Fatal("no python3 with the cryptography package; CI must install python3-cryptography")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PYTHON", python)
			// Scripts start real redis-server processes; never leave one behind.
			env.Defer(func() { stopLeftoverServers(env.WorkDir) })
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "python":
				return python != "", nil
			case "redis":
				_, err := exec.LookPath("redis-server")
				if err != nil && os.Getenv("CI") == "true" {
					return false, fmt.Errorf("redis-server is not installed; CI must install it")
				}
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"perm":      cmdPerm,
			"bytes":     cmdBytes,
			"freeport":  cmdFreePort,
			"waitport":  cmdWaitPort,
			"loadenv":   cmdLoadEnv,
			"setfile":   cmdSetFile,
			"pidgone":   cmdPidGone,
			"nosecrets": cmdNoSecrets,
			"cmpglob":   cmdCmpGlob,
			"replace":   cmdReplace,
			"benchjson": cmdBenchJSON,
			"redisproc": cmdRedisProc,
			"chown":     cmdChown,
			"redis":     cmdRedis,
		},
	})
}

// findPython returns an interpreter that can import cryptography: the one
// on PATH, or Debian's, where python3-cryptography installs.
func findPython() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import cryptography.fernet").Run() == nil {
			return p
		}
	}
	return ""
}

// perm FILE MODE asserts a file's permission bits, e.g. `perm key 0600`.
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := uint64(fi.Mode().Perm())
	if (got == want) == neg {
		ts.Fatalf("%s has mode %04o; want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// bytes FILE N writes N bytes holding every byte value, in random order.
func cmdBytes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: bytes FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	rand.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}
