package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

const (
	rawKeyLen     = 32
	encodedKeyLen = 44 // base64.URLEncoding.EncodedLen(rawKeyLen)
	keyIDPrefix   = "redsafe key id"
)

// keyEncoding is strict so that every key has exactly one canonical text
// form, the one Encode returns.
var keyEncoding = base64.URLEncoding.Strict()

// Key is a Fernet key. It is safe for concurrent use.
//
// Key holds only a pointer, so copies share state and formatting a Key with
// any fmt verb, or through a struct that contains one, never prints key
// bytes: only [Key.ID] is shown.
type Key struct {
	d *keyData
}

type keyData struct {
	raw   [rawKeyLen]byte
	block cipher.Block
	id    string
	// sealed is what the sealed format derives from raw, once per key.
	sealed sealedKey
	// Workers carry the per-call state (HMAC with its precomputed pads, CBC
	// modes, scratch) so that Seal and Open allocate nothing in steady state.
	pool sync.Pool
}

// GenerateKey returns a new random key from crypto/rand. It never returns
// a key that ParseKey refuses as not random (a chance of about 2^-128 per
// call; a check costs nothing).
func GenerateKey() *Key {
	for {
		var raw [rawKeyLen]byte
		rand.Read(raw[:]) // never fails since Go 1.24: it crashes the program instead
		if notRandom(raw) == "" {
			return newKey(raw)
		}
	}
}

// ParseKey parses the text of a Fernet key: 32 bytes in padded base64 (44
// characters ending in '='), as produced by Encode or by Python's
// Fernet.generate_key. It accepts what Python's Fernet accepts from well
// formed text: the url-safe alphabet ('-', '_'), the standard one ('+',
// '/'), or a mix, and ASCII whitespace anywhere (Python's
// base64.urlsafe_b64decode maps '+' and '/' and discards whitespace). Like
// Python, it refuses a key without its '=' padding.
//
// It is stricter than Python where Python silently reads a different text
// than the one given: characters outside both alphabets (quotes, '!'),
// anything after the padding (two keys run together), extra padding, and
// non-canonical encodings (non-zero unused bits in the last character). It
// also refuses keys that are not random: every byte the same (all zero, for
// example), or a signing half equal to the encryption half, which
// crypto/rand never produces and which mean the key was made by hand.
//
// Errors match ErrInvalidKey and never contain the key text.
func ParseKey(s string) (*Key, error) { return parseKey(s, true) }

// ParsePreviousKey parses a key that is only used to open what it sealed
// before, as ParseKey does, but accepts a key that is not random: the way
// off a hand-made key is to keep it as a previous key while rotate-key
// re-seals everything under a new one, so refusing it there would strand
// the data it sealed. Errors for such a key from ParseKey match
// ErrNotRandom, which lets a caller warn instead.
func ParsePreviousKey(s string) (*Key, error) { return parseKey(s, false) }

func parseKey(s string, refuseNotRandom bool) (*Key, error) {
	const hint = "generate one with `redsafe keygen`"
	s = keyText(s)
	if len(s) != encodedKeyLen {
		return nil, fmt.Errorf("%w: must be base64 of 32 bytes (44 characters ending in '='), got %d characters; %s", ErrInvalidKey, len(s), hint)
	}
	var raw [rawKeyLen + 1]byte // DecodedLen(44) is 33
	n, err := keyEncoding.Decode(raw[:], []byte(s))
	if err != nil || n != rawKeyLen {
		// The decoder's error names an offset only, but is dropped anyway so
		// that no future change can leak key text into logs.
		return nil, fmt.Errorf("%w: must be base64 of 32 bytes (44 characters ending in '='); %s", ErrInvalidKey, hint)
	}
	key := [rawKeyLen]byte(raw[:rawKeyLen])
	if why := notRandom(key); why != "" && refuseNotRandom {
		return nil, fmt.Errorf("%w: %w: %s; %s", ErrInvalidKey, ErrNotRandom, why, hint)
	}
	return newKey(key), nil
}

// keyText maps the standard base64 alphabet to the url-safe one and drops
// ASCII whitespace, as Python's base64.urlsafe_b64decode does.
func keyText(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '+':
			return '-'
		case '/':
			return '_'
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return -1
		}
		return r
	}, s)
}

// notRandom says why raw cannot be a random key, or returns "". Both tests
// describe the key without revealing it.
func notRandom(raw [rawKeyLen]byte) string {
	constant := true
	for _, b := range raw[1:] {
		constant = constant && b == raw[0]
	}
	switch {
	case constant:
		return "every byte of it is the same"
	case hmac.Equal(raw[:rawKeyLen/2], raw[rawKeyLen/2:]):
		// Fernet uses the first half to sign and the second to encrypt;
		// equal halves (any pattern repeating every 16 bytes or less)
		// mean one 128-bit secret used twice, made by hand.
		return "its signing half equals its encryption half"
	}
	return ""
}

func newKey(raw [rawKeyLen]byte) *Key {
	block, err := aes.NewCipher(raw[16:])
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: the length is fixed
	}
	h := sha256.New()
	h.Write([]byte(keyIDPrefix))
	h.Write(raw[:])
	d := &keyData{raw: raw, block: block, id: hex.EncodeToString(h.Sum(nil)[:4]), sealed: deriveSealedKey(raw[:])}
	d.pool.New = func() any { return d.newWorker() }
	return &Key{d: d}
}

// Encode returns the key's secret 44-character url-safe text, its canonical
// form: ParseKey reads it back, as it does the other forms it accepts.
func (k *Key) Encode() string {
	return base64.URLEncoding.EncodeToString(k.d.raw[:])
}

// ID returns a short fingerprint that identifies the key in logs and reports
// without revealing it: the first 8 hex digits of
// SHA-256("redsafe key id" || the 32 raw key bytes). The prefix keeps the
// fingerprint from matching a hash of the key computed for any other purpose.
func (k *Key) ID() string {
	if k == nil || k.d == nil {
		return "invalid"
	}
	return k.d.id
}

// Equal reports whether k and o are the same key, in constant time.
func (k *Key) Equal(o *Key) bool {
	return hmac.Equal(k.d.raw[:], o.d.raw[:])
}

// String returns "seal.Key(id=XXXXXXXX)"; it never reveals the key.
func (k Key) String() string { return "seal.Key(id=" + k.ID() + ")" }

// GoString is the same as String so that %#v cannot reveal the key.
func (k Key) GoString() string { return k.String() }

// Format makes every verb, including %x and %+v, print String.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", k.String())
		return
	}
	f.Write([]byte(k.String()))
}
