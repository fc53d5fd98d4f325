package main

import (
	"fmt"
	"io"

	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/resp"
)

// maxTokenLen is the largest value Redis accepts by default
// (proto-max-bulk-len, 512 MB): a longer token could not be stored. It is
// also decrypt's input limit: the longest Fernet token within it is 8 bytes
// shorter, which leaves room for the newline encrypt and redis-cli add.
const maxTokenLen = resp.RedisMaxBulk

// maxPlaintextLen is the longest plaintext whose token fits in maxTokenLen
// (402,653,119 bytes): 57 bytes of version, timestamp, IV and HMAC around
// a ciphertext padded up to the next 16-byte block, in base64.
const maxPlaintextLen = (maxTokenLen/4*3-57)/16*16 - 1

// stdinLimits are the limits encrypt and decrypt apply. Tests lower them
// to check the refusal without gigabytes of input; TestStdinLimits pins the
// real ones.
var stdinLimits = struct{ plaintext, token int64 }{maxPlaintextLen, maxTokenLen}

// readLimited reads r to its end, at most limit bytes: it reads limit+1
// bytes at most, and refuses with an error naming the limit when there are
// more. what names the input ("plaintext", "token") and why the limit.
//
// It reads into chunks of growing size rather than one slice grown by
// copying, which holds twice the input at its peak: input over the limit
// is refused holding no more than the limit and one chunk.
func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	var chunks [][]byte
	var total int64
	discard := func() {
		for _, c := range chunks {
			clear(c)
		}
	}
	lr := io.LimitReader(r, limit+1)
	for size := 4 << 10; ; size = min(2*size, 8<<20) {
		buf := make([]byte, size)
		n, err := io.ReadFull(lr, buf)
		if n > 0 {
			chunks, total = append(chunks, buf[:n]), total+int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			discard()
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
	}
	if total > limit {
		discard()
		return nil, fmt.Errorf("standard input is longer than %s bytes, the largest %s (Redis stores values of at most 512 MB, proto-max-bulk-len); nothing was written", progress.Thousands(limit), what)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	discard()
	return out, nil
}
