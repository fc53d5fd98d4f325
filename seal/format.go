package seal

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/base64"
	"time"
	"unsafe"
)

const (
	version      = 0x80
	tsLen        = 8
	headerLen    = 1 + tsLen + aes.BlockSize // version, timestamp, IV
	macLen       = sha256.Size
	overhead     = headerLen + macLen
	minRawLen    = overhead + aes.BlockSize // an empty plaintext pads to one block
	minTokenLen  = (minRawLen + 2) / 3 * 4
	headChars    = 36 // 27 bytes: the header and the first 2 ciphertext bytes
	tailMaxChars = 48 // the MAC and the at most 2 ciphertext bytes sharing its first quantum

	// MaxClockSkew is how far in the future a token's timestamp may be when
	// Open is given a ttl, as in the Fernet spec and Python.
	MaxClockSkew = 60 * time.Second
)

// tokenEncoding is strict so that every token has exactly one text form.
var tokenEncoding = base64.URLEncoding.Strict()

// SealedLen returns the exact length of the token that Seal produces for a
// plaintext of plaintextLen bytes.
func SealedLen(plaintextLen int) int {
	if plaintextLen < 0 {
		panic("seal: negative plaintext length")
	}
	return base64.URLEncoding.EncodedLen(overhead + paddedLen(plaintextLen))
}

// paddedLen is the ciphertext length: PKCS#7 always adds 1 to 16 bytes.
func paddedLen(n int) int { return n/aes.BlockSize*aes.BlockSize + aes.BlockSize }

// sliceForAppend extends in by n bytes, reallocating only if needed, and
// returns the whole slice and the new tail (as crypto/cipher's AEADs do).
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}

// appendFresh is sliceForAppend that never reuses in's spare capacity, for
// when that capacity holds the input being read.
func appendFresh(in []byte, n int) (head, tail []byte) {
	head = make([]byte, len(in)+n)
	copy(head, in)
	return head, head[len(in):]
}

// overlaps reports whether x and y share memory. Seal and Open stream from
// their input into dst, so an input that lives in dst's spare capacity would
// be overwritten before it is read.
func overlaps(x, y []byte) bool {
	return len(x) > 0 && len(y) > 0 &&
		uintptr(unsafe.Pointer(&x[0])) <= uintptr(unsafe.Pointer(&y[len(y)-1])) &&
		uintptr(unsafe.Pointer(&y[0])) <= uintptr(unsafe.Pointer(&x[len(x)-1]))
}

// encoder streams base64 into out, carrying the 0-2 bytes that do not yet
// fill a 3-byte quantum, so that ciphertext can be encoded chunk by chunk
// without ever materialising the binary token.
type encoder struct {
	out   []byte
	carry [3]byte
	n     int
}

func (e *encoder) write(p []byte) {
	if e.n > 0 {
		c := copy(e.carry[e.n:], p)
		e.n += c
		p = p[c:]
		if e.n < 3 {
			return
		}
		e.out = e.out[encodeBulk(e.out, e.carry[:]):]
		e.n = 0
	}
	full := len(p) / 3 * 3
	e.out = e.out[encodeBulk(e.out, p[:full]):]
	e.n = copy(e.carry[:], p[full:])
}

// close encodes the final partial quantum, with padding.
func (e *encoder) close() {
	if e.n > 0 {
		tokenEncoding.Encode(e.out, e.carry[:e.n])
	}
}
