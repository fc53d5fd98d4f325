package redsafe

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestCAFileReadAgain: the CA file is read again for a new connection once
// it has changed. Replaced by a CA that did not sign the server's
// certificate, a reconnection is refused, resumption included (a session
// of the old settings skips nothing); restored, the next one succeeds, with
// no restart of the Cache.
func TestCAFileReadAgain(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	ctx := testContext(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	good, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewAuthority("another CA", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(pem []byte) {
		t.Helper()
		// As an operator's tool would: a new file renamed over the old one.
		tmp := caFile + ".new"
		if err := os.WriteFile(tmp, pem, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, caFile); err != nil {
			t.Fatal(err)
		}
	}
	write(good)
	o := serverOptions(s)
	o.TLS.CAFile = caFile
	o.CommandTimeout = 2 * time.Second
	c := openCache(t, o)
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	reconnect := func() error {
		s.Do(t, "CLIENT", "KILL", "USER", "default")
		var err error
		for range 20 {
			// A write: rueidis does not retry it, so its error is the
			// connection's, not a timeout of retries.
			if err = c.Set(ctx, "k", []byte("v"), time.Minute); err == nil {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return err
	}
	if err := reconnect(); err != nil {
		t.Fatalf("a reconnection with the same CA file: %v", err)
	}

	write(other.CertPEM)
	if err := reconnect(); !errors.Is(err, ErrCertUntrusted) {
		t.Fatalf("a reconnection after the CA file no longer holds the server's CA: %v; want ErrCertUntrusted", err)
	}

	write(good)
	if err := reconnect(); err != nil {
		t.Fatalf("a reconnection after the CA file was restored: %v", err)
	}
}
