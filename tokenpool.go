package redsafe

import "sync"

// tokenBuffers holds the buffers Set seals into, so that a busy service
// does not allocate (and zero) a token's worth of memory per write. A
// buffer goes back only after rueidis has finished with the command that
// points into it: when its result carries no error other than a Redis
// reply, the command was written and answered, which is the rule rueidis
// itself follows before it recycles a command (an early return on a
// cancelled context or a broken connection may leave the command queued,
// still to be written from the buffer). A buffer holds ciphertext only:
// what Redis stores anyway.
var tokenBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledToken keeps one huge value from pinning its buffer in the pool.
const maxPooledToken = 1 << 20

// tokenBuffer returns an empty buffer of at least n bytes of capacity.
func tokenBuffer(n int) *[]byte {
	b := tokenBuffers.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:0]
	return b
}

// releaseToken gives b back once its command is done with it.
func releaseToken(b *[]byte) {
	if b != nil && cap(*b) <= maxPooledToken {
		tokenBuffers.Put(b)
	}
}
