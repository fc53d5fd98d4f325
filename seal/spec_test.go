package seal

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type specVector struct {
	Desc   string `json:"desc"`
	Token  string `json:"token"`
	Now    string `json:"now"`
	IV     []byte `json:"-"`
	IVInts []int  `json:"iv"`
	TTLSec int    `json:"ttl_sec"`
	Src    string `json:"src"`
	Secret string `json:"secret"`
}

func loadVectors(t testing.TB, name string) []specVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(specDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var vs []specVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s: no vectors", name)
	}
	for i := range vs {
		for _, b := range vs[i].IVInts {
			vs[i].IV = append(vs[i].IV, byte(b))
		}
	}
	return vs
}

func (v specVector) now(t testing.TB) time.Time {
	t.Helper()
	now, err := time.Parse(time.RFC3339, v.Now)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

func TestSpecGenerate(t *testing.T) {
	for _, v := range loadVectors(t, "generate.json") {
		s := New(mustKey(t, v.Secret))
		got := s.sealAt(nil, []byte(v.Src), unixSeconds(v.now(t)), v.IV)
		if string(got) != v.Token {
			t.Errorf("generate %q:\n got %s\nwant %s", v.Src, got, v.Token)
		}
		if n := SealedLen(len(v.Src)); n != len(got) {
			t.Errorf("SealedLen(%d) = %d, token is %d", len(v.Src), n, len(got))
		}
		// Also through the public clock, which must produce the same header.
		pub := s.WithClock(fixedClock(v.now(t))).Seal(nil, []byte(v.Src))
		if string(pub[:12]) != v.Token[:12] {
			t.Errorf("Seal with clock: header %s, want %s", pub[:12], v.Token[:12])
		}
	}
}

func TestSpecVerify(t *testing.T) {
	for _, v := range loadVectors(t, "verify.json") {
		s := New(mustKey(t, v.Secret)).WithClock(fixedClock(v.now(t)))
		ttl := time.Duration(v.TTLSec) * time.Second
		got, err := s.Open(nil, []byte(v.Token), ttl)
		if err != nil || string(got) != v.Src {
			t.Errorf("verify %s: got %q, %v; want %q", v.Token, got, err, v.Src)
		}
		ts, err := s.Timestamp([]byte(v.Token))
		if err != nil || ts.Unix() != v.now(t).Unix()-1 {
			t.Errorf("Timestamp = %v, %v", ts, err)
		}
	}
}

// specInvalidClass is the error each invalid vector must produce. The spec
// only says "invalid"; the class is our contract with callers.
var specInvalidClass = map[string]error{
	"incorrect mac":  ErrAuthentication,
	"too short":      ErrMalformed,
	"invalid base64": ErrMalformed,
	"payload size not multiple of block size": ErrMalformed,
	"payload padding error":                   ErrBadPadding,
	"far-future TS (unacceptable clock skew)": ErrFutureTimestamp,
	"expired TTL":                         ErrExpired,
	"incorrect IV (causes padding error)": ErrBadPadding,
}

func TestSpecInvalid(t *testing.T) {
	for _, v := range loadVectors(t, "invalid.json") {
		want, ok := specInvalidClass[v.Desc]
		if !ok {
			t.Errorf("unknown invalid vector %q: add its expected error class", v.Desc)
			continue
		}
		s := New(mustKey(t, v.Secret)).WithClock(fixedClock(v.now(t)))
		got, err := s.Open([]byte("prefix"), []byte(v.Token), time.Duration(v.TTLSec)*time.Second)
		if !errors.Is(err, want) || !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want %v", v.Desc, err, want)
		}
		if got != nil {
			t.Errorf("%s: returned %q on error", v.Desc, got)
		}
	}
}
