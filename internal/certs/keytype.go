// Package certs creates and stores the X.509 material redsafe needs for TLS:
// a private certificate authority plus server and client certificates
// issued by it. It is used by the test harness and by `redsafe certs`.
//
// Choices are deliberately narrow: ECDSA P-256 (default) or RSA 4096 keys,
// SHA-256 signatures, PKCS#8 key files written 0600, certificates 0644.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
)

// KeyType names a supported key algorithm.
type KeyType string

const (
	// ECDSAP256 is the default: small, fast, universally supported by TLS 1.2+.
	ECDSAP256 KeyType = "ecdsa-p256"
	// RSA4096 is for environments that still require RSA.
	RSA4096 KeyType = "rsa-4096"
)

// rsaBits is fixed: the CLI promises RSA 4096, nothing weaker.
const rsaBits = 4096

// ParseKeyType accepts the canonical names (case-insensitive); "" means the
// default so that an unset flag does not have to be special-cased by callers.
func ParseKeyType(s string) (KeyType, error) {
	switch KeyType(strings.ToLower(strings.TrimSpace(s))) {
	case "", ECDSAP256:
		return ECDSAP256, nil
	case RSA4096:
		return RSA4096, nil
	}
	return "", fmt.Errorf("certs: unknown key type %q (want %q or %q)", s, ECDSAP256, RSA4096)
}

// generateKey creates a fresh private key of type kt ("" = default).
func generateKey(kt KeyType) (crypto.Signer, error) {
	kt, err := ParseKeyType(string(kt))
	if err != nil {
		return nil, err
	}
	if kt == RSA4096 {
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// keyTypeOf reports which supported KeyType a key is, so caller-supplied
// keys (Options.Key) are held to the same rules as generated ones.
func keyTypeOf(k crypto.Signer) (KeyType, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return ECDSAP256, nil
		}
		return "", fmt.Errorf("certs: unsupported ECDSA curve %s (want P-256)", k.Curve.Params().Name)
	case *rsa.PrivateKey:
		if k.N.BitLen() == rsaBits {
			return RSA4096, nil
		}
		return "", fmt.Errorf("certs: unsupported RSA key size %d (want %d)", k.N.BitLen(), rsaBits)
	}
	return "", fmt.Errorf("certs: unsupported key type %T", k)
}

// signatureAlgorithm pins SHA-256 for the issuer's public key instead of
// relying on the standard library's defaults, which may change over time.
func signatureAlgorithm(pub crypto.PublicKey) (x509.SignatureAlgorithm, error) {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return 0, fmt.Errorf("certs: unsupported CA curve %s (want P-256)", pub.Curve.Params().Name)
		}
		return x509.ECDSAWithSHA256, nil
	case *rsa.PublicKey:
		// Accept >= 2048 so an existing RSA CA loaded from disk still works.
		if pub.N.BitLen() < 2048 {
			return 0, fmt.Errorf("certs: RSA CA key of %d bits is too small", pub.N.BitLen())
		}
		return x509.SHA256WithRSA, nil
	}
	return 0, fmt.Errorf("certs: unsupported CA key type %T", pub)
}
