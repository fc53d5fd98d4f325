package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"hash"
)

// chunkLen is how much ciphertext Seal encrypts, MACs and encodes at a time:
// small enough to stay in L1 across the three passes, large enough to make
// per-call overhead negligible. It must be a multiple of aes.BlockSize.
const chunkLen = 4096

// cbcMode is implemented by the stdlib CBC modes; crypto/tls relies on SetIV
// for the same reason we do: reusing a mode avoids an allocation per call.
type cbcMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// worker is the mutable per-call state for one key. Buffers that are handed
// to interface methods live here rather than on the stack, where they would
// escape and be allocated on every call.
type worker struct {
	d        *keyData
	mac      hash.Hash
	enc, dec cbcMode
	sum      [sha256.Size]byte
	head     [headChars / 4 * 3]byte
	tail     [tailMaxChars / 4 * 3]byte
	block    [aes.BlockSize]byte
	chunk    [chunkLen]byte
}

var zeroIV [aes.BlockSize]byte

func (d *keyData) newWorker() *worker {
	w := &worker{d: d, mac: hmac.New(sha256.New, d.raw[:16])}
	w.enc, _ = cipher.NewCBCEncrypter(d.block, zeroIV[:]).(cbcMode)
	w.dec, _ = cipher.NewCBCDecrypter(d.block, zeroIV[:]).(cbcMode)
	return w
}

func (k *Key) get() *worker  { return k.d.pool.Get().(*worker) }
func (k *Key) put(w *worker) { k.d.pool.Put(w) }

func (w *worker) encrypter(iv []byte) cipher.BlockMode {
	if w.enc == nil {
		return cipher.NewCBCEncrypter(w.d.block, iv)
	}
	w.enc.SetIV(iv)
	return w.enc
}

func (w *worker) decrypter(iv []byte) cipher.BlockMode {
	if w.dec == nil {
		return cipher.NewCBCDecrypter(w.d.block, iv)
	}
	w.dec.SetIV(iv)
	return w.dec
}

// macOf returns the HMAC of head || body in w.sum.
func (w *worker) macOf(head, body []byte) []byte {
	w.mac.Reset()
	w.mac.Write(head)
	w.mac.Write(body)
	return w.mac.Sum(w.sum[:0])
}
