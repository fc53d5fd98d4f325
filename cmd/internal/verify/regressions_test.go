package verify

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
)

func resultOf(t *testing.T, target Target, id string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range Run(ctx, target, nil) {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return Result{}
}

// A server that is down, or a host that does not resolve, does not prove
// that no plaintext port answers: tls.no-plaintext fails and says why.
func TestNoPlaintextIsNotProvenByADeadServer(t *testing.T) {
	t.Parallel()
	s := secureServer(t, redisserver.Config{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	for _, c := range []struct{ url, why string }{
		{"rediss://app@" + dead + "/0", "connection refused"},
		{"rediss://app@redsafe-no-such-host.invalid:6380/0", "no such host"},
	} {
		target := appTarget(s, "app", appPassword)
		target.Options.URL = c.url
		r := resultOf(t, target, "tls.no-plaintext")
		if r.Severity != Fail || !strings.Contains(r.Message, "not proven") || !strings.Contains(r.Message, c.why) || r.Fix == "" {
			t.Errorf("%s: tls.no-plaintext = %s %q (fix %q), want FAIL naming %q", c.url, r.Severity, r.Message, r.Fix, c.why)
		}
	}
	// The live server still passes.
	if r := resultOf(t, appTarget(s, "app", appPassword), "tls.no-plaintext"); r.Severity != Pass {
		t.Errorf("tls.no-plaintext on a live TLS-only server = %s: %s", r.Severity, r.Message)
	}
}

// The app user confined as `redsafe conf --key-pattern 'orders:*'` confines
// it: data.encrypted's probe key must be inside the pattern (or the
// prefix), and a refusal says what to set.
func TestEncryptedRoundTripFollowsTheKeyPattern(t *testing.T) {
	t.Parallel()
	s := secureServer(t, redisserver.Config{Users: []redisserver.User{
		{Name: "orders", Password: appPassword, Rules: serverconf.AppRules("orders:*")}}})

	target := appTarget(s, "orders", appPassword)
	r := resultOf(t, target, "data.encrypted")
	if r.Severity != Fail || !strings.Contains(r.Message, "NOPERM") || !strings.Contains(r.Fix, "--key-pattern 'orders:*'") {
		t.Errorf("without the pattern: data.encrypted = %s %q (fix %q); want FAIL with NOPERM and the flag to pass", r.Severity, r.Message, r.Fix)
	}

	target.KeyPattern = "orders:*"
	if r := resultOf(t, target, "data.encrypted"); r.Severity != Pass {
		t.Errorf("with --key-pattern orders:*: data.encrypted = %s: %s", r.Severity, r.Message)
	}

	target.KeyPattern = ""
	target.Options.KeyPrefix = "orders:"
	if r := resultOf(t, target, "data.encrypted"); r.Severity != Pass {
		t.Errorf("with KeyPrefix orders:: data.encrypted = %s: %s", r.Severity, r.Message)
	}

	target.Options.KeyPrefix = ""
	target.KeyPattern = "orders:current"
	if r := resultOf(t, target, "data.encrypted"); r.Severity != Fail || !strings.Contains(r.Message, "no `*`") {
		t.Errorf("a pattern without *: data.encrypted = %s: %s", r.Severity, r.Message)
	}
	if got := s.Do(t, "DBSIZE"); got != ":0" {
		t.Errorf("verify left keys behind: DBSIZE %s", got)
	}
}
