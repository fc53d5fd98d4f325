package seal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzKey is the spec vectors' key, so that their tokens, the seeds below,
// authenticate and mutations explore every check after the HMAC too.
// fuzzSizes covers the PKCS#7 boundaries (0, 15, 16, 17) and both sides of
// Seal's internal chunk.
var fuzzSizes = []int{0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 1 << 10, chunkLen - 1, chunkLen, chunkLen + 1}

const fuzzKey = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

// addSpecSeeds adds every token from the spec vector files.
func addSpecSeeds(f *testing.F) {
	dir := specDir(f)
	for _, name := range []string{"generate.json", "verify.json", "invalid.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		var vs []struct{ Token string }
		if err := json.Unmarshal(data, &vs); err != nil {
			f.Fatal(err)
		}
		for _, v := range vs {
			f.Add([]byte(v.Token))
		}
	}
}

func FuzzOpen(f *testing.F) {
	k := mustKey(f, fuzzKey)
	s := New(k).WithClock(fixedClock(time.Unix(499162801, 0)))
	addSpecSeeds(f)
	for _, n := range []int{0, 1, 16, 100} {
		f.Add(s.Seal(nil, bytes.Repeat([]byte{'a'}, n)))
	}
	f.Add([]byte{})
	f.Add([]byte("gAAAAA=="))
	f.Fuzz(func(t *testing.T, tok []byte) {
		orig := bytes.Clone(tok)
		p, idx, err := s.OpenKey([]byte("x"), tok, 0)
		if !bytes.Equal(tok, orig) {
			t.Fatal("Open modified its input")
		}
		_, ttlErr := s.Open(nil, tok, time.Minute)
		if err != nil {
			if p != nil || idx != -1 || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v with plaintext %q, index %d", err, p, idx)
			}
			if ttlErr == nil {
				t.Fatal("accepted with a ttl but rejected without")
			}
			return
		}
		p = p[1:]
		// Decoding is canonical: re-sealing the plaintext with the token's
		// own time and IV must give back the very same text.
		raw := decodeRaw(t, tok)
		again := s.sealAt(nil, p, binary.BigEndian.Uint64(raw[1:]), raw[1+tsLen:headerLen])
		if !bytes.Equal(again, tok) {
			t.Fatalf("re-seal differs:\n%s\n%s", again, tok)
		}
		if q, err := s.Open(nil, s.Seal(nil, p), time.Minute); err != nil || !bytes.Equal(q, p) {
			t.Fatalf("re-seal round trip: %v", err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	s := New(GenerateKey())
	for _, n := range fuzzSizes {
		f.Add(bytes.Repeat([]byte{0xa5}, n))
	}
	data, err := os.ReadFile(filepath.Join(specDir(f), "generate.json"))
	if err != nil {
		f.Fatal(err)
	}
	var vs []struct{ Src string }
	if err := json.Unmarshal(data, &vs); err != nil {
		f.Fatal(err)
	}
	for _, v := range vs {
		f.Add([]byte(v.Src))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		tok := s.Seal(nil, msg)
		if len(tok) != SealedLen(len(msg)) {
			t.Fatalf("token length %d, SealedLen %d", len(tok), SealedLen(len(msg)))
		}
		got, err := s.Open(nil, tok, time.Minute)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Open: %v", err)
		}
	})
}
