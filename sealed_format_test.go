package redsafe

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestSealedFormat: with ValueFormat sealed, a value is stored as a
// sealed token (first byte 0x91) and read back; a token copied with raw
// commands from one key to another (GET a, SET b) is refused for b with
// ErrUndecryptable and counted, where the same copy of a Fernet token is
// accepted (documented: Fernet does not bind a value to its key); a
// Fernet value written before the switch is still read.
func TestSealedFormat(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	ctx := testContext(t)
	fernet := openCache(t, serverOptions(s))
	o := serverOptions(s)
	o.ValueFormat = FormatSealed
	sealed := openCache(t, o)

	if err := fernet.Set(ctx, "before:switch", []byte("old value"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := sealed.Set(ctx, "acct:alice", []byte(`{"balance":100}`), time.Minute); err != nil {
		t.Fatal(err)
	}
	raw := s.Do(t, "GET", "acct:alice")
	if raw == "" || raw[0] != 0x91 || strings.Contains(raw, "balance") {
		t.Fatalf("the stored value %q is not a sealed token", raw)
	}
	if got, err := sealed.Get(ctx, "acct:alice"); err != nil || string(got) != `{"balance":100}` {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if got, err := sealed.Get(ctx, "before:switch"); err != nil || string(got) != "old value" {
		t.Fatalf("a Fernet value under the sealed format: %q, %v", got, err)
	}

	// The attacker with write access to Redis but no key copies Alice's
	// token onto Mallory's key.
	if r := s.Do(t, "SET", "acct:mallory", raw); r != "+OK" {
		t.Fatal(r)
	}
	before := sealed.Stats().DecryptFailures
	got, err := sealed.Get(ctx, "acct:mallory")
	if !errors.Is(err, ErrUndecryptable) || got != nil {
		t.Fatalf("a token moved to another key: %q, %v; want ErrUndecryptable", got, err)
	}
	if sealed.Stats().DecryptFailures != before+1 {
		t.Fatalf("the refused value was not counted: %d failures", sealed.Stats().DecryptFailures)
	}
	// While Fernet values are read, a Fernet token copied under a sealed
	// cache's key opens too: sealed-only refuses it.
	if r := s.Do(t, "SET", "acct:carol", s.Do(t, "GET", "before:switch")); r != "+OK" {
		t.Fatal(r)
	}
	if got, err := sealed.Get(ctx, "acct:carol"); err != nil || string(got) != "old value" {
		t.Fatalf("a Fernet token under a sealed cache: %q, %v", got, err)
	}
	only := o
	only.SealedOnly = true
	strict := openCache(t, only)
	if got, err := strict.Get(ctx, "acct:carol"); !errors.Is(err, ErrUndecryptable) || !errors.Is(err, seal.ErrFernetRefused) || got != nil {
		t.Fatalf("sealed-only read a Fernet token: %q, %v", got, err)
	}
	if got, err := strict.Get(ctx, "acct:alice"); err != nil || string(got) != `{"balance":100}` {
		t.Fatalf("sealed-only Get of a sealed value = %q, %v", got, err)
	}
	// The same copy under Fernet opens: Fernet binds nothing to the key.
	if r := s.Do(t, "SET", "acct:mallory", s.Do(t, "GET", "before:switch")); r != "+OK" {
		t.Fatal(r)
	}
	if got, err := fernet.Get(ctx, "acct:mallory"); err != nil || string(got) != "old value" {
		t.Fatalf("a Fernet token copied to another key: %q, %v (Fernet accepts it)", got, err)
	}
}

// TestHashedKeyNames: a key under a hashed prefix is stored as the prefix
// and a keyed hash of its name, which no SCAN or MONITOR can read back,
// and is found again by its name; other keys are stored as they are.
func TestHashedKeyNames(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	ctx := testContext(t)
	o := serverOptions(s)
	o.ValueFormat, o.KeyPrefix, o.HashedKeyPrefixes = FormatSealed, "svc:", []string{"magic_link:", "session:"}
	c := openCache(t, o)
	secretName := "magic_link:4f1c0ffee5ecret"
	if err := c.Set(ctx, secretName, []byte("alice"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "plain:1", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	keys := s.Do(t, "KEYS", "*")
	if strings.Contains(keys, "4f1c0ffee5ecret") || !strings.Contains(keys, "svc:plain:1") {
		t.Fatalf("KEYS shows %q", keys)
	}
	k, err := seal.ParseKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	want := seal.HashedName(k.NameKey(), "svc:", "magic_link:", secretName)
	if !strings.HasPrefix(want, "svc:magic_link:") || !strings.Contains(keys, want) {
		t.Fatalf("stored as %q, want %q", keys, want)
	}
	if got, err := c.Get(ctx, secretName); err != nil || string(got) != "alice" {
		t.Fatalf("Get by name = %q, %v", got, err)
	}
	if n, err := c.Delete(ctx, secretName, "plain:1"); err != nil || n != 2 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
}

// TestFormatOptions: the environment contract reads the format, and
// refuses what it does not know.
func TestFormatOptions(t *testing.T) {
	lookup := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if o := OptionsFromLookup(lookup(map[string]string{EnvEncryptionFormat: "Sealed-Only"})); o.ValueFormat != FormatSealed || !o.SealedOnly {
		t.Fatalf("sealed-only: %v %v", o.ValueFormat, o.SealedOnly)
	}
	o := OptionsFromLookup(lookup(map[string]string{EnvEncryptionFormat: "sealed", EnvEncryptionCompression: "true", EnvHashedKeyPrefixes: "magic_link:, session:"}))
	if o.ValueFormat != FormatSealed || !o.Compress || len(o.HashedKeyPrefixes) != 2 || o.HashedKeyPrefixes[1] != "session:" {
		t.Fatalf("OptionsFromLookup = %v %v %q", o.ValueFormat, o.Compress, o.HashedKeyPrefixes)
	}
	bad := OptionsFromLookup(lookup(map[string]string{"ENVIRONMENT": "development", EnvURL: "rediss://127.0.0.1:6380", EnvEncryptionKey: testKey, EnvEncryptionFormat: "aes"}))
	if r := Validate(bad); !hasFinding(r, "encryption.format") {
		t.Fatalf("an unknown format is not refused: %v", r.Findings)
	}
	fernetCompress := OptionsFromLookup(lookup(map[string]string{"ENVIRONMENT": "development", EnvURL: "rediss://127.0.0.1:6380", EnvEncryptionKey: testKey, EnvEncryptionCompression: "1"}))
	if r := Validate(fernetCompress); !hasFinding(r, "encryption.compression-unused") {
		t.Fatalf("compression with Fernet says nothing: %v", r.Findings)
	}
}

func hasFinding(r Report, id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}
