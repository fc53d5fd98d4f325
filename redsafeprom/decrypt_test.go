package redsafeprom

import (
	"errors"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestTamperedValueRaisesDecryptFailures: a value changed inside Redis is
// refused, and the refusal is counted once, as a failure and as an error of
// the Get, with the decryption timed.
func TestTamperedValueRaisesDecryptFailures(t *testing.T) {
	t.Parallel()
	s, c, m := startCache(t, redisserver.Config{})
	ctx := testContext(t)

	if err := c.Set(ctx, "session:42", []byte(`{"user":7}`), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "session:42"); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m.decryptFailures); got != 0 {
		t.Fatalf("decrypt_failures_total = %v before any tampering", got)
	}

	token := []byte(s.Do(t, "GET", "session:42"))
	token[len(token)/2] ^= 1 // still base64: the MAC no longer matches
	s.Do(t, "SET", "session:42", string(token))
	_, err := c.Get(ctx, "session:42")
	if !errors.Is(err, redsafe.ErrUndecryptable) || !errors.Is(err, seal.ErrInvalidToken) {
		t.Fatalf("Get of a tampered value = %v, want a DecryptError", err)
	}

	if got := value(t, m.decryptFailures); got != 1 {
		t.Errorf("decrypt_failures_total = %v, want exactly 1", got)
	}
	if got := value(t, m.errors, redsafe.CommandGet, string(redsafe.ClassUndecryptable)); got != 1 {
		t.Errorf(`errors_total{command="get",class="undecryptable"} = %v, want 1`, got)
	}
	if got := observations(t, m.decryptTime); got != 2 {
		t.Errorf("decrypt_seconds has %d observations, want 2 (one good, one refused)", got)
	}
	if got := c.Stats().DecryptFailures; got != 1 {
		t.Errorf("Stats().DecryptFailures = %d: the metric and the stats disagree", got)
	}
}

// TestPreviousKeyReads: a value sealed with a key that has since become a
// previous key opens, and is counted, so that operators can see from the
// service when rotation is complete; values under the primary key are not.
func TestPreviousKeyReads(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	ctx := testContext(t)
	old := options(s)
	before, _ := open(t, old)
	if err := before.Set(ctx, "k", []byte("sealed with the old key"), time.Minute); err != nil {
		t.Fatal(err)
	}

	rotated := old
	rotated.PreviousEncryptionKeys = []string{old.EncryptionKey}
	rotated.EncryptionKey = seal.GenerateKey().Encode()
	c, m := open(t, rotated)
	if got, err := c.Get(ctx, "k"); err != nil || string(got) != "sealed with the old key" {
		t.Fatalf("Get under the previous key = %q, %v", got, err)
	}
	if got := value(t, m.previousKeyReads); got != 1 {
		t.Errorf("previous_key_reads_total = %v after one old value, want 1", got)
	}
	if err := c.Set(ctx, "k", []byte("sealed with the new key"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m.previousKeyReads); got != 1 {
		t.Errorf("previous_key_reads_total = %v after reading a value under the primary key, want still 1", got)
	}
	if got := c.Stats().PreviousKeyReads; got != 1 {
		t.Errorf("Stats().PreviousKeyReads = %d: the metric and the stats disagree", got)
	}
}
