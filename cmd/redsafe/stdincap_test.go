package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/seal"
)

// TestStdinLimits pins the real limits: a plaintext of maxPlaintextLen
// bytes seals to a token Redis can store, one byte more does not.
func TestStdinLimits(t *testing.T) {
	if maxTokenLen != 536_870_912 || maxPlaintextLen != 402_653_119 {
		t.Errorf("limits %d, %d; want Redis's proto-max-bulk-len 536870912 and the plaintext that fits it", maxTokenLen, maxPlaintextLen)
	}
	if n := seal.SealedLen(maxPlaintextLen); n > maxTokenLen {
		t.Errorf("the largest plaintext seals to %d bytes, over %d", n, maxTokenLen)
	}
	if n := seal.SealedLen(maxPlaintextLen + 1); n <= maxTokenLen {
		t.Errorf("one byte more still fits (%d bytes): the plaintext limit is too low", n)
	}
	if stdinLimits.plaintext != maxPlaintextLen || stdinLimits.token != maxTokenLen {
		t.Errorf("stdinLimits = %+v", stdinLimits)
	}
}

// overLimit is an input 1 MiB longer than a limit, made as it is read; it
// counts what was read from it.
type overLimit struct{ left, read int64 }

func (r *overLimit) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.left)]
	for i := range p {
		p[i] = 'x'
	}
	r.left -= int64(len(p))
	r.read += int64(len(p))
	return len(p), nil
}

// TestStdinOverLimit runs encrypt and decrypt in-process on input 1 MiB
// over their limits, lowered to about 1 MiB: each refuses with the limit in
// its message, writes nothing to stdout, and reads exactly limit+1 bytes.
// Input of exactly the limit still round-trips.
func TestStdinOverLimit(t *testing.T) {
	saved := stdinLimits
	t.Cleanup(func() { stdinLimits = saved })
	const plain = 1 << 20
	stdinLimits.plaintext, stdinLimits.token = plain, int64(seal.SealedLen(plain))+1
	key := seal.GenerateKey().Encode()
	run := func(name string, stdin io.Reader) (int, string, string) {
		var out, errb bytes.Buffer
		c := &cli{stdin: stdin, stdout: &out, stderr: &errb, lookupEnv: func(k string) (string, bool) {
			if k == "REDIS_ENCRYPTION_KEY" {
				return key, true
			}
			return "", false
		}}
		return c.main([]string{name}), out.String(), errb.String()
	}
	for _, c := range []struct {
		cmd   string
		limit int64
	}{{"encrypt", stdinLimits.plaintext}, {"decrypt", stdinLimits.token}} {
		in := &overLimit{left: c.limit + 1<<20}
		code, stdout, stderr := run(c.cmd, in)
		if code != 1 || stdout != "" {
			t.Errorf("%s of input over the limit: exit %d, %d bytes on stdout", c.cmd, code, len(stdout))
		}
		want := "standard input is longer than " + progress.Thousands(c.limit) + " bytes"
		if !strings.Contains(stderr, want) || !strings.Contains(stderr, "512 MB") {
			t.Errorf("%s: stderr %q, want %q and the Redis limit", c.cmd, stderr, want)
		}
		if in.read != c.limit+1 {
			t.Errorf("%s read %d bytes; limit+1 is %d", c.cmd, in.read, c.limit+1)
		}
	}

	msg := bytes.Repeat([]byte("y"), plain)
	code, token, stderr := run("encrypt", bytes.NewReader(msg))
	if code != 0 || int64(len(token)) > stdinLimits.token {
		t.Fatalf("encrypt of exactly the limit: exit %d, %d bytes, %s", code, len(token), stderr)
	}
	code, got, stderr := run("decrypt", strings.NewReader(token))
	if code != 0 || got != string(msg) {
		t.Fatalf("decrypt of the largest token with its newline: exit %d, %s", code, stderr)
	}
}
