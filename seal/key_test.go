package seal

import (
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
	for _, s := range []string{text, " " + text + "\n", "\t" + text + "\r\n"} {
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
		"standard alphabet": strings.Repeat("+/", 21) + "A=",
		"bad chars":         strings.Repeat("!", 43) + "=",
		"inner space":       good[:20] + " " + good[21:],
		"inner newline":     good[:20] + "\n" + good[21:],
		"double padding":    good[:42] + "==",
		"non-canonical":     string(noncanon),
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
