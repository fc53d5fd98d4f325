package seal

import "time"

// The methods below know the Redis key a value is stored under, which the
// sealed format binds into every token. They read both formats, told apart
// by the first byte, and write the configured one, so a cache can switch
// formats without losing what it stored before.

// WithFormat returns a copy of s whose SealFor and RotateFor write tokens in
// format f. Seal and Rotate always write Fernet. It panics on an unknown
// format, a configuration bug.
func (s *Sealer) WithFormat(f Format) *Sealer {
	if f != Fernet && f != Sealed {
		panic("seal: WithFormat called with an unknown format")
	}
	c := *s
	c.format = f
	return &c
}

// WithCompression returns a copy of s that compresses, in sealed tokens
// only, values of at least 1 KiB whose raw DEFLATE form is shorter. It is off
// by default and must stay off for values that mix attacker-chosen input
// with a secret: the compressed length depends on the content, so such a
// value leaks the secret through its length one guess at a time (CRIME,
// BREACH). Readers inflate compressed values whatever this says.
func (s *Sealer) WithCompression(on bool) *Sealer {
	c := *s
	c.compress = on
	return &c
}

// WithSealedOnly returns a copy of s whose OpenFor, OpenKeyFor, RotateFor,
// NeedsRotation and TimestampFor refuse Fernet tokens (ErrFernetRefused,
// an ErrAuthentication): the binding of a value to its key holds only once
// no Fernet token is accepted, since a Fernet token, from before a switch
// of format or from a backup, opens under any name. Open, OpenKey, Rotate
// and Timestamp are Fernet's own and stay as they are.
func (s *Sealer) WithSealedOnly(on bool) *Sealer {
	c := *s
	c.sealedOnly = on
	return &c
}

// SealingFormat returns the format SealFor and RotateFor write.
func (s *Sealer) SealingFormat() Format { return s.format }

// SealFor appends to dst the token of plaintext stored under name, the full
// Redis key (after any key prefix and name hashing), sealed in s's format
// with the primary key at the current time. Fernet ignores name. In the
// sealed format it allocates twice per call, the AES-256-GCM of the
// per-value key, and nothing else once cap(dst)-len(dst) >=
// s.SealedLenFor(len(plaintext)) and plaintext does not overlap that space;
// a compressed value also allocates its compressed form.
func (s *Sealer) SealFor(dst []byte, name string, plaintext []byte) []byte {
	return s.sealForAt(dst, name, plaintext, unixSeconds(s.now()))
}

func (s *Sealer) sealForAt(dst []byte, name string, plaintext []byte, ts uint64) []byte {
	if s.format == Fernet {
		return s.sealAt(dst, plaintext, ts, nil)
	}
	return s.sealSealed(dst, name, plaintext, ts, nil)
}

// OpenFor authenticates a token of either format stored under name and
// appends its plaintext to dst, with Open's ttl rules. A sealed token is
// opened with the key its key ID names, with no trial decryption, and only
// under the name it was sealed for. Errors match ErrInvalidToken and one
// of the specific errors: ErrAuthentication for a token altered, sealed
// under a key s does not have, or moved to another name; ErrExpired;
// ErrFutureTimestamp; ErrMalformed; ErrBadPadding (Fernet only). On error it
// returns nil and no plaintext.
func (s *Sealer) OpenFor(dst []byte, name string, token []byte, ttl time.Duration) ([]byte, error) {
	out, _, _, err := s.openFor(dst, name, token, ttl)
	return out, err
}

// OpenKeyFor is OpenFor that also reports which key opened the token, as
// OpenKey does: 0 for the primary, i for the i-th previous key, -1 on error.
func (s *Sealer) OpenKeyFor(dst []byte, name string, token []byte, ttl time.Duration) (plaintext []byte, keyIndex int, err error) {
	plaintext, keyIndex, _, err = s.openFor(dst, name, token, ttl)
	return
}

func (s *Sealer) openFor(dst []byte, name string, token []byte, ttl time.Duration) ([]byte, int, uint64, error) {
	switch f, ok := TokenFormat(token); {
	case f == Sealed:
		return s.openSealed(dst, name, token, ttl)
	case ok && s.sealedOnly:
		return nil, -1, 0, ErrFernetRefused
	}
	return s.open(dst, token, ttl)
}

// RotateFor re-seals a token of either format stored under name with the
// primary key in s's format, so Fernet values become sealed when that is
// the configured format. Like Rotate it keeps the original timestamp, so
// ttl checks still measure the age of the data, and applies no ttl.
func (s *Sealer) RotateFor(dst []byte, name string, token []byte) ([]byte, error) {
	plaintext, _, ts, err := s.openFor(nil, name, token, 0)
	if err != nil {
		return nil, err
	}
	out := s.sealForAt(dst, name, plaintext, ts)
	clear(plaintext)
	return out, nil
}

// NeedsRotation reports whether RotateFor would change what token is: true
// unless it is sealed with the primary key in s's format. A token no key
// opens is an error, as from OpenFor.
func (s *Sealer) NeedsRotation(name string, token []byte) (bool, error) {
	plaintext, keyIndex, _, err := s.openFor(nil, name, token, 0)
	if err != nil {
		return false, err
	}
	clear(plaintext)
	f, _ := TokenFormat(token)
	return keyIndex != 0 || f != s.format, nil
}

// TimestampFor returns the time at which a token of either format stored
// under name was sealed, after authenticating it, as Timestamp does for
// Fernet.
func (s *Sealer) TimestampFor(name string, token []byte) (time.Time, error) {
	if f, ok := TokenFormat(token); f != Sealed {
		if ok && s.sealedOnly {
			return time.Time{}, ErrFernetRefused
		}
		return s.Timestamp(token)
	}
	plaintext, _, ts, err := s.openSealed(nil, name, token, 0)
	if err != nil {
		return time.Time{}, err
	}
	clear(plaintext)
	if ts > maxUnix {
		return time.Time{}, errTimestampRange
	}
	return time.Unix(int64(ts), 0), nil
}
