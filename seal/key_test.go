package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseKeyRoundTrip(t *testing.T) {
	k := GenerateKey()
	text := k.Encode()
	if len(text) != 44 {
		t.Fatalf("Encode length %d", len(text))
	}
	std := strings.NewReplacer("-", "+", "_", "/").Replace(text)
	for _, s := range []string{text, " " + text + "\n", "\t" + text + "\r\n", std, text[:20] + "\n " + text[20:]} {
		p, err := ParseKey(s)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", s, err)
		}
		if p.Encode() != text || !p.Equal(k) || p.ID() != k.ID() {
			t.Fatalf("round trip changed the key")
		}
	}
	if GenerateKey().Equal(k) {
		t.Fatal("two generated keys are equal")
	}
}

func TestParseKeyErrors(t *testing.T) {
	good := GenerateKey().Encode()
	noncanon := []byte(good)
	// The character before '=' carries 2 unused bits; setting them keeps
	// the same 32 bytes in lenient decoders.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	noncanon[42] = alphabet[strings.IndexByte(alphabet, noncanon[42])|1]
	cases := map[string]string{
		"empty":             "",
		"whitespace":        "   ",
		"43 chars":          good[:43],
		"45 chars":          good + "A",
		"unpadded 32 bytes": strings.TrimRight(base64.URLEncoding.EncodeToString(make([]byte, 32)), "="),
		"16-byte key":       base64.URLEncoding.EncodeToString(make([]byte, 16)),
		"33 bytes":          base64.URLEncoding.EncodeToString(make([]byte, 33)),
		"bad chars":         strings.Repeat("!", 43) + "=",
		"inner space, 43":   good[:20] + " " + good[21:],
		"double padding":    good[:42] + "==",
		"extra padding":     good + "=",
		"two keys":          good + GenerateKey().Encode(),
		"non-canonical":     string(noncanon),
		"all zero":          base64.URLEncoding.EncodeToString(make([]byte, 32)),
		"every byte 0x5a":   base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)),
		"every byte 0xff":   base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)),
		"equal halves":      base64.URLEncoding.EncodeToString(bytes.Repeat([]byte("0123456789abcdef"), 2)),
		"period 2":          base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{1, 2}, 16)),
	}
	for name, s := range cases {
		k, err := ParseKey(s)
		if err == nil || k != nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v does not match ErrInvalidKey", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "redsafe keygen") {
			t.Errorf("%s: message %q is not actionable", name, msg)
		}
		// No 6-character run of the input may appear in the message.
		in := strings.TrimSpace(s)
		for i := 0; i+6 <= len(in); i++ {
			if strings.Contains(msg, in[i:i+6]) {
				t.Errorf("%s: message %q contains key text %q", name, msg, in[i:i+6])
				break
			}
		}
	}
}

// TestParseKeyNotRandom: constant keys and keys whose two halves are equal
// are refused with a reason that names neither the key nor its bytes, and
// a key that differs from such a key in one byte is accepted.
func TestParseKeyNotRandom(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []byte
		why  string
	}{
		{"all zero", make([]byte, 32), "every byte of it is the same"},
		{"all 0x80", bytes.Repeat([]byte{0x80}, 32), "every byte of it is the same"},
		{"equal halves", bytes.Repeat([]byte("redsafe-16-bytes"), 2), "its signing half equals its encryption half"},
	} {
		for _, text := range []string{base64.URLEncoding.EncodeToString(c.raw), base64.StdEncoding.EncodeToString(c.raw)} {
			_, err := ParseKey(text)
			if !errors.Is(err, ErrInvalidKey) || !errors.Is(err, ErrNotRandom) || !strings.Contains(fmt.Sprint(err), "not a random key: "+c.why) {
				t.Errorf("%s: err = %v", c.name, err)
			}
			// As a previous key it is accepted, so that what it sealed can
			// be opened and re-sealed under a new key.
			old, err := ParsePreviousKey(text)
			if err != nil {
				t.Fatalf("%s: ParsePreviousKey: %v", c.name, err)
			}
			token := New(old).Seal(nil, []byte("sealed long ago"))
			if pt, err := New(GenerateKey(), old).Open(nil, token, 0); err != nil || string(pt) != "sealed long ago" {
				t.Errorf("%s: a previous key that is not random does not open its token: %q, %v", c.name, pt, err)
			}
			if strings.Contains(fmt.Sprint(err), "redsafe-16") || strings.Contains(fmt.Sprint(err), text[:8]) {
				t.Errorf("%s: the error shows the key: %v", c.name, err)
			}
		}
		almost := bytes.Clone(c.raw)
		almost[31] ^= 1
		if _, err := ParseKey(base64.URLEncoding.EncodeToString(almost)); err != nil {
			t.Errorf("%s with one byte changed: %v", c.name, err)
		}
	}
}

func TestKeyID(t *testing.T) {
	k := GenerateKey()
	sum := sha256.Sum256(append([]byte("redsafe key id"), k.d.raw[:]...))
	if want := hex.EncodeToString(sum[:4]); k.ID() != want {
		t.Fatalf("ID = %s, want %s", k.ID(), want)
	}
	if (&Key{}).ID() != "invalid" {
		t.Fatal("zero Key ID")
	}
}

// TestKeyNeverPrinted formats keys every way a log line might and checks
// that no form of the key material appears.
func TestKeyNeverPrinted(t *testing.T) {
	k := GenerateKey()
	secrets := []string{
		k.Encode(),
		k.Encode()[:16],
		hex.EncodeToString(k.d.raw[:]),
		strings.ToUpper(hex.EncodeToString(k.d.raw[:])),
		string(k.d.raw[:8]),
		fmt.Sprint(k.d.raw[:4]),
	}
	type wrapper struct {
		K    Key
		P    *Key
		L    []*Key
		priv *Key
	}
	values := []any{k, *k, []*Key{k}, []Key{*k}, wrapper{*k, k, []*Key{k}, k}, &wrapper{*k, k, nil, k},
		map[string]*Key{"a": k}, New(k, GenerateKey()), *New(k)}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%T", "%p"}
	for _, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Fatalf("fmt %s of %T prints key material: %s", verb, v, out)
				}
			}
		}
		if b, err := json.Marshal(v); err == nil {
			for _, s := range secrets {
				if strings.Contains(string(b), s) {
					t.Fatalf("json of %T prints key material: %s", v, b)
				}
			}
		}
	}
	if got, want := fmt.Sprintf("%v|%s|%#v|%x", k, *k, k, k), strings.Repeat("seal.Key(id="+k.ID()+")|", 3)+"seal.Key(id="+k.ID()+")"; got != want {
		t.Errorf("formatting = %q, want %q", got, want)
	}
	if got := fmt.Sprintf("%q", k); got != `"seal.Key(id=`+k.ID()+`)"` {
		t.Errorf("%%q = %s", got)
	}
	var nilKey *Key
	if got := fmt.Sprint(nilKey); !strings.Contains(got, "nil") {
		t.Errorf("nil key prints %q", got)
	}
	if got := New(k).String(); got != "seal.Sealer(primary="+k.ID()+")" {
		t.Errorf("Sealer.String = %q", got)
	}
}
