package seal

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzOpenFor feeds OpenKeyFor arbitrary tokens and names. It must never
// panic, never modify its input, and never return plaintext for anything
// but a token it sealed, under the name it sealed it for: a mutation that
// opens would be a forgery.
func FuzzOpenFor(f *testing.F) {
	// Everything is deterministic: the fuzzing workers rerun this set-up
	// and must know the same tokens as the coordinator.
	s := New(mustKey(f, exampleKey), mustKey(f, fuzzKey)).
		WithClock(fixedClock(time.Unix(exampleTimestamp, 0)))
	sealed := map[string]bool{}
	add := func(name string, tok []byte) {
		sealed[name+"\x00"+string(tok)] = true
		f.Add(tok, name)
	}
	v := loadSealedVectors(f)
	for _, e := range v.Valid {
		add(string(unhex(f, e.Name)), unhex(f, e.Token))
	}
	for _, e := range v.Invalid {
		f.Add(unhex(f, e.Token), string(unhex(f, e.Name)))
	}
	for _, n := range []int{0, 1, 1024, 5000} {
		value := bytes.Repeat([]byte("ab"), n/2)
		for _, compress := range []bool{false, true} {
			add("acct:alice", s.WithCompression(compress).sealSealed(nil, "acct:alice", value, exampleTimestamp, exampleNonce()))
		}
		// Fernet ignores names: it opens under any.
		add("", s.sealAt(nil, value, exampleTimestamp, exampleNonce()[:16]))
	}
	f.Fuzz(func(t *testing.T, tok []byte, name string) {
		orig := bytes.Clone(tok)
		p, idx, err := s.OpenKeyFor([]byte("x"), name, tok, 0)
		if !bytes.Equal(tok, orig) {
			t.Fatal("OpenKeyFor modified its input")
		}
		if err != nil {
			if p != nil || idx != -1 || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v with plaintext %q, index %d", err, p, idx)
			}
			return
		}
		if format, _ := TokenFormat(tok); format == Fernet {
			name = ""
		}
		if !sealed[name+"\x00"+string(tok)] {
			t.Fatalf("opened a token it never sealed for %q: %x", name, tok)
		}
	})
}

// FuzzSealForRoundTrip: every value under every name comes back, with and
// without compression, and only under its own name.
func FuzzSealForRoundTrip(f *testing.F) {
	s := sealedSealer(GenerateKey(), GenerateKey())
	for _, n := range fuzzSizes {
		f.Add(bytes.Repeat([]byte{0xa5}, n), "acct:alice", n%2 == 0)
	}
	f.Add([]byte{}, "", false)
	f.Fuzz(func(t *testing.T, msg []byte, name string, compress bool) {
		w := s.WithCompression(compress)
		tok := w.SealFor(nil, name, msg)
		if len(tok) > w.SealedLenFor(len(msg)) {
			t.Fatalf("token of %d bytes, SealedLenFor %d", len(tok), w.SealedLenFor(len(msg)))
		}
		got, err := s.OpenFor(nil, name, tok, time.Minute)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("OpenFor: %v", err)
		}
		if _, err := s.OpenFor(nil, name+"\x00", tok, 0); !errors.Is(err, ErrAuthentication) {
			t.Fatalf("opened under another name: %v", err)
		}
	})
}
