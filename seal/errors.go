package seal

import (
	"errors"
	"fmt"
)

// ErrInvalidToken is matched, through errors.Is, by every error that reports
// a token that cannot be opened. The more specific errors below say why, so
// that callers can tell data corruption or attack (ErrAuthentication) from
// routine expiry (ErrExpired).
var ErrInvalidToken = errors.New("seal: invalid token")

var (
	// ErrMalformed reports a token that is not a structurally valid Fernet
	// token: bad base64, too short, wrong version byte, or a ciphertext
	// that is not a whole number of AES blocks; or a sealed token that is
	// too short, or authentic but with flags this version does not know or
	// a compressed value that does not inflate to its declared length.
	ErrMalformed error = &tokenError{"seal: malformed token", ErrInvalidToken}

	// ErrAuthentication reports that the HMAC matched none of the keys, or
	// that a sealed token failed authentication: altered, sealed under a
	// key the Sealer does not have, or moved to another key name.
	ErrAuthentication error = &tokenError{"seal: token authentication failed: tampered or encrypted with a different key", ErrInvalidToken}

	// ErrFernetRefused reports a Fernet token (or anything not sealed) read
	// by a Sealer WithSealedOnly: it matches ErrAuthentication, since a
	// Fernet token can have been copied from any key.
	ErrFernetRefused error = &tokenError{"seal: a Fernet token, refused: only sealed tokens, bound to their key, are accepted (sealed-only)", ErrAuthentication}

	// ErrExpired reports an authentic token older than the ttl given to Open.
	ErrExpired error = &tokenError{"seal: token expired", ErrInvalidToken}

	// ErrFutureTimestamp reports an authentic token whose timestamp is more
	// than MaxClockSkew ahead of the clock, when a ttl was given to Open.
	ErrFutureTimestamp error = &tokenError{"seal: token timestamp is too far in the future (clock skew?)", ErrInvalidToken}

	// ErrBadPadding reports an authentic token whose plaintext padding is
	// invalid. Only a holder of the key can produce one, so it points at a
	// broken encoder rather than at an attacker.
	ErrBadPadding error = &tokenError{"seal: token has invalid padding", ErrInvalidToken}
)

// Detailed malformed errors are preallocated so that rejecting garbage, which
// a cache may see often, costs no allocation.
var (
	errEmpty     error = &tokenError{"seal: malformed token: empty", ErrMalformed}
	errBase64    error = &tokenError{"seal: malformed token: not padded url-safe base64", ErrMalformed}
	errTooShort  error = &tokenError{"seal: malformed token: too short", ErrMalformed}
	errVersion   error = &tokenError{"seal: malformed token: unknown version byte", ErrMalformed}
	errBlockSize error = &tokenError{"seal: malformed token: ciphertext is not a whole number of blocks", ErrMalformed}

	errSealedTooShort error = &tokenError{"seal: malformed sealed token: shorter than 54 bytes", ErrMalformed}
	errSealedFlags    error = &tokenError{"seal: malformed sealed token: unknown flags (sealed by a newer version?)", ErrMalformed}
	errDeclaredLen    error = &tokenError{"seal: malformed sealed token: compressed value declares more than 512 MiB", ErrMalformed}
	errInflate        error = &tokenError{"seal: malformed sealed token: compressed value does not inflate to exactly its declared length", ErrMalformed}
)

// unknownKeyError reports a sealed token whose key ID matches no key of the
// Sealer. The ID is not secret, and naming it tells an operator which
// service's key is missing.
type unknownKeyError struct{ id [sealedIDLen]byte }

func (e *unknownKeyError) Error() string {
	return fmt.Sprintf("seal: token authentication failed: sealed under a key this ring does not have (sealed key id %x)", e.id[:])
}

func (e *unknownKeyError) Unwrap() error { return ErrAuthentication }

// ErrInvalidKey is matched by every error from ParseKey.
var ErrInvalidKey = errors.New("seal: invalid key")

// ErrNotRandom is matched, besides ErrInvalidKey, by ParseKey's error for a
// well-formed key that no random generator makes (every byte the same, or
// two equal halves). ParsePreviousKey accepts such a key. Its text follows
// ErrInvalidKey's in a message, hence no prefix.
var ErrNotRandom = errors.New("not a random key")

type tokenError struct {
	msg    string
	parent error
}

func (e *tokenError) Error() string { return e.msg }
func (e *tokenError) Unwrap() error { return e.parent }
