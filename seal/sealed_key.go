package seal

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// The HKDF-SHA256 labels of docs/FORMAT.md, section Keys. Each gives an
// independent value, so no derived value says anything about another or
// about the Fernet halves of the key.
const (
	infoSealingKey = "redsafe sealed v1 key"
	infoSealedID   = "redsafe sealed v1 key id"
	infoNameKey    = "redsafe key names v1"

	sealedIDLen = 4
	nameKeyLen  = 32
)

// sealedKey is what the sealed format derives from a key: the XAES-256-GCM
// sealing key K (as its AES block and CMAC subkey), the key ID I, and the
// name key NK for hashed key names.
type sealedKey struct {
	aead    *xaes
	id      [sealedIDLen]byte
	nameKey [nameKeyLen]byte
}

func deriveSealedKey(m []byte) sealedKey {
	k := hkdfSHA256(m, infoSealingKey, xaesKeySize)
	defer clear(k)
	var sk sealedKey
	sk.aead = newXAES(k)
	copy(sk.id[:], hkdfSHA256(m, infoSealedID, sealedIDLen))
	nk := hkdfSHA256(m, infoNameKey, nameKeyLen)
	copy(sk.nameKey[:], nk)
	clear(nk)
	return sk
}

// hkdfSHA256 is HKDF-SHA256 with an empty salt, which RFC 5869 (and
// crypto/hkdf) read as 32 zero bytes.
func hkdfSHA256(ikm []byte, info string, n int) []byte {
	out, err := hkdf.Key(sha256.New, ikm, nil, info, n)
	if err != nil {
		panic("seal: " + err.Error()) // unreachable: n is far below 255 hash lengths
	}
	return out
}

// SealedID returns the 4-byte key ID that sealed tokens carry to say which
// key sealed them: HKDF-SHA256 of the key with the info "redsafe sealed v1
// key id". Every service with the same key derives the same ID. IDs are not
// secret, but they are not the key fingerprint of [Key.ID], which logs and
// reports use for every format.
func (k *Key) SealedID() [4]byte { return k.d.sealed.id }

// NameKey returns a copy of the name key NK derived from k (docs/FORMAT.md,
// section Key names), for [HashedName] when no name key of its own is
// configured. It is secret: whoever has it can test guesses of hashed names.
func (k *Key) NameKey() []byte { return append([]byte(nil), k.d.sealed.nameKey[:]...) }

// HashedName returns the name under which a key is stored with hashed key
// names: keyPrefix || prefix || base64url-nopad(HMAC-SHA256(nk, keyPrefix ||
// name)). name is the key as the application gives it, starting with
// prefix, the longest configured hashed prefix it starts with; the readable
// prefix is kept so that SCAN MATCH prefix* still finds the keys, and
// nothing else of name can be recovered. nk is the 32-byte name key. It
// panics if nk is not 32 bytes or name does not start with prefix, both
// configuration bugs that would silently store keys under other names.
func HashedName(nk []byte, keyPrefix, prefix, name string) string {
	if len(nk) != nameKeyLen {
		panic("seal: HashedName needs a 32-byte name key")
	}
	if !strings.HasPrefix(name, prefix) {
		panic("seal: HashedName called with a name outside its prefix")
	}
	mac := hmac.New(sha256.New, nk)
	mac.Write([]byte(keyPrefix))
	mac.Write([]byte(name))
	var sum [sha256.Size]byte
	enc := base64.RawURLEncoding
	out := make([]byte, len(keyPrefix)+len(prefix)+enc.EncodedLen(len(sum)))
	n := copy(out, keyPrefix)
	n += copy(out[n:], prefix)
	enc.Encode(out[n:], mac.Sum(sum[:0]))
	return string(out)
}
