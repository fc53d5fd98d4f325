package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"testing"
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

// benchName is the name sealed values are stored under in the benchmarks:
// a typical cache key, bound into the associated data.
const benchName = "app:session:0123456789abcdef"

type sealedBench struct {
	name string
	s    *Sealer
	pt   []byte
}

// sealedBenchCases are the sealed format's benchmarks: random values
// (which DEFLATE cannot shrink, so compression is off), and JSON-like
// values with compression on.
func sealedBenchCases() (cases []sealedBench) {
	unit := []byte(`{"user":"alice","role":"reader","theme":"dark"},`)
	for _, n := range benchSizes {
		cases = append(cases,
			sealedBench{"sealed/" + sizeName(n), New(GenerateKey()).WithFormat(Sealed), benchPlaintext(n)},
			sealedBench{"sealed+deflate/" + sizeName(n), New(GenerateKey()).WithFormat(Sealed).WithCompression(true), bytes.Repeat(unit, n/len(unit)+1)[:n]})
	}
	return cases
}

func BenchmarkSealFor(b *testing.B) {
	for _, c := range sealedBenchCases() {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, 0, c.s.SealedLenFor(len(c.pt)))
			b.SetBytes(int64(len(c.pt)))
			b.ReportAllocs()
			for b.Loop() {
				dst = c.s.SealFor(dst[:0], benchName, c.pt)
			}
		})
	}
}

func BenchmarkOpenFor(b *testing.B) {
	for _, c := range sealedBenchCases() {
		b.Run(c.name, func(b *testing.B) {
			tok := c.s.SealFor(nil, benchName, c.pt)
			dst := make([]byte, 0, len(c.pt))
			b.SetBytes(int64(len(c.pt)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = c.s.OpenFor(dst[:0], benchName, tok, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGCM puts the sealed format beside its floor: the standard
// library's AES-256-GCM under one fixed key (fixed-key), and XAES-256-GCM
// (xaes), which adds a key per value, two AES blocks and a fresh
// AES-256-GCM, to it; xaes/derive is that per-value key alone. All with
// the associated data of a sealed token.
func BenchmarkGCM(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	fixed, _ := cipher.NewGCM(block)
	x := newXAES(key)
	nonce := make([]byte, xaesNonceSize)
	ad := []byte(benchName + "0123456789abcd")
	pt := benchPlaintext(1 << 10)
	for _, c := range []struct {
		name  string
		nonce []byte
		seal  func(dst, nonce, plaintext, ad []byte) []byte
		open  func(dst, nonce, ciphertext, ad []byte) ([]byte, error)
	}{
		{"fixed-key", nonce[:fixed.NonceSize()], fixed.Seal, fixed.Open},
		{"xaes", nonce, x.Seal, x.Open},
	} {
		ct := c.seal(nil, c.nonce, pt, ad)
		dst := make([]byte, 0, len(ct))
		b.Run(c.name+"/seal/1KiB", func(b *testing.B) {
			b.SetBytes(1 << 10)
			b.ReportAllocs()
			for b.Loop() {
				dst = c.seal(dst[:0], c.nonce, pt, ad)
			}
		})
		b.Run(c.name+"/open/1KiB", func(b *testing.B) {
			b.SetBytes(1 << 10)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = c.open(dst[:0], c.nonce, ct, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("xaes/derive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = x.aead(nonce)
		}
	})
}
