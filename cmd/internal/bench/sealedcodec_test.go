package bench_test

import (
	"testing"

	"github.com/redsafe/redsafe/seal"
)

// benchSealedRoundTrip is the sealed format on the Cache's path, beside
// benchRoundTrip's Fernet: a fresh buffer of the token's size for SealFor,
// as Cache.Set makes, and none for OpenFor, as Cache.Get passes; the value
// bound to a typical cache key. Package seal's BenchmarkSealFor and
// BenchmarkOpenFor are the same calls into reused buffers.
func benchSealedRoundTrip(b *testing.B, n int) {
	const name = "app:session:0123456789abcdef"
	s := seal.New(seal.GenerateKey()).WithFormat(seal.Sealed)
	pt := benchPlaintext(n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		tok := s.SealFor(make([]byte, 0, s.SealedLenFor(n)), name, pt)
		if _, err := s.OpenFor(nil, name, tok, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealedRoundTrip1KiB(b *testing.B)   { benchSealedRoundTrip(b, 1<<10) }
func BenchmarkSealedRoundTrip256KiB(b *testing.B) { benchSealedRoundTrip(b, 256<<10) }
