package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"

	fernet "github.com/fernet/fernet-go"
)

var benchSizes = []int{1 << 10, 256 << 10}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func benchPlaintext(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

func benchRoundTrip(b *testing.B, n int) {
	s := New(GenerateKey())
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
	s := New(GenerateKey())
	pt := benchPlaintext(n)
	tok := make([]byte, 0, SealedLen(n))
	out := make([]byte, 0, SealedLen(n))
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

// benchRawRoundTrip is the floor: the same AES-CBC, HMAC-SHA256 and base64
// work with preallocated buffers, precomputed HMAC pads and no framing,
// error handling or key lookup.
func benchRawRoundTrip(b *testing.B, n int) {
	var key [32]byte
	rand.Read(key[:])
	block, _ := aes.NewCipher(key[16:])
	mac := hmac.New(sha256.New, key[:16])
	pt := benchPlaintext(n)
	ctLen := paddedLen(n)
	raw := make([]byte, overhead+ctLen)
	enc := make([]byte, base64.URLEncoding.EncodedLen(len(raw)))
	dec := make([]byte, len(raw))
	var sum [32]byte
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		// seal
		iv := raw[9:25]
		rand.Read(iv)
		ct := raw[headerLen : headerLen+ctLen]
		copy(ct, pt)
		for i := n; i < ctLen; i++ {
			ct[i] = byte(ctLen - n)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
		mac.Reset()
		mac.Write(raw[:headerLen+ctLen])
		mac.Sum(raw[:headerLen+ctLen])
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
		dct := dec[headerLen : m-32]
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

func BenchmarkSeal(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			s := New(GenerateKey())
			pt := benchPlaintext(n)
			dst := make([]byte, 0, SealedLen(n))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				dst = s.Seal(dst[:0], pt)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			s := New(GenerateKey())
			tok := s.Seal(nil, benchPlaintext(n))
			dst := make([]byte, 0, len(tok))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = s.Open(dst[:0], tok, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
