package redisserver

import (
	"crypto/tls"
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

// raw dials addr with cfg and runs the commands in order on one connection,
// returning each reply; it stops at the first I/O error, which it returns.
func raw(t *testing.T, addr string, cfg *tls.Config, cmds ...[]string) ([]string, error) {
	t.Helper()
	c, err := resp.Dial(addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []string
	for _, cmd := range cmds {
		r, err := c.Do(cmd...)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func cmd(args ...string) []string { return args }

// last returns a func taking raw's results and yielding the final reply,
// failing the test on I/O errors: last(t)(raw(...)).
func last(t *testing.T) func([]string, error) string {
	return func(replies []string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("I/O error after replies %q: %v", replies, err)
		}
		return replies[len(replies)-1]
	}
}
