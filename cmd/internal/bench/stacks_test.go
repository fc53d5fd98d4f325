package bench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
)

// TestStacksStoreTheirFormat: on a real TLS redis-server, what each
// redsafe stack leaves in Redis, read back raw through the plaintext
// client, is a token of the stack's format, uncompressed, from Set and
// SetMany alike: redsafe-sealed's starts with the sealed version byte 0x91,
// the Fernet stacks' with 'g'. The deployment's own format and compression
// settings (here sealed and on) do not leak into the stacks, and a sealed
// token copied to another key does not open there, which a Fernet one does.
func TestStacksStoreTheirFormat(t *testing.T) {
	opts := benchServer(t)
	opts.ValueFormat, opts.Compress = redsafe.FormatSealed, true
	raw := openStack(t, opts, StackPlaintext).(*plaintextStack)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	get := func(key string) []byte {
		t.Helper()
		v, err := raw.c.Do(ctx, raw.c.B().Get().Key(key).Build()).AsBytes()
		if err != nil {
			t.Fatalf("raw GET %s: %v", key, err)
		}
		return v
	}
	// Compressible, and at least the 1 KiB from which compression applies.
	value := bytes.Repeat([]byte(`{"user":"alice","role":"reader"},`), 64)
	for _, c := range []struct {
		stack string
		first byte
		moved bool // whether a token copied to another key opens there
	}{
		{StackSealed, 0x91, false},
		{StackRedsafe, 'g', true},
		{StackLocalCache, 'g', true},
	} {
		t.Run(c.stack, func(t *testing.T) {
			st := openStack(t, opts, c.stack)
			one, many := "fmt:"+c.stack+":one", "fmt:"+c.stack+":many"
			if err := st.set(ctx, one, value); err != nil {
				t.Fatal(err)
			}
			if err := st.setMany(ctx, []string{many}, value); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{one, many} {
				tok := get(key)
				if len(tok) == 0 || tok[0] != c.first {
					t.Fatalf("%s holds a token starting with %#x, want %#x", key, tok[:min(len(tok), 1)], c.first)
				}
				if len(tok) <= len(value) || bytes.Contains(tok, value[:32]) {
					t.Fatalf("%s holds %d bytes for a %d-byte value: compressed, or not encrypted", key, len(tok), len(value))
				}
				if n, err := st.get(ctx, key); err != nil || n != len(value) {
					t.Fatalf("reading %s back: %d bytes, %v", key, n, err)
				}
			}
			// The same copy as `redis-cli GET a` then `SET b <that>`.
			copied := "fmt:" + c.stack + ":copied"
			if err := raw.set(ctx, copied, get(one)); err != nil {
				t.Fatal(err)
			}
			n, err := st.get(ctx, copied)
			if opened := err == nil && n == len(value); opened != c.moved {
				t.Fatalf("a token copied to another key: %d bytes, %v; want it opened: %v", n, err, c.moved)
			}
		})
	}
}
