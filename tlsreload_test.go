package redsafe

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// resumptions records whether the last TLS handshake resumed a session.
type resumptions struct {
	NopObserver
	mu      sync.Mutex
	resumed []bool // one per handshake, in order
}

func (r *resumptions) TLSHandshake(_ time.Duration, st tls.ConnectionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resumed = append(r.resumed, st.DidResume)
}

func (r *resumptions) since(n int) []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resumed[n:])
}

func (r *resumptions) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.resumed)
}

// TestCAFileReadAgain: the CA file is read again for a new connection once
// it has changed. Replaced by a CA that did not sign the server's
// certificate, a reconnection is refused although it would have resumed a
// session (the one before did): the new settings come with a session
// cache of their own, so a session verified under the old CA file is never
// resumed. Restored, the next connection succeeds with a full handshake,
// with no restart of the Cache.
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
	obs := &resumptions{}
	o.Observer = obs
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
	before := obs.count()
	if err := reconnect(); err != nil {
		t.Fatalf("a reconnection with the same CA file: %v", err)
	}
	if got := obs.since(before); len(got) == 0 || !got[0] {
		t.Fatalf("a reconnection with the same CA file did not resume its session (%v): the refusal below would prove nothing about resumption", got)
	}

	write(other.CertPEM)
	if err := reconnect(); !errors.Is(err, ErrCertUntrusted) {
		t.Fatalf("a reconnection after the CA file no longer holds the server's CA: %v; want ErrCertUntrusted", err)
	}

	write(good)
	before = obs.count()
	if err := reconnect(); err != nil {
		t.Fatalf("a reconnection after the CA file was restored: %v", err)
	}
	if got := obs.since(before); len(got) == 0 || got[0] {
		t.Fatalf("after the CA file changed twice, the first handshake (of %v) resumed a session of the first settings", got)
	}
}
