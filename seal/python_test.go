package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
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
    f = multi(op["keys"])
    kind = op["op"]
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
	py := findPython(t)
	in, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", pyHelper)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python helper: %v\n%s", err, stderr.Bytes())
	}
	var res []pyResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("python helper output: %v", err)
	}
	if len(res) != len(ops) {
		t.Fatalf("python helper returned %d results for %d ops", len(res), len(ops))
	}
	return res
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
