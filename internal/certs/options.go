package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// DefaultValidity is used when Options.NotAfter is zero.
const DefaultValidity = 365 * 24 * time.Hour

// clockSkew backdates NotBefore so freshly issued certificates are accepted
// by peers whose clocks run slightly behind ours.
const clockSkew = time.Hour

// Options controls key generation and validity for one certificate.
type Options struct {
	KeyType KeyType // "" => ECDSAP256
	// NotBefore/NotAfter: zero values mean now-1h and now+365d respectively.
	// They are not clamped to the issuer's validity, so tests can build
	// deliberately expired or not-yet-valid certificates.
	NotBefore, NotAfter time.Time
	Organization        string // optional Subject O
	// Key, when non-nil, is used instead of generating a new key. It must be
	// ECDSA P-256 or RSA 4096 and match KeyType if that is set. It exists so
	// tests can reuse slow-to-generate RSA keys.
	Key crypto.Signer
}

// key returns the caller's key or a freshly generated one.
func (o Options) key() (crypto.Signer, error) {
	if o.Key == nil {
		return generateKey(o.KeyType)
	}
	got, err := keyTypeOf(o.Key)
	if err != nil {
		return nil, err
	}
	if o.KeyType != "" {
		want, err := ParseKeyType(string(o.KeyType))
		if err != nil {
			return nil, err
		}
		if want != got {
			return nil, fmt.Errorf("certs: Options.Key is %s but KeyType is %s", got, want)
		}
	}
	return o.Key, nil
}

// validity resolves the default window and rejects an empty one.
func (o Options) validity() (time.Time, time.Time, error) {
	now := time.Now()
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = now.Add(-clockSkew)
	}
	if na.IsZero() {
		na = now.Add(DefaultValidity)
	}
	if !na.After(nb) {
		return time.Time{}, time.Time{}, errors.New("certs: NotAfter must be after NotBefore")
	}
	return nb, na, nil
}

func (o Options) subject(cn string) pkix.Name {
	n := pkix.Name{CommonName: cn}
	if o.Organization != "" {
		n.Organization = []string{o.Organization}
	}
	return n
}

// serialLimit is 2^128: RFC 5280 allows up to 20 octets, 128 random bits
// make collisions between independently created certificates negligible.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

func newSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("certs: serial number: %w", err)
		}
		if n.Sign() > 0 { // serial numbers must be positive
			return n, nil
		}
	}
}
