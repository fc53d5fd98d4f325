package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// Every 3-byte input, encoded in one buffer, must match encoding/base64.
func TestEncodeBulkExhaustive(t *testing.T) {
	src := make([]byte, 3<<24)
	for v := range 1 << 24 {
		src[3*v], src[3*v+1], src[3*v+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	want := make([]byte, base64.URLEncoding.EncodedLen(len(src)))
	base64.URLEncoding.Encode(want, src)
	got := make([]byte, len(want))
	if n := encodeBulk(got, src); n != len(want) || !bytes.Equal(got, want) {
		t.Fatal("encodeBulk differs from encoding/base64")
	}
}

// Every valid quantum must decode as encoding/base64 decodes it.
func TestDecodeBulkExhaustive(t *testing.T) {
	src := make([]byte, 4<<24)
	for v := range 1 << 24 {
		for p := range 4 {
			src[4*v+p] = urlAlphabet[v>>(18-6*p)&63]
		}
	}
	want := make([]byte, 3<<24)
	if n, err := base64.URLEncoding.Decode(want, src); err != nil || n != len(want) {
		t.Fatal(n, err)
	}
	got := make([]byte, len(want))
	if !decodeBulk(got, src) || !bytes.Equal(got, want) {
		t.Fatal("decodeBulk differs from encoding/base64")
	}
}

// Every byte outside the alphabet, at every position of the 8-byte and the
// 4-byte loops, must be rejected.
func TestDecodeBulkRejects(t *testing.T) {
	valid := []byte("QUJDREVGR0hJSktM") // 16 chars: two 8-char steps
	for _, n := range []int{4, 8, 12, 16} {
		for i := range n {
			for c := range 256 {
				src := bytes.Clone(valid[:n])
				src[i] = byte(c)
				ok := bytes.IndexByte([]byte(urlAlphabet), byte(c)) >= 0
				if got := decodeBulk(make([]byte, n/4*3), src); got != ok {
					t.Fatalf("len %d, char %d = %q: decodeBulk = %v", n, i, byte(c), got)
				}
			}
		}
	}
	if decodeBulk(make([]byte, 3), []byte("QUJ")) || decodeBulk(make([]byte, 2), []byte("QUJD")) {
		t.Fatal("decodeBulk accepted a bad length")
	}
}

func TestBulkRandomLengths(t *testing.T) {
	for n := 0; n <= 300; n += 3 {
		src := make([]byte, n)
		rand.Read(src)
		enc := make([]byte, n/3*4)
		if encodeBulk(enc, src) != len(enc) || string(enc) != base64.URLEncoding.EncodeToString(src) {
			t.Fatalf("encode %d bytes", n)
		}
		dec := make([]byte, n)
		if !decodeBulk(dec, enc) || !bytes.Equal(dec, src) {
			t.Fatalf("decode %d bytes", n)
		}
	}
}
