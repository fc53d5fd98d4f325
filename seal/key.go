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

// keyEncoding is strict so that every key has exactly one text form and
// Encode returns what ParseKey was given.
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
	// Workers carry the per-call state (HMAC with its precomputed pads, CBC
	// modes, scratch) so that Seal and Open allocate nothing in steady state.
	pool sync.Pool
}

// GenerateKey returns a new random key from crypto/rand.
func GenerateKey() *Key {
	var raw [rawKeyLen]byte
	rand.Read(raw[:]) // never fails since Go 1.24: it crashes the program instead
	return newKey(raw)
}

// ParseKey parses the 44-character url-safe base64 text of a Fernet key, as
// produced by Encode or by Python's Fernet.generate_key. Surrounding
// whitespace is ignored; everything else must be exact, as in Python, except
// that non-canonical encodings (non-zero unused bits in the last character)
// are rejected. Errors match ErrInvalidKey and never contain the key text.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	const hint = "generate one with `redsafe keygen`"
	if len(s) != encodedKeyLen {
		return nil, fmt.Errorf("%w: must be url-safe base64 of 32 bytes (44 characters ending in '='), got %d characters; %s", ErrInvalidKey, len(s), hint)
	}
	if strings.ContainsAny(s, "+/") {
		return nil, fmt.Errorf("%w: uses the standard base64 alphabet ('+' or '/'); Fernet keys are url-safe base64 ('-' and '_'); %s", ErrInvalidKey, hint)
	}
	var raw [rawKeyLen + 1]byte // DecodedLen(44) is 33
	n, err := keyEncoding.Decode(raw[:], []byte(s))
	if err != nil || n != rawKeyLen {
		// The decoder's error names an offset only, but is dropped anyway so
		// that no future change can leak key text into logs.
		return nil, fmt.Errorf("%w: must be url-safe base64 of 32 bytes (44 characters ending in '='); %s", ErrInvalidKey, hint)
	}
	return newKey([rawKeyLen]byte(raw[:rawKeyLen])), nil
}

func newKey(raw [rawKeyLen]byte) *Key {
	block, err := aes.NewCipher(raw[16:])
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: the length is fixed
	}
	h := sha256.New()
	h.Write([]byte(keyIDPrefix))
	h.Write(raw[:])
	d := &keyData{raw: raw, block: block, id: hex.EncodeToString(h.Sum(nil)[:4])}
	d.pool.New = func() any { return d.newWorker() }
	return &Key{d: d}
}

// Encode returns the key's secret 44-character text, the inverse of ParseKey.
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
