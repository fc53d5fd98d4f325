package seal

import (
	"crypto/aes"
	"crypto/hmac"
	"encoding/binary"
	"math"
	"time"
)

// maxUnix is the largest Unix time that time.Unix represents faithfully.
const maxUnix = math.MaxInt64 - 62135596800

var errTimestampRange error = &tokenError{"seal: token timestamp is out of range", ErrMalformed}

// Open authenticates token with each key in turn and appends its plaintext
// to dst. If ttl > 0 the token must also be at most ttl old and at most
// MaxClockSkew in the future, measured in whole seconds as Python does;
// ttl <= 0 disables both checks (Python's ttl=None). Errors match
// ErrInvalidToken and one of the specific errors.
//
// On error Open returns nil and no plaintext; like crypto/cipher.AEAD, it
// may have overwritten dst's spare capacity, but only with ciphertext. It
// allocates nothing when cap(dst)-len(dst) >= len(token) and token does not
// overlap that spare capacity.
func (s *Sealer) Open(dst, token []byte, ttl time.Duration) ([]byte, error) {
	out, _, _, err := s.open(dst, token, ttl)
	return out, err
}

// OpenKey is Open that also reports which key opened the token: 0 for the
// primary, i for the i-th previous key, -1 on error. Counting non-zero
// indexes tells when it is safe to retire a previous key.
func (s *Sealer) OpenKey(dst, token []byte, ttl time.Duration) (plaintext []byte, keyIndex int, err error) {
	plaintext, keyIndex, _, err = s.open(dst, token, ttl)
	return
}

// Rotate re-seals token under the primary key, keeping its original
// timestamp so that ttl checks still measure the age of the data, like
// Python's MultiFernet.rotate. No ttl is applied.
func (s *Sealer) Rotate(dst, token []byte) ([]byte, error) {
	plaintext, _, ts, err := s.open(nil, token, 0)
	if err != nil {
		return nil, err
	}
	out := s.sealAt(dst, plaintext, ts, nil)
	clear(plaintext)
	return out, nil
}

// Timestamp returns the time at which token was sealed, after checking that
// one of the keys authenticates it, like Python's extract_timestamp.
func (s *Sealer) Timestamp(token []byte) (time.Time, error) {
	v, err := s.verify(nil, token)
	if err != nil {
		return time.Time{}, err
	}
	s.release(v)
	if v.ts > maxUnix {
		return time.Time{}, errTimestampRange
	}
	return time.Unix(int64(v.ts), 0), nil
}

func (s *Sealer) open(dst, token []byte, ttl time.Duration) (out []byte, keyIndex int, ts uint64, err error) {
	v, err := s.verify(dst, token)
	if err != nil {
		return nil, -1, 0, err
	}
	defer s.release(v)
	// The HMAC is checked first so that ErrExpired and ErrFutureTimestamp
	// only ever describe authentic tokens; Python checks time first, but
	// either order accepts and rejects exactly the same tokens.
	if ttl > 0 {
		if err := checkTime(v.ts, ttl, s.now()); err != nil {
			return nil, -1, 0, err
		}
	}
	v.w.decrypter(v.w.block[:]).CryptBlocks(v.ct, v.ct)
	n, ok := unpad(v.ct)
	if !ok {
		clear(v.ct)
		return nil, -1, 0, ErrBadPadding
	}
	if v.scratch {
		// One allocation of exactly the plaintext's size, filled by the
		// copy rather than zeroed first; no plaintext stays in the pool.
		out = append(dst, v.ct[:n]...)
		clear(v.ct)
		if out == nil {
			out = []byte{} // an empty plaintext is not a missing one
		}
		return out, v.key, v.ts, nil
	}
	return v.out[:len(dst)+n], v.key, v.ts, nil
}

// verified is an authenticated token whose ciphertext sits in dst, or in
// the primary key's worker when dst had no room for it.
type verified struct {
	out     []byte  // dst extended by the ciphertext length; nil when scratch
	ct      []byte  // the ciphertext: the tail of out, or in w0.chunk
	scratch bool    // ct is in w0.chunk: the caller copies the plaintext out
	key     int     // index of the key whose HMAC matched
	w       *worker // of that key, with the IV in w.block
	w0      *worker // of the primary key; the same as w when key is 0
	ts      uint64
}

// release puts back the workers of a verified token.
func (s *Sealer) release(v verified) {
	if v.w != v.w0 {
		v.w.d.pool.Put(v.w)
	}
	s.keys[0].put(v.w0)
}

// verify decodes token's ciphertext into dst's spare capacity and finds the
// key whose HMAC matches.
//
// The binary token is never materialised: the header and the MAC are decoded
// into a worker, the ciphertext straight to where its plaintext will be, so
// that decryption happens in place and needs no copy. When dst has no room,
// a ciphertext of up to chunkLen bytes goes to the worker's scratch instead,
// so that the plaintext, whose length is only known after decryption, can be
// allocated at its exact size: the profile of a 1 KiB round trip with nil
// buffers was dominated by allocation and garbage collection.
func (s *Sealer) verify(dst, token []byte) (verified, error) {
	if len(token) == 0 {
		return verified{}, errEmpty
	}
	if len(token)%4 != 0 {
		return verified{}, errBase64
	}
	if len(token) < minTokenLen {
		return verified{}, errTooShort
	}
	pad := 0
	if token[len(token)-1] == '=' {
		pad++
		if token[len(token)-2] == '=' {
			pad++
		}
	}
	rawLen := len(token)/4*3 - pad
	ctLen := rawLen - overhead
	if ctLen < aes.BlockSize {
		return verified{}, errTooShort
	}
	if ctLen%aes.BlockSize != 0 {
		return verified{}, errBlockSize
	}

	w0 := s.keys[0].get()
	fail := func(err error) (verified, error) {
		s.keys[0].put(w0)
		return verified{}, err
	}
	// Three parts, split on quantum boundaries: the head holds the header
	// and 2 ciphertext bytes, the tail the MAC and at most 2 ciphertext
	// bytes, and the middle, the bulk, decodes straight into dst.
	head := w0.head[:]
	if n, err := tokenEncoding.Decode(head, token[:headChars]); err != nil || n != len(head) {
		return fail(errBase64)
	}
	if head[0] != version {
		return fail(errVersion)
	}
	var out, ct []byte
	scratch := cap(dst)-len(dst) < ctLen && ctLen <= len(w0.chunk)
	if scratch {
		ct = w0.chunk[:ctLen]
	} else {
		out, ct = sliceForAppend(dst, ctLen)
		if overlaps(ct, token) {
			out, ct = appendFresh(dst, ctLen)
		}
	}
	tailStart := (rawLen - macLen) / 3 * 3
	if !decodeBulk(ct[2:tailStart-headerLen], token[headChars:tailStart/3*4]) {
		return fail(errBase64)
	}
	tail := w0.tail[:rawLen-tailStart]
	if n, err := tokenEncoding.Decode(w0.tail[:], token[tailStart/3*4:]); err != nil || n != len(tail) {
		return fail(errBase64)
	}
	copy(ct, head[headerLen:])
	copy(ct[tailStart-headerLen:], tail[:len(tail)-macLen])
	mac := tail[len(tail)-macLen:]

	for i, k := range s.keys {
		w := w0
		if i > 0 {
			w = k.get()
		}
		if hmac.Equal(w.macOf(head[:headerLen], ct), mac) {
			v := verified{out: out, ct: ct, scratch: scratch, key: i, w: w, w0: w0, ts: binary.BigEndian.Uint64(head[1:])}
			copy(w.block[:], head[1+tsLen:headerLen])
			return v, nil
		}
		if i > 0 {
			k.put(w)
		}
	}
	return fail(ErrAuthentication)
}

// unpad returns the length of ct without its PKCS#7 padding. It runs after
// authentication, so it needs no constant-time care: a padding oracle needs
// forged ciphertexts to be decrypted.
func unpad(ct []byte) (int, bool) {
	p := int(ct[len(ct)-1])
	if p == 0 || p > aes.BlockSize {
		return 0, false
	}
	for _, b := range ct[len(ct)-p:] {
		if int(b) != p {
			return 0, false
		}
	}
	return len(ct) - p, true
}

// checkTime applies Python's rules, timestamp + ttl < now is expired and
// now + MaxClockSkew < timestamp is too new, with now truncated to whole
// seconds like int(time.time()), and without overflow for any timestamp.
func checkTime(ts uint64, ttl time.Duration, now time.Time) error {
	n := now.Unix()
	if n > 0 && ts < uint64(n) {
		age := uint64(n) - ts
		if age > uint64(math.MaxInt64/time.Second) || time.Duration(age)*time.Second > ttl {
			return ErrExpired
		}
	}
	const skew = uint64(MaxClockSkew / time.Second)
	if n < -int64(skew) || (n >= 0 && ts > uint64(n)+skew) || (n < 0 && ts > skew-uint64(-n)) {
		return ErrFutureTimestamp
	}
	return nil
}
