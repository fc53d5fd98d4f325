// Package redistest starts real redis-server processes on free loopback
// ports for tests, configured the way redsafe expects production servers to
// be: TLS with a private CA, authentication, no persistence. There is no fake
// Redis: behaviour under test is the real server's.
package redistest

import (
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
			t.Fatalf("redistest: %s=%s: %v", EnvServerPath, p, err)
		}
		return p
	}
	p, err := exec.LookPath("redis-server")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("redistest: redis-server not installed (required in CI): %v", err)
	}
	t.Skip("redis-server not installed: apt-get install redis-server")
	return ""
}
