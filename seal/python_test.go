package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pyHelper runs a batch of operations against Python's cryptography.fernet.
// Keys, tokens and data travel as JSON on stdin and stdout, never on argv.
const pyHelper = `
import json, sys
from cryptography.fernet import Fernet, MultiFernet, InvalidToken

def multi(keys):
    return MultiFernet([Fernet(k) for k in keys])

out = []
for op in json.load(sys.stdin):
    kind = op["op"]
    if kind == "key":
        # What Fernet makes of one key text: its 32 bytes, or a refusal.
        try:
            f = Fernet(op["keys"][0])
            out.append({"hex": (f._signing_key + f._encryption_key).hex()})
        except ValueError:
            out.append({"error": "ValueError"})
        continue
    f = multi(op["keys"])
    try:
        if kind == "encrypt":
            msg = bytes.fromhex(op.get("hex", ""))
            tok = f.encrypt_at_time(msg, op["at"]) if "at" in op else f.encrypt(msg)
            out.append({"token": tok.decode()})
        elif kind == "decrypt":
            if "now" in op:
                p = f.decrypt_at_time(op["token"], op["ttl"], op["now"])
            else:
                p = f.decrypt(op["token"])
            out.append({"hex": p.hex()})
        elif kind == "rotate":
            out.append({"token": f.rotate(op["token"]).decode()})
        elif kind == "timestamp":
            out.append({"ts": f.extract_timestamp(op["token"])})
        else:
            raise ValueError("unknown op " + kind)
    except InvalidToken:
        out.append({"error": "InvalidToken"})
json.dump(out, sys.stdout)
`

type pyOp struct {
	Op    string   `json:"op"`
	Keys  []string `json:"keys"`
	Hex   string   `json:"hex,omitempty"`
	At    *int64   `json:"at,omitempty"`
	Token string   `json:"token,omitempty"`
	TTL   *int64   `json:"ttl,omitempty"`
	Now   *int64   `json:"now,omitempty"`
}

type pyResult struct {
	Token string `json:"token"`
	Hex   string `json:"hex"`
	TS    *int64 `json:"ts"`
	Error string `json:"error"`
}

func (r pyResult) bytes(t testing.TB) []byte {
	t.Helper()
	if r.Error != "" {
		t.Fatalf("python: %s", r.Error)
	}
	b, err := hex.DecodeString(r.Hex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runPython(t testing.TB, ops []pyOp) []pyResult {
	t.Helper()
	var res []pyResult
	runPythonJSON(t, ops, &res, "-c", pyHelper)
	if len(res) != len(ops) {
		t.Fatalf("python helper returned %d results for %d ops", len(res), len(ops))
	}
	return res
}

// runPythonJSON runs Python with args, in as JSON on stdin, and decodes
// stdout as JSON into out.
func runPythonJSON(t testing.TB, in, out any, args ...string) {
	t.Helper()
	py := findPython(t)
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, args...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %s: %v\n%s", args[0], err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("python %s output: %v", args[0], err)
	}
}

func i64(v int64) *int64 { return &v }

// pyMessages includes every byte value, the empty message, block boundaries
// and a 100 KiB message.
func pyMessages() [][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	msgs := [][]byte{{}, all, []byte("hello")}
	for _, n := range []int{1, 15, 16, 17, chunkLen + 1, 100 << 10} {
		m := make([]byte, n)
		rand.Read(m)
		msgs = append(msgs, m)
	}
	return msgs
}

func TestPythonEncryptsGoOpens(t *testing.T) {
	k := GenerateKey()
	msgs := pyMessages()
	var ops []pyOp
	for _, m := range msgs {
		ops = append(ops, pyOp{Op: "encrypt", Keys: []string{k.Encode()}, Hex: hex.EncodeToString(m)})
	}
	s := New(k)
	for i, r := range runPython(t, ops) {
		got, err := s.Open(nil, []byte(r.Token), time.Minute)
		if err != nil || !bytes.Equal(got, msgs[i]) {
			t.Errorf("message %d (%d bytes): Open = %d bytes, %v", i, len(msgs[i]), len(got), err)
		}
	}
}

func TestGoSealsPythonDecrypts(t *testing.T) {
	k := GenerateKey()
	s := New(k)
	msgs := pyMessages()
	var ops []pyOp
	for _, m := range msgs {
		ops = append(ops, pyOp{Op: "decrypt", Keys: []string{k.Encode()}, Token: string(s.Seal(nil, m))})
	}
	for i, r := range runPython(t, ops) {
		if got := r.bytes(t); !bytes.Equal(got, msgs[i]) {
			t.Errorf("message %d (%d bytes): Python decrypted %d different bytes", i, len(msgs[i]), len(got))
		}
	}
}

func TestPythonMultiFernet(t *testing.T) {
	oldK, newK := GenerateKey(), GenerateKey()
	old, cur := []string{oldK.Encode()}, []string{newK.Encode()}
	both := []string{newK.Encode(), oldK.Encode()}
	msg := []byte("value sealed before the rotation")
	at := time.Now().Unix() - 1000 // distinguishable from any re-seal time

	res := runPython(t, []pyOp{
		{Op: "encrypt", Keys: old, Hex: hex.EncodeToString(msg), At: i64(at)},
		{Op: "encrypt", Keys: both, Hex: hex.EncodeToString(msg), At: i64(at)},
	})
	fromOld, fromNew := []byte(res[0].Token), []byte(res[1].Token)
	// Python's own rotation, for Go to open below.
	pyRotated := runPython(t, []pyOp{{Op: "rotate", Keys: both, Token: string(fromOld)}})[0].Token

	s := New(newK, oldK)
	for _, c := range []struct {
		name  string
		tok   []byte
		index int
	}{{"old key", fromOld, 1}, {"new key", fromNew, 0}} {
		got, idx, err := s.OpenKey(nil, c.tok, 0)
		if err != nil || !bytes.Equal(got, msg) || idx != c.index {
			t.Errorf("%s: OpenKey = %q, %d, %v; want index %d", c.name, got, idx, err, c.index)
		}
	}

	rotated, err := s.Rotate(nil, fromOld)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(oldK).Open(nil, rotated, 0); !errors.Is(err, ErrAuthentication) {
		t.Errorf("rotated token still opens with the old key: %v", err)
	}
	res = runPython(t, []pyOp{
		{Op: "decrypt", Keys: cur, Token: string(rotated)},
		{Op: "timestamp", Keys: cur, Token: string(rotated)},
	})
	if got := res[0].bytes(t); !bytes.Equal(got, msg) {
		t.Errorf("Python decrypted rotated token to %q", got)
	}
	if res[1].TS == nil || *res[1].TS != at {
		t.Errorf("Python extract_timestamp of rotated token = %v, want %d", res[1].TS, at)
	}

	newOnly := New(newK)
	got, idx, err := newOnly.OpenKey(nil, []byte(pyRotated), 0)
	if err != nil || !bytes.Equal(got, msg) || idx != 0 {
		t.Errorf("Open(Python-rotated) = %q, %d, %v", got, idx, err)
	}
	if ts, err := newOnly.Timestamp([]byte(pyRotated)); err != nil || ts.Unix() != at {
		t.Errorf("Timestamp(Python-rotated) = %v, %v; want %d", ts, err, at)
	}
}

// TestPythonTTL checks that Go and Python accept and reject the same tokens
// at every clock offset around the ttl and clock-skew edges.
func TestPythonTTL(t *testing.T) {
	k := GenerateKey()
	const ttl = 30
	at := int64(1_700_000_000)
	tok := runPython(t, []pyOp{{Op: "encrypt", Keys: []string{k.Encode()}, Hex: "6869", At: i64(at)}})[0].Token

	var offsets []int64
	for d := int64(-63); d <= -58; d++ {
		offsets = append(offsets, d)
	}
	for d := int64(-1); d <= ttl+2; d++ {
		offsets = append(offsets, d)
	}
	var ops []pyOp
	for _, d := range offsets {
		ops = append(ops, pyOp{Op: "decrypt", Keys: []string{k.Encode()}, Token: tok, TTL: i64(ttl), Now: i64(at + d)})
	}
	res := runPython(t, ops)
	for i, d := range offsets {
		pyOK := res[i].Error == ""
		// Python truncates the clock to whole seconds, so any fraction of a
		// second past the offset must not change Go's answer.
		for _, frac := range []time.Duration{0, 999 * time.Millisecond} {
			now := time.Unix(at+d, 0).Add(frac)
			_, err := New(k).WithClock(fixedClock(now)).Open(nil, []byte(tok), ttl*time.Second)
			if (err == nil) != pyOK {
				t.Errorf("now = token time %+ds (+%v): Go err = %v, Python accepted = %v", d, frac, err, pyOK)
			}
			var want error
			switch {
			case d > ttl:
				want = ErrExpired
			case d < -60:
				want = ErrFutureTimestamp
			}
			if !errors.Is(err, want) && !(want == nil && err == nil) {
				t.Errorf("now = token time %+ds: err = %v, want %v", d, err, want)
			}
		}
	}
	// Without a ttl neither Go nor Python looks at the time.
	if _, err := New(k).WithClock(fixedClock(time.Unix(at+1e9, 0))).Open(nil, []byte(tok), 0); err != nil {
		t.Errorf("ttl 0: %v", err)
	}
}

// TestPythonKeyText runs Python's Fernet over key texts and checks, case by
// case, what Python does and what ParseKey does. Where both accept they must
// read the same 32 bytes; where ParseKey is stricter the reason is stated.
func TestPythonKeyText(t *testing.T) {
	var raw [32]byte
	for {
		rand.Read(raw[:])
		if std := base64.StdEncoding.EncodeToString(raw[:]); strings.Contains(std, "+") && strings.Contains(std, "/") {
			break // the standard and url-safe texts differ in both characters
		}
	}
	url, std := base64.URLEncoding.EncodeToString(raw[:]), base64.StdEncoding.EncodeToString(raw[:])
	noncanon := []byte(url)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	noncanon[42] = alphabet[strings.IndexByte(alphabet, noncanon[42])|1]
	halves := append(append([]byte{}, raw[:16]...), raw[:16]...)
	mixed := url[:22] + std[22:]

	const (
		both     = "both accept"
		neither  = "both refuse"
		stricter = "Python accepts, redsafe refuses"
	)
	cases := []struct{ name, text, want string }{
		{"url-safe", url, both},
		{"standard alphabet", std, both},
		{"mixed alphabets", mixed, both},
		{"surrounding whitespace", " \t" + std + "\r\n", both},
		{"inner space", url[:10] + " " + url[10:], both},
		{"inner newline", std[:22] + "\n" + std[22:], both},
		{"inner tab, vt, ff", url[:5] + "\t" + url[5:20] + "\v" + url[20:30] + "\f" + url[30:], both},

		{"no padding", url[:43], neither},
		{"16 bytes", base64.URLEncoding.EncodeToString(raw[:16]), neither},
		{"33 bytes", base64.URLEncoding.EncodeToString(append(raw[:], 1)), neither},
		{"non-ASCII space", url + "\u00a0", neither},

		// Python drops characters outside the alphabet: a quoted key or a
		// stray character reads as a key nobody wrote.
		{"quoted", `"` + url + `"`, stricter},
		{"stray character", url[:10] + "!" + url[10:], stricter},
		// Python stops at the padding: two keys run together read as the first.
		{"two keys run together", url + GenerateKey().Encode(), stricter},
		{"extra padding", url + "=", stricter},
		// Python ignores the 2 unused bits of the last character.
		{"non-canonical last character", string(noncanon), stricter},
		// Not random keys: only a hand-made key looks like these.
		{"all zero", base64.URLEncoding.EncodeToString(make([]byte, 32)), stricter},
		{"every byte 0xff", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), stricter},
		{"signing half equals encryption half", base64.URLEncoding.EncodeToString(halves), stricter},
	}
	var ops []pyOp
	for _, c := range cases {
		ops = append(ops, pyOp{Op: "key", Keys: []string{c.text}})
	}
	for i, r := range runPython(t, ops) {
		c := cases[i]
		k, err := ParseKey(c.text)
		pyOK, goOK := r.Error == "", err == nil
		got := map[[2]bool]string{{true, true}: both, {false, false}: neither, {true, false}: stricter}[[2]bool{pyOK, goOK}]
		if got != c.want {
			t.Errorf("%s: want %q, got Python accepted %v, ParseKey error %v", c.name, c.want, pyOK, err)
			continue
		}
		if goOK && hex.EncodeToString(k.d.raw[:]) != r.Hex {
			t.Errorf("%s: Python and ParseKey read different bytes", c.name)
		}
		if goOK && k.Encode() != url {
			t.Errorf("%s: Encode is not the canonical url-safe text", c.name)
		}
		if c.want == both && hex.EncodeToString(raw[:]) != r.Hex {
			t.Errorf("%s: Python read other bytes than the key's", c.name)
		}
	}
}

// TestPythonStandardAlphabetKey: a key written with '+' and '/' works in
// both directions, Python holding the standard text and Go parsing it.
func TestPythonStandardAlphabetKey(t *testing.T) {
	var k *Key
	std := ""
	for !strings.ContainsAny(std, "+/") {
		k = GenerateKey()
		std = base64.StdEncoding.EncodeToString(k.d.raw[:])
	}
	parsed := mustKey(t, std)
	if !parsed.Equal(k) {
		t.Fatal("the standard text parsed to another key")
	}
	msg := []byte("sealed under a key written in the standard alphabet")
	res := runPython(t, []pyOp{
		{Op: "encrypt", Keys: []string{std}, Hex: hex.EncodeToString(msg)},
		{Op: "decrypt", Keys: []string{std}, Token: string(New(parsed).Seal(nil, msg))},
	})
	if got, err := New(parsed).Open(nil, []byte(res[0].Token), time.Minute); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("Go opens Python's token: %q, %v", got, err)
	}
	if got := res[1].bytes(t); !bytes.Equal(got, msg) {
		t.Errorf("Python decrypted Go's token to %q", got)
	}
}

// TestPythonKeyTextMutations feeds Python's Fernet and ParseKey the same
// thousands of mutated key texts (whitespace anywhere, alphabets mixed,
// stray characters, padding moved, cut, doubled, last character changed)
// and checks the one property that matters: a text ParseKey accepts is
// accepted by Python as the same 32 bytes. A text read as different bytes
// would open nothing the other side sealed.
func TestPythonKeyTextMutations(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(10, 6))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	ws := []string{" ", "\t", "\n", "\r", "\v", "\f"}
	stray := []string{`"`, "'", "!", "=", ".", ",", "#", "*", "$", ":", "\\", "%", "\x00", "\x1b", "\x7f", "\u00a0", "\u2028", "\ufeff"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	insert := func(s, what string) string { i := rng.IntN(len(s) + 1); return s[:i] + what + s[i:] }
	var texts []string
	for range 3000 {
		var raw [32]byte
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		s := base64.URLEncoding.EncodeToString(raw[:])
		switch rng.IntN(8) {
		case 0: // whitespace anywhere
			for range 1 + rng.IntN(4) {
				s = insert(s, pick(ws))
			}
		case 1: // standard alphabet for some characters, and whitespace
			s = strings.Map(func(r rune) rune {
				if rng.IntN(2) == 0 {
					switch r {
					case '-':
						return '+'
					case '_':
						return '/'
					}
				}
				return r
			}, s)
			s = insert(s, pick(ws))
		case 2:
			s = insert(s, pick(stray))
		case 3:
			s = s[:rng.IntN(len(s)+1)]
		case 4:
			s += []string{"=", "A", "AAAA", "==", "A=", GenerateKey().Encode()}[rng.IntN(6)]
		case 5: // the last character's unused bits
			b := []byte(s)
			b[42] = alphabet[strings.IndexByte(alphabet, b[42])&^3|rng.IntN(4)]
			s = string(b)
		case 6:
			s = strings.Replace(s, "=", "", 1)
			s = insert(s, "=")
		case 7:
			s = pick(ws) + s + pick(ws)
		}
		texts = append(texts, s)
	}
	ops := make([]pyOp, len(texts))
	for i, s := range texts {
		ops[i] = pyOp{Op: "key", Keys: []string{s}}
	}
	accepted := 0
	for i, r := range runPython(t, ops) {
		k, err := ParseKey(texts[i])
		if err != nil {
			continue
		}
		accepted++
		switch {
		case r.Error != "":
			t.Errorf("ParseKey accepts %q, Python refuses it", texts[i])
		case hex.EncodeToString(k.d.raw[:]) != r.Hex:
			t.Errorf("ParseKey and Python read %q as different keys", texts[i])
		}
	}
	if accepted < len(texts)/4 {
		t.Errorf("ParseKey accepted only %d of %d texts: the mutations do not exercise what it accepts", accepted, len(texts))
	}
}
