package seal

import (
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
