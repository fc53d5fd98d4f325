package seal

import "fmt"

// Format is a token format. The zero value is Fernet, the default.
type Format uint8

const (
	// Fernet tokens are text that Python's cryptography.fernet reads. They
	// are not bound to the key name: a token copied from one Redis key to
	// another opens under the other.
	Fernet Format = iota
	// Sealed tokens are docs/FORMAT.md's sealed format v1: binary,
	// XAES-256-GCM, with a key ID and the full Redis key name in the
	// associated data, so that a token moved to another key fails
	// authentication.
	Sealed
)

// sealedVersion is the first byte of a sealed token; a Fernet token's is
// 'g', the base64 of Fernet's version byte. Neither is the other's.
const (
	sealedVersion = 0x91
	fernetFirst   = 'g'
)

// ParseFormat reads "fernet" or "sealed", as in REDIS_ENCRYPTION_FORMAT.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "fernet":
		return Fernet, nil
	case "sealed":
		return Sealed, nil
	}
	return 0, fmt.Errorf("seal: unknown token format %q: want fernet or sealed", s)
}

// String returns "fernet" or "sealed", what ParseFormat reads.
func (f Format) String() string {
	switch f {
	case Fernet:
		return "fernet"
	case Sealed:
		return "sealed"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// TokenFormat says which format a stored value looks like from its first
// byte, without authenticating it: ok is false when it is neither, as
// plaintext usually is. A value that looks like a token may still be
// forged or sealed under other keys; only opening it tells.
func TokenFormat(token []byte) (f Format, ok bool) {
	switch {
	case len(token) == 0:
		return 0, false
	case token[0] == sealedVersion:
		return Sealed, true
	case token[0] == fernetFirst:
		return Fernet, true
	}
	return 0, false
}
