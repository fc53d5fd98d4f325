// Package redisserver is redsafe's one launcher of redis-server processes.
// A Process is one redis-server child started by Launch: one readiness
// poll (our own process's "Ready" log line, then the caller's end-to-end
// probe), one bounded log tail for every error, one free-port picker, and a
// stop by our own pid only. Every path stops the child: Stop, the end of
// Launch's context, a crash (reported with its log tail), and on Linux the
// death of the parent (Pdeathsig), except for detached processes, which
// `redsafe up` leaves running on purpose and Dir finds again.
//
// Start (harness.go) builds the test servers on it: real servers on free
// loopback ports, configured the way redsafe expects production servers to
// be, TLS with a private CA, authentication, no persistence. There is no
// fake Redis. Topologies (cluster nodes, replicas, Sentinels) compose
// several Launch calls. The package is Unix only and uses only the standard
// library and redsafe's internal packages, so root-module tests can use it.
package redisserver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// EnvServerPath overrides where redis-server is looked up (e.g. a TLS build
// outside $PATH).
const EnvServerPath = "REDISTEST_SERVER"

// RedisServerPath returns the redis-server binary. Missing binaries skip the
// test locally but fail it in CI, so CI can never go green by skipping.
func RedisServerPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvServerPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("redisserver: %s=%s: %v", EnvServerPath, p, err)
		}
		return p
	}
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("redisserver: redis-server not installed (required in CI): %v", err)
	}
	t.Skip("redis-server not installed: apt-get install redis-server")
	return ""
}

// ErrNotInstalled is returned when redis-server cannot be found.
var ErrNotInstalled = errors.New("redis-server is not installed")

// RedisServer finds redis-server ($REDISTEST_SERVER, else $PATH) and checks
// that it was built with TLS.
func RedisServer() (string, error) {
	path := os.Getenv(EnvServerPath)
	if path == "" {
		var err error
		if path, err = exec.LookPath("redis-server"); err != nil {
			return "", fmt.Errorf("%w: install it with `sudo apt-get install redis-server` (Debian, Ubuntu), `sudo dnf install redis` (Fedora) or `brew install redis` (macOS)", ErrNotInstalled)
		}
	}
	// Builds without TLS are rare but exist; ldd tells without starting one.
	if out, err := exec.Command("ldd", path).Output(); err == nil && !bytes.Contains(out, []byte("libssl")) {
		return "", fmt.Errorf("%s was built without TLS: install your distribution's redis-server package, or build Redis with BUILD_TLS=yes", path)
	}
	return path, nil
}
