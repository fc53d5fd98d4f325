package bench_test

// The library's own module does not depend on fernet-go, so the checks
// against it live here, beside the other benchmark peers: interoperability
// in both directions, a differential fuzz target, and the codec round trips
// that docs/PERFORMANCE.md reports (cmd/perfdoc runs them).

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	fernet "github.com/fernet/fernet-go"
	"github.com/redsafe/redsafe/seal"
)

// fernetSizes covers the PKCS#7 boundaries (0, 15, 16, 17) and sizes that
// span several of Seal's 4 KiB internal chunks.
var fernetSizes = []int{0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 1 << 10, 4095, 4096, 4097, 3*4096 + 7, 64 << 10}

// fernetGoPair returns the same random key as a seal.Key and a fernet.Key.
func fernetGoPair(t testing.TB) (*seal.Key, *fernet.Key) {
	t.Helper()
	k := seal.GenerateKey()
	fk, err := fernet.DecodeKey(k.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return k, fk
}

func TestFernetGoInterop(t *testing.T) {
	k, fk := fernetGoPair(t)
	s := seal.New(k)
	sizes := append([]int(nil), fernetSizes...)
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
		if len(tok) != seal.SealedLen(n) {
			t.Fatalf("size %d: token length %d, SealedLen %d", n, len(tok), seal.SealedLen(n))
		}
		got = fernet.VerifyAndDecrypt(tok, time.Minute, []*fernet.Key{fk})
		if got == nil || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: fernet-go rejected or garbled our token", n)
		}
	}
}

// FuzzFernetGoAgreement: for any message, each implementation opens the
// other's token to the same bytes; for any token, both accept it or both
// refuse it, and agree on what it holds.
func FuzzFernetGoAgreement(f *testing.F) {
	k, fk := fernetGoPair(f)
	s := seal.New(k)
	keys := []*fernet.Key{fk}
	for _, n := range fernetSizes[:14] { // larger seeds only slow the fuzzer down
		f.Add(bytes.Repeat([]byte{0xa5}, n))
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "seal", "testdata", "fernet-spec", "generate.json"))
	if err != nil {
		f.Fatal(err)
	}
	var vs []struct{ Src, Token string }
	if err := json.Unmarshal(data, &vs); err != nil {
		f.Fatal(err)
	}
	for _, v := range vs {
		f.Add([]byte(v.Src))
		f.Add([]byte(v.Token))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		tok := s.Seal(nil, msg)
		if theirs := fernet.VerifyAndDecrypt(tok, time.Minute, keys); theirs == nil || !bytes.Equal(theirs, msg) {
			t.Fatal("fernet-go cannot open our token")
		}
		theirTok, err := fernet.EncryptAndSign(msg, fk)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Open(nil, theirTok, time.Minute); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("cannot open fernet-go's token: %v", err)
		}
		// msg read as a token: both must agree.
		ours, err := s.Open(nil, msg, 0)
		theirs := fernet.VerifyAndDecrypt(msg, 0, keys)
		if (err == nil) != (theirs != nil) || (err == nil && !bytes.Equal(ours, theirs)) {
			t.Fatalf("disagree on %q: ours %q (%v), fernet-go %q", msg, ours, err, theirs)
		}
	})
}

func benchPlaintext(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

func benchRoundTrip(b *testing.B, n int) {
	s := seal.New(seal.GenerateKey())
	pt := benchPlaintext(n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		tok := s.Seal(nil, pt)
		if _, err := s.Open(nil, tok, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRoundTripReuse shows the steady state of a caller that recycles its
// buffers: no allocation at all.
func benchRoundTripReuse(b *testing.B, n int) {
	s := seal.New(seal.GenerateKey())
	pt := benchPlaintext(n)
	tok := make([]byte, 0, seal.SealedLen(n))
	out := make([]byte, 0, seal.SealedLen(n))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		tok = s.Seal(tok[:0], pt)
		var err error
		if out, err = s.Open(out[:0], tok, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFernetGoRoundTrip(b *testing.B, n int) {
	var k fernet.Key
	if err := k.Generate(); err != nil {
		b.Fatal(err)
	}
	keys := []*fernet.Key{&k}
	pt := benchPlaintext(n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		tok, err := fernet.EncryptAndSign(pt, &k)
		if err != nil {
			b.Fatal(err)
		}
		if fernet.VerifyAndDecrypt(tok, 0, keys) == nil {
			b.Fatal("fernet-go rejected its own token")
		}
	}
}

// The Fernet layout: version (1), timestamp (8), IV (16), ciphertext, HMAC (32).
const (
	fernetHeaderLen = 1 + 8 + aes.BlockSize
	fernetOverhead  = fernetHeaderLen + sha256.Size
)

// benchRawRoundTrip is the floor: the same AES-CBC, HMAC-SHA256 and base64
// work with preallocated buffers, precomputed HMAC pads and no framing,
// error handling or key lookup.
func benchRawRoundTrip(b *testing.B, n int) {
	var key [32]byte
	rand.Read(key[:])
	block, _ := aes.NewCipher(key[16:])
	mac := hmac.New(sha256.New, key[:16])
	pt := benchPlaintext(n)
	ctLen := n/aes.BlockSize*aes.BlockSize + aes.BlockSize
	raw := make([]byte, fernetOverhead+ctLen)
	enc := make([]byte, base64.URLEncoding.EncodedLen(len(raw)))
	dec := make([]byte, len(raw))
	var sum [32]byte
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		// seal
		iv := raw[9:25]
		rand.Read(iv)
		ct := raw[fernetHeaderLen : fernetHeaderLen+ctLen]
		copy(ct, pt)
		for i := n; i < ctLen; i++ {
			ct[i] = byte(ctLen - n)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
		mac.Reset()
		mac.Write(raw[:fernetHeaderLen+ctLen])
		mac.Sum(raw[:fernetHeaderLen+ctLen])
		base64.URLEncoding.Encode(enc, raw)
		// open
		m, err := base64.URLEncoding.Decode(dec, enc)
		if err != nil || m != len(dec) {
			b.Fatal(err)
		}
		mac.Reset()
		mac.Write(dec[:m-32])
		if !hmac.Equal(mac.Sum(sum[:0]), dec[m-32:]) {
			b.Fatal("raw mac")
		}
		dct := dec[fernetHeaderLen : m-32]
		cipher.NewCBCDecrypter(block, dec[9:25]).CryptBlocks(dct, dct)
	}
}

func BenchmarkRoundTrip1KiB(b *testing.B)         { benchRoundTrip(b, 1<<10) }
func BenchmarkRoundTripReuse1KiB(b *testing.B)    { benchRoundTripReuse(b, 1<<10) }
func BenchmarkFernetGoRoundTrip1KiB(b *testing.B) { benchFernetGoRoundTrip(b, 1<<10) }
func BenchmarkRawRoundTrip1KiB(b *testing.B)      { benchRawRoundTrip(b, 1<<10) }

func BenchmarkRoundTrip256KiB(b *testing.B)         { benchRoundTrip(b, 256<<10) }
func BenchmarkRoundTripReuse256KiB(b *testing.B)    { benchRoundTripReuse(b, 256<<10) }
func BenchmarkFernetGoRoundTrip256KiB(b *testing.B) { benchFernetGoRoundTrip(b, 256<<10) }
func BenchmarkRawRoundTrip256KiB(b *testing.B)      { benchRawRoundTrip(b, 256<<10) }
