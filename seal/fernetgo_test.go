package seal

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	fernet "github.com/fernet/fernet-go"
)

// diffSizes covers the PKCS#7 boundaries (0, 15, 16, 17) and sizes that
// span several of Seal's internal chunks.
var diffSizes = []int{0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 1 << 10, chunkLen - 1, chunkLen, chunkLen + 1, 3*chunkLen + 7, 64 << 10}

// fernetGoPair returns the same random key as a seal.Key and a fernet.Key.
func fernetGoPair(t testing.TB) (*Key, *fernet.Key) {
	t.Helper()
	k := GenerateKey()
	fk, err := fernet.DecodeKey(k.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return k, fk
}

func TestFernetGoInterop(t *testing.T) {
	k, fk := fernetGoPair(t)
	s := New(k)
	sizes := append([]int(nil), diffSizes...)
	for range 20 {
		var b [2]byte
		rand.Read(b[:])
		sizes = append(sizes, int(b[0])<<8|int(b[1]))
	}
	for _, n := range sizes {
		msg := make([]byte, n)
		rand.Read(msg)

		// fernet-go → seal
		tok, err := fernet.EncryptAndSign(msg, fk)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Open(nil, tok, time.Minute)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: Open(fernet-go token) = %d bytes, %v", n, len(got), err)
		}

		// seal → fernet-go
		tok = s.Seal(nil, msg)
		if len(tok) != SealedLen(n) {
			t.Fatalf("size %d: token length %d, SealedLen %d", n, len(tok), SealedLen(n))
		}
		got = fernet.VerifyAndDecrypt(tok, time.Minute, []*fernet.Key{fk})
		if got == nil || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: fernet-go rejected or garbled our token", n)
		}
	}
}

// Tokens from the same key, time and IV must be identical, byte for byte.
func TestFernetGoIdenticalTokens(t *testing.T) {
	k, fk := fernetGoPair(t)
	s := New(k)
	now := time.Unix(1_700_000_000, 0)
	for _, n := range diffSizes {
		msg := make([]byte, n)
		rand.Read(msg)
		theirs, err := fernet.EncryptAndSignAtTime(msg, fk, now)
		if err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, len(theirs))
		m, err := tokenEncoding.Decode(raw, theirs)
		if err != nil {
			t.Fatal(err)
		}
		ours := s.sealAt(nil, msg, uint64(now.Unix()), raw[:m][1+tsLen:headerLen])
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("size %d: tokens differ\nours   %s\ntheirs %s", n, ours, theirs)
		}
	}
}
