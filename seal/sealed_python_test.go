package seal

import (
	"bytes"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// The Python reference of the sealed format, examples/python, run as CI
// runs it: Go and Python must read each other's tokens and agree on every
// byte of the vectors.
const pyReference = "../examples/python/redsafe_sealed.py"

type pySealedOp struct {
	Op        string   `json:"op"`
	Keys      []string `json:"keys,omitempty"`
	Name      string   `json:"name_hex"`
	Value     string   `json:"value,omitempty"`
	Compress  bool     `json:"compress,omitempty"`
	Now       *int64   `json:"now,omitempty"`
	Nonce     string   `json:"nonce,omitempty"`
	Flags     int      `json:"flags"`
	Payload   string   `json:"payload,omitempty"`
	Token     string   `json:"token,omitempty"`
	TTL       *int64   `json:"ttl,omitempty"`
	NameKey   string   `json:"name_key,omitempty"`
	KeyPrefix string   `json:"key_prefix_hex"`
	Prefix    string   `json:"prefix_hex"`
}

type pySealedResult struct {
	Token   string `json:"token"`
	Value   string `json:"value"`
	Index   int    `json:"index"`
	K       string `json:"K"`
	K1      string `json:"K1"`
	Kx      string `json:"Kx"`
	I       string `json:"I"`
	NK      string `json:"NK"`
	Stored  string `json:"stored"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

func runPyReference(t testing.TB, ops []pySealedOp) []pySealedResult {
	t.Helper()
	script, err := filepath.Abs(pyReference)
	if err != nil {
		t.Fatal(err)
	}
	var res []pySealedResult
	runPythonJSON(t, ops, &res, script, "batch")
	if len(res) != len(ops) {
		t.Fatalf("%s returned %d results for %d ops", pyReference, len(res), len(ops))
	}
	return res
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// TestPythonSealedVectors: Python derives the same K, I and NK, reproduces
// every valid token byte for byte, opens it, refuses every invalid one for
// the same reason, and computes the same hashed names.
func TestPythonSealedVectors(t *testing.T) {
	v := loadSealedVectors(t)
	var ops []pySealedOp
	for _, e := range v.Valid {
		keys := []string{e.Key}
		ts := int64(e.Timestamp)
		ops = append(ops,
			pySealedOp{Op: "derive", Keys: keys, Nonce: e.Nonce},
			pySealedOp{Op: "seal_payload", Keys: keys, Name: e.Name, Flags: e.Flags, Payload: e.P, Now: &ts, Nonce: e.Nonce},
			pySealedOp{Op: "seal", Keys: keys, Name: e.Name, Value: e.Value, Now: &ts, Nonce: e.Nonce},
			pySealedOp{Op: "open", Keys: keys, Name: e.Name, Token: e.Token})
	}
	for _, e := range v.Invalid {
		op := pySealedOp{Op: "open", Keys: []string{e.Key}, Name: e.Name, Token: e.Token}
		if e.TTL != 0 {
			op.TTL, op.Now = &e.TTL, &e.Now
		}
		ops = append(ops, op)
	}
	for _, e := range v.Names {
		ops = append(ops, pySealedOp{Op: "hashed_name", NameKey: e.NK, KeyPrefix: e.KeyPrefix, Prefix: e.Prefix, Name: e.Name})
	}
	res := runPyReference(t, ops)
	for _, e := range v.Valid {
		d, sealedP, sealed, opened := res[0], res[1], res[2], res[3]
		res = res[4:]
		if d.K != e.K || d.I != e.I || d.NK != e.NK || d.K1 != e.K1 || d.Kx != e.Kx {
			t.Errorf("%s: Python derives K %s, I %s, NK %s, K1 %s, Kx %s", e.Desc, d.K, d.I, d.NK, d.K1, d.Kx)
		}
		if sealedP.Token != e.Token {
			t.Errorf("%s: Python seals P to %s, want %s", e.Desc, sealedP.Token, e.Token)
		}
		// Python's seal compresses only when asked, and these are sealed
		// uncompressed; the compressed vector's P is Go's DEFLATE.
		if e.Flags == 0 && sealed.Token != e.Token {
			t.Errorf("%s: Python seals the value to %s, want %s", e.Desc, sealed.Token, e.Token)
		}
		if opened.Error != "" || opened.Value != e.Value {
			t.Errorf("%s: Python opens to %s, error %q", e.Desc, opened.Value, opened.Error)
		}
	}
	for _, e := range v.Invalid {
		if r := res[0]; r.Error != e.Error {
			t.Errorf("%s: Python error %q (%s), want %q", e.Desc, r.Error, r.Message, e.Error)
		}
		res = res[1:]
	}
	for i, e := range v.Names {
		if res[i].Stored != e.Stored {
			t.Errorf("%s: Python hashed name %s, want %s", e.Desc, res[i].Stored, e.Stored)
		}
	}
}

// interopCase is one value, with the ring it is sealed under.
type interopCase struct {
	ring     []*Key // primary first
	name     string
	value    []byte
	compress bool
}

// interopCases draws rings of one to three random keys, key names that are
// ASCII, UTF-8 or arbitrary bytes (empty included), and values from 0 to
// 64 KiB, half of them compressible, at the sizes around 1 KiB where
// compression starts.
func interopCases(t *testing.T, n int) []interopCase {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := mrand.New(mrand.NewPCG(seed, 14))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var cases []interopCase
	for i := range n {
		var c interopCase
		for range 1 + rng.IntN(3) {
			c.ring = append(c.ring, GenerateKey())
		}
		switch rng.IntN(3) {
		case 0:
			c.name = fmt.Sprintf("app:session:%x", randBytes(8))
		case 1:
			c.name = "usr:" + string([]rune{'é', 'ü', '中', '🔑'}[rng.IntN(4)]) + fmt.Sprint(rng.IntN(1000))
		default:
			c.name = string(randBytes(rng.IntN(40)))
		}
		size := []int{0, 1, 1023, 1024, 1025, rng.IntN(64<<10 + 1)}[i%6]
		if rng.IntN(2) == 0 {
			c.value = randBytes(size)
		} else {
			unit := []byte(fmt.Sprintf(`{"id":%d,"ok":true},`, rng.IntN(100)))
			c.value = bytes.Repeat(unit, size/len(unit)+1)[:size]
			c.compress = true
		}
		c.compress = c.compress || rng.IntN(4) == 0
		cases = append(cases, c)
	}
	return cases
}

func keyTexts(ring []*Key) []string {
	var out []string
	for _, k := range ring {
		out = append(out, k.Encode())
	}
	return out
}

// rotated puts the ring's i-th key first, so that a reader with the whole
// ring must pick the sealing key by its ID.
func rotated(ring []*Key, i int) []*Key {
	return append(append([]*Key{ring[i]}, ring[:i]...), ring[i+1:]...)
}

func TestGoSealsPythonOpensSealed(t *testing.T) {
	cases := interopCases(t, 60)
	var ops []pySealedOp
	var tokens [][]byte
	for i, c := range cases {
		writer := i % len(c.ring)
		s := New(rotated(c.ring, writer)[0]).WithFormat(Sealed).WithCompression(c.compress)
		tok := s.SealFor(nil, c.name, c.value)
		tokens = append(tokens, tok)
		if compressible := c.compress && len(c.value) >= 1024 && bytes.HasPrefix(c.value, []byte(`{"id":`)); compressible && tok[5] != flagCompressed {
			t.Errorf("case %d: a compressible %d-byte value was not compressed", i, len(c.value))
		}
		ops = append(ops,
			pySealedOp{Op: "open", Keys: keyTexts(c.ring), Name: hexOf([]byte(c.name)), Token: hexOf(tok)},
			pySealedOp{Op: "open", Keys: keyTexts(c.ring), Name: hexOf([]byte(c.name + "x")), Token: hexOf(tok)})
	}
	res := runPyReference(t, ops)
	for i, c := range cases {
		opened, moved := res[2*i], res[2*i+1]
		if opened.Error != "" || opened.Value != hexOf(c.value) || opened.Index != i%len(c.ring) {
			t.Errorf("case %d (%d bytes, compress %v): Python opens to %d bytes with key %d, error %q (%s)",
				i, len(c.value), c.compress, len(opened.Value)/2, opened.Index, opened.Error, opened.Message)
		}
		if moved.Error != "authentication" {
			t.Errorf("case %d: Python opens a token moved to another name: error %q", i, moved.Error)
		}
	}
}

func TestPythonSealsGoOpensSealed(t *testing.T) {
	cases := interopCases(t, 60)
	var ops []pySealedOp
	for i, c := range cases {
		writer := rotated(c.ring, i%len(c.ring))[0]
		ops = append(ops, pySealedOp{Op: "seal", Keys: []string{writer.Encode()}, Name: hexOf([]byte(c.name)), Value: hexOf(c.value), Compress: c.compress})
	}
	for i, r := range runPyReference(t, ops) {
		c := cases[i]
		tok, err := hex.DecodeString(r.Token)
		if err != nil || r.Error != "" {
			t.Fatalf("case %d: Python seal: %q %v", i, r.Error, err)
		}
		if compressible := c.compress && len(c.value) >= 1024 && bytes.HasPrefix(c.value, []byte(`{"id":`)); compressible != (tok[5] == flagCompressed) {
			t.Errorf("case %d: Python's flags %02x for a %d-byte value, compress %v", i, tok[5], len(c.value), c.compress)
		}
		s := New(c.ring[0], c.ring[1:]...)
		got, idx, err := s.OpenKeyFor(nil, c.name, tok, time.Minute)
		if err != nil || !bytes.Equal(got, c.value) || idx != i%len(c.ring) {
			t.Errorf("case %d (%d bytes): Go opens to %d bytes with key %d, %v", i, len(c.value), len(got), idx, err)
		}
		if _, err := s.OpenFor(nil, c.name+"x", tok, 0); err == nil {
			t.Errorf("case %d: Go opens Python's token under another name", i)
		}
	}
}

func TestPythonHashedNames(t *testing.T) {
	cases := interopCases(t, 40)
	var ops []pySealedOp
	prefixes := []string{"", "magic_link:", "sess:é:"}
	for i, c := range cases {
		prefix := prefixes[i%len(prefixes)]
		ops = append(ops, pySealedOp{Op: "hashed_name", Keys: keyTexts(c.ring[:1]), KeyPrefix: hexOf([]byte(c.name[:len(c.name)/2])),
			Prefix: hexOf([]byte(prefix)), Name: hexOf([]byte(prefix + c.name))})
	}
	for i, r := range runPyReference(t, ops) {
		c := cases[i]
		prefix := prefixes[i%len(prefixes)]
		if got := HashedName(c.ring[0].NameKey(), c.name[:len(c.name)/2], prefix, prefix+c.name); hexOf([]byte(got)) != r.Stored {
			t.Errorf("case %d: Go hashed name %x, Python %s", i, got, r.Stored)
		}
	}
}
