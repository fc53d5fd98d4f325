package seal

import (
	"encoding/binary"
	"sync"
	"time"
)

// The sealed format v1 of docs/FORMAT.md:
//
//	91 | key ID (4) | flags (1) | timestamp (8) | nonce (24) | XAES-256-GCM ciphertext | tag (16)
//
// with the associated data header (the first 14 bytes) || the full Redis key name.
const (
	sealedHeaderLen = 1 + sealedIDLen + 1 + tsLen
	sealedBodyOff   = sealedHeaderLen + xaesNonceSize
	sealedOverhead  = sealedBodyOff + xaesOverhead
	flagCompressed  = 0x01
)

// SealedLenFor returns the length of the token SealFor produces for a
// plaintext of plaintextLen bytes in s's format: exact, or with compression
// switched on an upper bound, since a value is only compressed when that
// makes it shorter.
func (s *Sealer) SealedLenFor(plaintextLen int) int {
	if s.format == Fernet {
		return SealedLen(plaintextLen)
	}
	if plaintextLen < 0 {
		panic("seal: negative plaintext length")
	}
	return sealedOverhead + plaintextLen
}

// associatedData holds the header || name of one call: the AEAD reads it
// through an interface, so a stack buffer would escape and cost an
// allocation per call. It holds no secret beyond the key name, and is
// cleared before going back.
var associatedData = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAD keeps one huge key name from pinning its buffer in the pool.
const maxPooledAD = 4 << 10

func withAD(header []byte, name string, f func(ad []byte)) {
	p := associatedData.Get().(*[]byte)
	ad := append(append((*p)[:0], header...), name...)
	f(ad)
	clear(ad)
	if cap(ad) <= maxPooledAD {
		*p = ad
		associatedData.Put(p)
	}
}

// sealSealed seals value for name with the primary key at ts, compressing
// it when s says so and it pays; nonce is nil except for test vectors.
func (s *Sealer) sealSealed(dst []byte, name string, value []byte, ts uint64, nonce []byte) []byte {
	if s.compress && len(value) >= minCompressLen {
		if p := compressValue(value); p != nil {
			out := sealPayload(dst, &s.keys[0].d.sealed, name, flagCompressed, p, ts, nonce)
			clear(p)
			return out
		}
	}
	return sealPayload(dst, &s.keys[0].d.sealed, name, 0, value, ts, nonce)
}

// sealPayload appends the token of plaintext P with the given flags: the
// format's sealing steps 3 to 6.
func sealPayload(dst []byte, k *sealedKey, name string, flags byte, p []byte, ts uint64, nonce []byte) []byte {
	ret, out := sliceForAppend(dst, sealedOverhead+len(p))
	if overlaps(out, p) {
		ret, out = appendFresh(dst, len(out))
	}
	h := out[:sealedHeaderLen]
	h[0] = sealedVersion
	copy(h[1:], k.id[:])
	h[1+sealedIDLen] = flags
	binary.BigEndian.PutUint64(h[2+sealedIDLen:], ts)
	n := out[sealedHeaderLen:sealedBodyOff]
	withAD(h, name, func(ad []byte) {
		if nonce == nil {
			k.aead.SealRandom(out[:sealedBodyOff], n, p, ad) // crypto/rand never fails since Go 1.24
		} else {
			copy(n, nonce)
			k.aead.Seal(out[:sealedBodyOff], n, p, ad)
		}
	})
	return ret
}

// openSealed is the format's opening steps: the key by ID, then
// authentication, and only then the flags, the ttl and decompression.
func (s *Sealer) openSealed(dst []byte, name string, token []byte, ttl time.Duration) (out []byte, keyIndex int, ts uint64, err error) {
	if len(token) < sealedOverhead {
		return nil, -1, 0, errSealedTooShort
	}
	id := [sealedIDLen]byte(token[1:])
	h, nonce, body := token[:sealedHeaderLen], token[sealedHeaderLen:sealedBodyOff], token[sealedBodyOff:]
	flags := h[1+sealedIDLen]
	// The flags are read before authentication only to choose where the
	// plaintext goes; they are acted on after it.
	compressed := flags&flagCompressed != 0
	var p []byte
	keyIndex = -1
	for i, k := range s.keys {
		if k.d.sealed.id != id {
			continue
		}
		p, err = openPayload(dst, compressed, &k.d.sealed, name, h, nonce, body)
		if err == nil {
			keyIndex = i
			break
		}
	}
	switch {
	case keyIndex < 0 && err == nil:
		return nil, -1, 0, &unknownKeyError{id: id}
	case keyIndex < 0:
		return nil, -1, 0, ErrAuthentication
	}
	ts = binary.BigEndian.Uint64(h[2+sealedIDLen:])
	fail := func(e error) ([]byte, int, uint64, error) {
		if compressed {
			clear(p)
		} else {
			clear(p[len(dst):])
		}
		return nil, -1, 0, e
	}
	if flags&^flagCompressed != 0 {
		return fail(errSealedFlags)
	}
	if ttl > 0 {
		if err := checkTime(ts, ttl, s.now()); err != nil {
			return fail(err)
		}
	}
	if !compressed {
		if p == nil {
			p = []byte{} // an empty plaintext is not a missing one
		}
		return p, keyIndex, ts, nil
	}
	out, err = inflateValue(dst, p)
	clear(p)
	if err != nil {
		return nil, -1, 0, err
	}
	if out == nil {
		out = []byte{}
	}
	return out, keyIndex, ts, nil
}

// openPayload authenticates and decrypts the body under k: into dst's spare
// capacity, or for a compressed value into a buffer of its own, since only
// the inflated value goes to dst.
func openPayload(dst []byte, compressed bool, k *sealedKey, name string, h, nonce, body []byte) (p []byte, err error) {
	n := len(body) - xaesOverhead
	var into []byte
	if compressed {
		into = make([]byte, 0, n)
	} else {
		ret, tail := sliceForAppend(dst, n)
		if overlaps(tail, body) {
			ret, _ = appendFresh(dst, n)
		}
		into = ret[:len(dst)]
	}
	withAD(h, name, func(ad []byte) {
		p, err = k.aead.Open(into, nonce, body, ad)
	})
	if err != nil {
		return nil, ErrAuthentication
	}
	return p, nil
}
