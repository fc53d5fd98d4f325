// Package seal encrypts and authenticates small values, such as cached
// Redis values, as Fernet tokens that are byte-for-byte interchangeable with
// Python's cryptography.fernet.Fernet and MultiFernet.
//
// A token is the padded url-safe base64 encoding of
//
//	0x80 | timestamp (8 bytes, big-endian Unix seconds) | IV (16 random bytes) |
//	AES-128-CBC ciphertext with PKCS#7 padding | HMAC-SHA256 (32 bytes)
//
// where the HMAC covers every byte before it. A key is the padded url-safe
// base64 encoding of 32 bytes: the first 16 sign, the last 16 encrypt. See
// https://github.com/fernet/spec/blob/master/Spec.md.
//
// A [Sealer] holds a primary key, used to seal, and optional previous keys
// that are still accepted when opening, so keys can be rotated without
// losing data that was sealed before the rotation; [Sealer.OpenKey] reports
// which key opened a token and [Sealer.Rotate] re-seals a token under the
// primary key.
//
// Seal and Open append to a caller-supplied buffer in the style of
// crypto/cipher.AEAD and allocate nothing once the buffer is large enough
// ([SealedLen] gives the exact token length).
//
// Every failure to open matches [ErrInvalidToken] and one more specific
// error. The HMAC is checked before the timestamp, so [ErrExpired] and
// [ErrFutureTimestamp] only ever describe authentic tokens, while anything
// forged or sealed under an unknown key is [ErrAuthentication]. Python checks
// the timestamp first; both orders accept exactly the same tokens.
//
// The sealed format, docs/FORMAT.md, is the opt-in alternative
// ([Sealer.WithFormat] with [Sealed]): binary tokens sealed with
// XAES-256-GCM under a key derived from the same Fernet key, carrying a key
// ID so that a reader picks the key without trying each one, and binding
// the full Redis key name into the associated data so that a token copied
// to another key fails authentication (a copied Fernet token opens).
// [Sealer.SealFor], [Sealer.OpenFor] and [Sealer.RotateFor] take that name,
// read both formats, told apart by their first byte ([TokenFormat]), and
// write the configured one; [HashedName] computes hashed key names. The
// Python reference in examples/python reads and writes the same tokens.
//
// Compared with Python, decoding is stricter: a token must be canonical
// padded url-safe base64 with no surrounding whitespace, whereas Python
// silently skips characters outside the alphabet and also accepts '+' and
// '/'. Every token that Python or any other Fernet implementation emits is
// canonical, so this only rejects text that was altered in transit.
package seal
