package audit

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// Plaintext values written by an admin, persisted with AOF, under key names
// that carry a JWT and an email address.
func TestPlaintextValuesPersisted(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{"appendonly yes"}})
	key := seal.GenerateKey()
	ours, theirs := seal.New(key), seal.New(seal.GenerateKey())
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	plaintext := map[string]string{
		"session:" + jwt:                "plain-session-value-1",
		"user:alice@example.com":        "plain-profile-value-2",
		"config:feature-flags":          "plain-flags-value-3",
		"sess:3f9a1c7be2d84a6f91b05c2e": "plain-value-4", // 24 hex characters: a session id
	}
	for k, v := range plaintext {
		if got := s.Do(t, "SET", k, v); got != "+OK" {
			t.Fatalf("SET: %s", got)
		}
	}
	for i, tok := range [][]byte{ours.Seal(nil, []byte("sealed-1")), ours.Seal(nil, []byte("sealed-2")), theirs.Seal(nil, []byte("sealed-3"))} {
		s.Do(t, "SET", "cache:"+itoa(i), string(tok))
	}
	s.Do(t, "RPUSH", "queue:jobs", "not-a-string-value") // other types are not judged
	secrets := []string{jwt, "alice@example.com", "3f9a1c7be2d84a6f91b05c2e"}
	for _, v := range plaintext {
		secrets = append(secrets, v)
	}
	o := tlsOptions(s, redsafe.Development, "", s.Password)
	o.EncryptionKey = key.Encode()
	r := auditOK(t, o, secrets...)

	f := want(t, r, "data.unencrypted", sevError)
	wantContains(t, f, "4 of 7 sampled string values", "(57%)", "1 more are tokens the configured keys do not open", "formats: 2 Fernet (29%), 0 sealed (0%), 4 neither (57%), 1 unverified (14%")
	wantContains(t, want(t, r, "persistence.plaintext-dump", sevError), "appendonly yes", "4 sampled values")
	f = want(t, r, "data.secret-in-keyname", sevError)
	wantContains(t, f, "of 8 key names", "1 name looks like bearer tokens (JWT)", "session:…(",
		"1 name looks like email addresses", "user:…(22 bytes)", "long random strings")
}

// Only sealed values, in both formats: nothing to fix, even with
// persistence on, and the share of each format is reported.
func TestEncryptedValuesPersisted(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{"appendonly yes", `save "3600 1"`}})
	sealer := seal.New(seal.GenerateKey())
	sealed := sealer.WithFormat(seal.Sealed)
	for i := range 20 {
		name := "cache:item:" + itoa(i)
		tok := sealer.Seal(nil, []byte("value"))
		if i%4 == 0 {
			tok = sealed.SealFor(nil, name, []byte("value"))
		}
		s.Do(t, "SET", name, string(tok))
	}
	// Without a configured key the audit still tells tokens from
	// plaintext, but not their format.
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantNone(t, r, "persistence.plaintext-dump", "data.secret-in-keyname")
	if f := want(t, r, "data.unencrypted", sevInfo); !strings.Contains(f.Message, "looks sealed; 20 could not be opened") || !strings.Contains(f.Evidence, "20 unverified") {
		t.Fatalf("without a key: %+v", f)
	}
	// With the key, each format's share is counted.
	o := tlsOptions(s, redsafe.Development, "", s.Password)
	o.EncryptionKey = sealer.Keys()[0].Encode()
	r = auditOK(t, o)
	if f := want(t, r, "data.unencrypted", sevInfo); f.Message != "every sampled value is sealed" || !strings.Contains(f.Evidence, "formats: 15 Fernet (75%), 5 sealed (25%), 0 neither (0%), 0 unverified") {
		t.Fatalf("with the key: %+v", f)
	}
	// Plaintext that starts like a sealed token (a MessagePack array) is
	// not counted as sealed.
	s.Do(t, "SET", "cache:msgpack", "\x91"+strings.Repeat("x", 80))
	r = auditOK(t, o)
	if f := want(t, r, "data.unencrypted", sevInfo); strings.Contains(f.Message, "every sampled value is sealed") || !strings.Contains(f.Evidence, "5 sealed (24%)") {
		t.Fatalf("a MessagePack value counted as sealed: %+v", f)
	}
}

// The sample is bounded: with --sample 5 only five values are read.
func TestSampleSize(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	for i := range 30 {
		s.Do(t, "SET", "k:"+itoa(i), "plain")
	}
	r := auditWith(t, Target{Options: tlsOptions(s, redsafe.Development, "", s.Password), Sample: 5})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	wantContains(t, want(t, r, "data.unencrypted", sevError), "5 of 5 sampled", "(100%)")
	if f, _ := r.Find("data.unencrypted"); strings.Contains(f.Evidence, "plain ") {
		t.Errorf("evidence shows a value: %s", f.Evidence)
	}
}

// TestHashedNamesAreNotSecrets: a hashed key name (REDIS_HASHED_KEY_PREFIXES)
// is not reported as a secret in a key name; an unhashed one still is.
func TestHashedNamesAreNotSecrets(t *testing.T) {
	o := redsafe.Options{KeyPrefix: "svc:", HashedKeyPrefixes: []string{"magic_link:"}}
	k := seal.GenerateKey()
	hashed := seal.HashedName(k.NameKey(), "svc:", "magic_link:", "magic_link:4f1c0ffee5ecret")
	if !hashedName(o, hashed) {
		t.Fatalf("%s is not recognised as a hashed name", hashed)
	}
	for _, name := range []string{"svc:magic_link:4f1c0ffee5ecret9a7d3b2c1e0f5a6b7c8d9e0f1a2b3c", "svc:session:" + hashed[len("svc:magic_link:"):], "magic_link:" + hashed[len("svc:magic_link:"):]} {
		if hashedName(o, name) {
			t.Errorf("%s is taken for a hashed name", name)
		}
	}
}
