package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"sync"
	"sync/atomic"
)

// XAES-256-GCM (https://c2sp.org/XAES-256-GCM) extends AES-256-GCM to
// 192-bit nonces: the first 96 bits of the nonce and the key derive, with
// the NIST SP 800-108r1 counter KDF on AES-256 CMAC, a fresh AES-256-GCM key
// for each nonce, and the last 96 bits are the GCM nonce. Random nonces are
// then safe for about 2^80 messages per key, where plain AES-GCM's 96-bit
// random nonces are safe for about 2^32.
const (
	xaesKeySize   = 32
	xaesNonceSize = 24
	xaesOverhead  = 16 // the GCM tag
)

// xaes is an XAES-256-GCM key. It keeps the AES-256 block of the key and
// the CMAC subkey K1, which depend only on the key, so that each message
// costs two AES blocks for the derivation plus the AES-256-GCM set-up. It
// is safe for concurrent use.
type xaes struct {
	block cipher.Block
	k1    [aes.BlockSize]byte
	// batch is the writer's current nonce prefix, with the AES-256-GCM
	// derived from it (see SealRandom).
	batch atomic.Pointer[nonceBatch]
	// recent keeps the keys derived for the last prefixes opened, one slot
	// per value of the prefix's first byte mod len: values written by
	// other processes come in batches too, so most opens find theirs.
	recent [16]atomic.Pointer[nonceBatch]
}

// batchValues is how many values one writer seals under one nonce prefix,
// each with a fresh random GCM nonce (the last 96 bits): C2SP allows
// caching the key derived from a shared first half. With 2^12 values per
// derived key, two random 96-bit GCM nonces collide with probability
// about 2^-73 per prefix, and 2^48 values (2^36 prefixes) stay far below
// 2^-32 in all; the derivation (two AES blocks, an AES-256 key schedule
// and a GCM set-up: about 0.5 µs and 2 allocations) is paid once per 4096
// values instead of once per value. What it shows: values that share a
// prefix were written by one process, close together in time.
const batchValues = 4096

type nonceBatch struct {
	prefix [12]byte
	gcm    cipher.AEAD
	left   atomic.Int64
}

func newXAES(key []byte) *xaes {
	if len(key) != xaesKeySize {
		panic("seal: XAES-256-GCM key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: the length is checked
	}
	x := &xaes{block: block}
	// L = AES-256(K, 0^128); K1 = L << 1, reduced by 0x87 if L's top bit
	// was set (CMAC's doubling in GF(2^128)), without a branch on L.
	l := &x.k1
	block.Encrypt(l[:], l[:])
	carry := l[0] >> 7
	for i := range len(l) - 1 {
		l[i] = l[i]<<1 | l[i+1]>>7
	}
	l[len(l)-1] = l[len(l)-1]<<1 ^ 0x87&-carry
	return x
}

// derivedKeys holds per-message derived keys between derivation and the
// AES key schedule. Buffers handed to cipher.Block escape, so a fresh one
// per message would be one more allocation; they hold a key only for the
// instant between the two and are cleared before going back.
var derivedKeys = sync.Pool{New: func() any { return new([xaesKeySize]byte) }}

// deriveKey writes the AES-256-GCM key for nonce to kx:
// AES-256(K, M1 XOR K1) || AES-256(K, M2 XOR K1) with
// Mi = 00 0i "X" 00 || nonce[:12].
func (x *xaes) deriveKey(kx *[xaesKeySize]byte, nonce []byte) {
	for half := range 2 {
		m := kx[half*aes.BlockSize : (half+1)*aes.BlockSize]
		m[0], m[1], m[2], m[3] = 0, byte(half+1), 'X', 0
		copy(m[4:], nonce[:12])
		for i := range m {
			m[i] ^= x.k1[i]
		}
		x.block.Encrypt(m, m)
	}
}

// aead returns the AES-256-GCM of nonce's derived key.
func (x *xaes) aead(nonce []byte) cipher.AEAD {
	if len(nonce) != xaesNonceSize {
		panic("seal: XAES-256-GCM nonce must be 24 bytes")
	}
	kx := derivedKeys.Get().(*[xaesKeySize]byte)
	x.deriveKey(kx, nonce)
	block, err := aes.NewCipher(kx[:])
	clear(kx[:])
	derivedKeys.Put(kx)
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: the length is fixed
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: AES has 16-byte blocks
	}
	return g
}

// Seal appends the ciphertext and tag of plaintext to dst, as
// cipher.AEAD.Seal does, with a 24-byte nonce.
func (x *xaes) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	return x.aead(nonce).Seal(dst, nonce[12:], plaintext, additionalData)
}

// SealRandom is Seal with a nonce it chooses and writes to nonce (24
// bytes): the current batch's random prefix, and 12 fresh random bytes.
func (x *xaes) SealRandom(dst, nonce, plaintext, additionalData []byte) []byte {
	b := x.batch.Load()
	if b == nil || b.left.Add(-1) < 0 {
		// Concurrent writers may each start a batch; each is used at most
		// batchValues times, whichever ends up current.
		b = &nonceBatch{}
		rand.Read(b.prefix[:])
		b.gcm = x.aead(append(b.prefix[:], make([]byte, 12)...))
		b.left.Store(batchValues - 1)
		x.batch.Store(b)
	}
	copy(nonce, b.prefix[:])
	rand.Read(nonce[12:])
	return b.gcm.Seal(dst, nonce[12:], plaintext, additionalData)
}

// Open authenticates and decrypts ciphertext (with its tag) and appends the
// plaintext to dst, as cipher.AEAD.Open does; on failure it returns an
// error and no plaintext. A token this process sealed lately shares the
// current batch's prefix, whose derived key is at hand.
func (x *xaes) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	prefix := [12]byte(nonce[:12])
	if b := x.batch.Load(); b != nil && prefix == b.prefix {
		return b.gcm.Open(dst, nonce[12:], ciphertext, additionalData)
	}
	slot := &x.recent[int(prefix[0])%len(x.recent)]
	if b := slot.Load(); b != nil && prefix == b.prefix {
		return b.gcm.Open(dst, nonce[12:], ciphertext, additionalData)
	}
	// Derived before authentication: a forged token costs a derivation
	// and may take a slot, as any token would; it opens nothing.
	b := &nonceBatch{prefix: prefix, gcm: x.aead(nonce)}
	out, err := b.gcm.Open(dst, nonce[12:], ciphertext, additionalData)
	if err == nil {
		slot.Store(b) // only a prefix that authenticated earns a slot
	}
	return out, err
}
