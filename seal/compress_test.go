package seal

import (
	"bytes"
	"compress/flate"
	"io"
	"reflect"
	"testing"
)

// TestPooledCompressorIsFresh: a pooled writer compresses every value as a
// new one would, whatever it compressed before. Otherwise the length of
// one value would depend on the content of the previous one, a leak across
// values that compression-off-by-default does not cover.
func TestPooledCompressorIsFresh(t *testing.T) {
	fresh := func(v []byte) []byte { return deflateAt(t, flate.BestSpeed, v) }
	secret := bytes.Repeat([]byte("token=8f14e45fceea167a5a36dedd4bea2543;"), 100)
	guess := bytes.Repeat([]byte("token=8f14e45fceea167a5a36dedd4bea2543!"), 100)
	for range 3 {
		compressValue(secret)
		if got := compressValue(guess); !bytes.Equal(got[lengthLen:], fresh(guess)) {
			t.Fatal("a pooled compressor's output depends on what it compressed before")
		}
	}
}

// holds reports whether any byte slice or array reachable from v, to its
// full capacity, contains needle.
func holds(v reflect.Value, needle []byte, seen map[uintptr]bool) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return false
		}
		if v.Kind() == reflect.Pointer {
			if seen[v.Pointer()] {
				return false
			}
			seen[v.Pointer()] = true
		}
		return holds(v.Elem(), needle, seen)
	case reflect.Struct:
		for i := range v.NumField() {
			if holds(v.Field(i), needle, seen) {
				return true
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Contains(v.Slice(0, v.Cap()).Bytes(), needle)
		}
		for i := range v.Len() {
			if holds(v.Index(i), needle, seen) {
				return true
			}
		}
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.CanAddr() {
			return bytes.Contains(v.Slice(0, v.Len()).Bytes(), needle)
		}
		for i := range v.Len() {
			if holds(v.Index(i), needle, seen) {
				return true
			}
		}
	}
	return false
}

// TestPooledFlateKeepsNoPlaintext: what goes back to the pools holds none
// of the value it compressed or inflated, as the Fernet workers hold none.
func TestPooledFlateKeepsNoPlaintext(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	secret := bytes.Repeat([]byte("s3cr3t-session-0123456789 "), 200)
	p := compressValue(secret)
	if p == nil {
		t.Fatal("not compressed")
	}
	w := compressors.Get().(*flate.Writer)
	if holds(reflect.ValueOf(w), secret[:32], map[uintptr]bool{}) {
		t.Error("a pooled DEFLATE writer holds the plaintext it compressed")
	}
	compressors.Put(w)

	if got, err := inflateValue(nil, p); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("inflate: %v", err)
	}
	r, ok := decompressors.Get().(io.ReadCloser)
	if !ok {
		t.Skip("the collector emptied the pool")
	}
	if holds(reflect.ValueOf(r), secret[:32], map[uintptr]bool{}) {
		t.Error("a pooled DEFLATE reader holds the plaintext it inflated")
	}
	decompressors.Put(r)
}
