package seal

import (
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"time"
)

// Sealer seals with a primary key and opens with the primary key or any
// previous key, like Python's MultiFernet. It is safe for concurrent use.
// The zero value has no keys and panics; use New.
type Sealer struct {
	keys     []*Key
	now      func() time.Time
	format   Format // what SealFor and RotateFor write; Seal always writes Fernet
	compress bool   // whether sealed tokens compress large values
	// sealedOnly refuses Fernet tokens in OpenFor and its kin: a Fernet
	// token binds nothing to its key, so while one is accepted a token
	// copied from another key opens.
	sealedOnly bool
}

// New returns a Sealer that seals with primary and opens tokens sealed with
// primary or any of previous, tried in that order. It panics if a key is nil,
// as that is a configuration bug that must not silently disable encryption.
func New(primary *Key, previous ...*Key) *Sealer {
	keys := make([]*Key, 0, 1+len(previous))
	for _, k := range append([]*Key{primary}, previous...) {
		if k == nil || k.d == nil {
			panic("seal: New called with a nil key")
		}
		keys = append(keys, k)
	}
	return &Sealer{keys: keys, now: time.Now}
}

// WithClock returns a copy of s that reads the time from now, for sealing
// timestamps and checking ttl; nil restores time.Now.
func (s *Sealer) WithClock(now func() time.Time) *Sealer {
	if now == nil {
		now = time.Now
	}
	c := *s
	c.now = now
	return &c
}

// Keys returns the keys, primary first.
func (s *Sealer) Keys() []*Key {
	return append([]*Key(nil), s.keys...)
}

// String describes the Sealer by key IDs only.
func (s *Sealer) String() string {
	out := "seal.Sealer(primary=" + s.keys[0].ID()
	for i, k := range s.keys[1:] {
		if i == 0 {
			out += " previous="
		} else {
			out += ","
		}
		out += k.ID()
	}
	return out + ")"
}

// Seal appends to dst the token for plaintext, sealed with the primary key
// at the current time, and returns the extended slice. It allocates nothing
// when cap(dst)-len(dst) >= SealedLen(len(plaintext)) and plaintext does not
// overlap that spare capacity.
func (s *Sealer) Seal(dst, plaintext []byte) []byte {
	return s.sealAt(dst, plaintext, unixSeconds(s.now()), nil)
}

// unixSeconds matches Python's int(time.time()) for all times after 1970;
// earlier ones cannot be represented in the unsigned timestamp field.
func unixSeconds(t time.Time) uint64 {
	return uint64(max(t.Unix(), 0))
}

// sealAt seals with a fixed timestamp and, if iv is not nil, a fixed IV
// (spec vectors and Rotate need these).
func (s *Sealer) sealAt(dst, plaintext []byte, ts uint64, iv []byte) []byte {
	ret, out := sliceForAppend(dst, SealedLen(len(plaintext)))
	if overlaps(out, plaintext) {
		ret, out = appendFresh(dst, len(out))
	}
	w := s.keys[0].get()
	defer s.keys[0].put(w)

	hdr := w.head[:headerLen]
	hdr[0] = version
	binary.BigEndian.PutUint64(hdr[1:], ts)
	if iv == nil {
		rand.Read(hdr[1+tsLen:])
	} else {
		copy(hdr[1+tsLen:], iv)
	}
	w.mac.Reset()
	w.mac.Write(hdr)
	e := encoder{out: out}
	e.write(hdr)

	cbc := w.encrypter(hdr[1+tsLen:])
	full := len(plaintext) / aes.BlockSize * aes.BlockSize
	for off := 0; off < full; {
		c := w.chunk[:min(full-off, chunkLen)]
		cbc.CryptBlocks(c, plaintext[off:off+len(c)])
		w.mac.Write(c)
		e.write(c)
		off += len(c)
	}
	last := w.block[:]
	r := copy(last, plaintext[full:])
	for i := r; i < len(last); i++ {
		last[i] = byte(aes.BlockSize - r)
	}
	cbc.CryptBlocks(last, last) // in place, so no plaintext stays in the pooled worker
	w.mac.Write(last)
	e.write(last)
	e.write(w.mac.Sum(w.sum[:0]))
	e.close()
	return ret
}
