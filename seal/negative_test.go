package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

func decodeRaw(t testing.TB, tok []byte) []byte {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(string(tok))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func encodeRaw(raw []byte) []byte {
	return []byte(base64.URLEncoding.EncodeToString(raw))
}

// craftToken builds a correctly authenticated token around an arbitrary,
// already padded plaintext, independently of the code under test, so that
// tests can reach the checks that run after authentication.
func craftToken(k *Key, ts uint64, padded []byte) []byte {
	raw := make([]byte, headerLen, overhead+len(padded))
	raw[0] = version
	binary.BigEndian.PutUint64(raw[1:], ts)
	copy(raw[9:], "0123456789abcdef")
	block, _ := aes.NewCipher(k.d.raw[16:])
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, raw[9:25]).CryptBlocks(ct, padded)
	raw = append(raw, ct...)
	m := hmac.New(sha256.New, k.d.raw[:16])
	m.Write(raw)
	return encodeRaw(m.Sum(raw))
}

// openMust fails unless Open and OpenKey reject tok with want and return no
// plaintext, and unless the caller's dst prefix is left intact.
func openMust(t *testing.T, s *Sealer, tok []byte, ttl time.Duration, want error, what string) {
	t.Helper()
	dst := make([]byte, 3, 3+len(tok)+64)
	copy(dst, "pfx")
	got, err := s.Open(dst, tok, ttl)
	if !errors.Is(err, want) || !errors.Is(err, ErrInvalidToken) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
	if got != nil {
		t.Errorf("%s: Open returned %d bytes with error", what, len(got))
	}
	if string(dst) != "pfx" {
		t.Errorf("%s: dst prefix changed to %q", what, dst)
	}
	if p, idx, err2 := s.OpenKey(nil, tok, ttl); p != nil || idx != -1 || !errors.Is(err2, want) {
		t.Errorf("%s: OpenKey = %d bytes, %d, %v", what, len(p), idx, err2)
	}
}

func TestTamperEachByte(t *testing.T) {
	k := GenerateKey()
	s := New(k)
	now := time.Now()
	tok := s.WithClock(fixedClock(now)).Seal(nil, []byte("forty bytes of secret plaintext........."))
	raw := decodeRaw(t, tok)
	region := func(i int) string {
		switch {
		case i == 0:
			return "version"
		case i < 1+tsLen:
			return "timestamp"
		case i < headerLen:
			return "IV"
		case i < len(raw)-macLen:
			return "ciphertext"
		}
		return "HMAC"
	}
	for i := range raw {
		for bit := range 8 {
			bad := bytes.Clone(raw)
			bad[i] ^= 1 << bit
			want := ErrAuthentication
			if i == 0 {
				want = ErrMalformed
			}
			// With a ttl, a flipped timestamp must still be reported as
			// tampering, not as expired or future.
			for _, ttl := range []time.Duration{0, time.Hour} {
				openMust(t, s.WithClock(fixedClock(now)), encodeRaw(bad), ttl, want, region(i))
			}
		}
	}
	if _, err := s.Open(nil, tok, 0); err != nil {
		t.Fatalf("untampered token: %v", err)
	}
}

func TestTamperEachChar(t *testing.T) {
	s := New(GenerateKey())
	tok := s.Seal(nil, []byte("some value"))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
	for i := range tok {
		for _, c := range []byte(alphabet) {
			if c == tok[i] {
				continue
			}
			bad := bytes.Clone(tok)
			bad[i] = c
			if p, err := s.Open(nil, bad, 0); err == nil || p != nil {
				t.Fatalf("char %d changed to %q: accepted (%q)", i, c, p)
			}
		}
	}
}

func TestTruncated(t *testing.T) {
	s := New(GenerateKey())
	tok := s.Seal(nil, bytes.Repeat([]byte("x"), 100))
	for n := range len(tok) {
		if p, err := s.Open(nil, tok[:n], 0); !errors.Is(err, ErrInvalidToken) || p != nil {
			t.Fatalf("prefix of %d chars: %q, %v", n, p, err)
		}
	}
	// Dropping whole blocks of ciphertext keeps the structure valid, so
	// only the HMAC can catch it.
	raw := decodeRaw(t, tok)
	short := append(bytes.Clone(raw[:len(raw)-macLen-aes.BlockSize]), raw[len(raw)-macLen:]...)
	openMust(t, s, encodeRaw(short), 0, ErrAuthentication, "ciphertext block dropped")
	openMust(t, s, encodeRaw(raw[:len(raw)-aes.BlockSize]), 0, ErrAuthentication, "last block dropped")
}

func TestMalformed(t *testing.T) {
	s := New(GenerateKey())
	tok := s.Seal(nil, make([]byte, 1010))
	for !bytes.ContainsAny(tok, "-_") {
		tok = s.Seal(nil, make([]byte, 1010))
	}
	if !bytes.HasSuffix(tok, []byte("==")) {
		t.Fatal("test needs a token that ends in padding")
	}
	std := strings.NewReplacer("-", "+", "_", "/")
	mid := len(tok) / 2 / 4 * 4
	cases := []struct {
		name string
		tok  []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"whitespace only", bytes.Repeat([]byte(" "), 100)},
		{"newlines only", bytes.Repeat([]byte("\n"), 100)},
		{"not base64", bytes.Repeat([]byte("!"), len(tok))},
		{"standard alphabet", []byte(std.Replace(string(tok)))},
		{"trailing newline", append(bytes.Clone(tok), '\n')},
		{"leading space", append([]byte(" "), tok...)},
		{"CRLF inside", append(append(bytes.Clone(tok[:mid]), "\r\n\r\n"...), tok[mid:]...)},
		{"unpadded", bytes.TrimRight(tok, "=")},
		{"extra padding", append(bytes.Clone(tok), "===="...)},
		{"padding in the middle", append(append(bytes.Clone(tok[:mid]), "===="...), tok[mid:]...)},
		{"too short", []byte("gAAAAAAA")},
		{"token twice", append(bytes.Clone(tok), tok...)},
		{"version 0x81", func() []byte { r := decodeRaw(t, tok); r[0] = 0x81; return encodeRaw(r) }()},
		{"57 bytes: no ciphertext", encodeRaw(append(decodeRaw(t, tok)[:headerLen], make([]byte, macLen)...))},
		{"ciphertext not whole blocks", func() []byte {
			r := decodeRaw(t, tok)
			return encodeRaw(append(r[:headerLen+17], r[len(r)-macLen:]...))
		}()},
	}
	for _, c := range cases {
		openMust(t, s, c.tok, 0, ErrMalformed, c.name)
		if _, err := s.Timestamp(c.tok); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Timestamp err = %v", c.name, err)
		}
	}
}

func TestNonCanonicalBase64(t *testing.T) {
	// A token whose last character carries non-zero unused bits decodes to
	// the same bytes in lenient decoders; we reject it so that each token
	// has exactly one text form.
	s := New(GenerateKey())
	for n := range 16 {
		tok := s.Seal(nil, make([]byte, n))
		eq := bytes.IndexByte(tok, '=')
		if eq < 0 {
			continue
		}
		bad := bytes.Clone(tok)
		i := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", bad[eq-1])
		bad[eq-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i^1]
		openMust(t, s, bad, 0, ErrMalformed, "non-zero padding bits")
	}
}

func TestWrongKey(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	tok := New(a).Seal(nil, []byte("v"))
	openMust(t, New(b), tok, 0, ErrAuthentication, "wrong key")
	// A key that was retired from the ring no longer opens its tokens.
	openMust(t, New(b, GenerateKey()), tok, 0, ErrAuthentication, "retired previous key")
	if _, err := New(b).Timestamp(tok); !errors.Is(err, ErrAuthentication) {
		t.Errorf("Timestamp with wrong key: %v", err)
	}
	if _, err := New(b).Rotate(nil, tok); !errors.Is(err, ErrAuthentication) {
		t.Errorf("Rotate with wrong key: %v", err)
	}
	// Same encryption key, different signing key: still an HMAC failure.
	c := &Key{}
	raw := a.d.raw
	raw[0] ^= 1
	*c = *newKey(raw)
	openMust(t, New(c), tok, 0, ErrAuthentication, "signing half differs")
	if !strings.Contains(ErrAuthentication.Error(), "tampered or encrypted with a different key") {
		t.Errorf("ErrAuthentication message %q", ErrAuthentication)
	}
}

func TestExpiredAndFuture(t *testing.T) {
	k := GenerateKey()
	t0 := time.Unix(1_700_000_000, 0)
	tok := New(k).WithClock(fixedClock(t0)).Seal(nil, []byte("v"))
	at := func(d time.Duration) *Sealer { return New(k).WithClock(fixedClock(t0.Add(d))) }
	openMust(t, at(11*time.Second), tok, 10*time.Second, ErrExpired, "expired")
	openMust(t, at(-61*time.Second), tok, 10*time.Second, ErrFutureTimestamp, "future")
	for _, d := range []time.Duration{-60 * time.Second, 0, 10*time.Second + 999*time.Millisecond} {
		if _, err := at(d).Open(nil, tok, 10*time.Second); err != nil {
			t.Errorf("now = t0%+v: %v", d, err)
		}
	}
	// A fractional ttl compares against whole-second ages as Python does.
	if _, err := at(2*time.Second).Open(nil, tok, 1500*time.Millisecond); !errors.Is(err, ErrExpired) {
		t.Errorf("age 2s, ttl 1.5s: %v", err)
	}
	if _, err := at(1*time.Second).Open(nil, tok, 1500*time.Millisecond); err != nil {
		t.Errorf("age 1s, ttl 1.5s: %v", err)
	}
}

func TestBadPadding(t *testing.T) {
	k := GenerateKey()
	s := New(k)
	secret := []byte("SECRETSECRETSECRETSECRETSECRETSE") // two blocks
	for _, tail := range [][]byte{
		{0},       // pad length 0
		{17},      // longer than a block
		{255},     // far too long
		{2, 3},    // inconsistent bytes
		{5, 4, 4}, // inconsistent bytes
	} {
		padded := append(bytes.Clone(secret[:32-len(tail)]), tail...)
		tok := craftToken(k, uint64(time.Now().Unix()), padded)
		dst := make([]byte, 0, len(tok))
		if p, err := s.Open(dst, tok, time.Minute); !errors.Is(err, ErrBadPadding) || p != nil {
			t.Errorf("padding %v: %q, %v", tail, p, err)
		}
		// The failed decryption must not leave plaintext in dst's memory.
		if bytes.Contains(dst[:cap(dst)], []byte("SECRET")) {
			t.Errorf("padding %v: plaintext left in dst's spare capacity", tail)
		}
	}
	// The crafted tokens are otherwise fine: valid padding opens.
	ok := craftToken(k, uint64(time.Now().Unix()), append(bytes.Clone(secret[:31]), 1))
	if p, err := s.Open(nil, ok, time.Minute); err != nil || !bytes.Equal(p, secret[:31]) {
		t.Errorf("crafted valid token: %q, %v", p, err)
	}
}
