package certs

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// EncodeKey marshals a private key as PKCS#8 ("PRIVATE KEY"), the one
// format every TLS stack (Go, OpenSSL/redis-server) reads for all key types.
func EncodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("certs: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey reads the first private key block. Besides PKCS#8 it accepts the
// legacy "EC PRIVATE KEY"/"RSA PRIVATE KEY" forms openssl may produce, but
// never encrypted PEM (there is no passphrase prompt in this code path).
func ParseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("certs: no private key PEM block found")
		}
		if _, enc := b.Headers["Proc-Type"]; enc {
			return nil, errors.New("certs: encrypted PEM keys are not supported")
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue // e.g. "EC PARAMETERS" preceding the key
		}
		if err != nil {
			return nil, fmt.Errorf("certs: parse %s: %w", b.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("certs: key type %T cannot sign", k)
		}
		return s, nil
	}
}

// ParseCert reads the first CERTIFICATE block.
func ParseCert(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("certs: no CERTIFICATE PEM block found")
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certs: parse certificate: %w", err)
			}
			return c, nil
		}
	}
}

// maxBundleCerts bounds ParseCerts: a CA bundle during a rotation holds
// two certificates, and no file of ours holds more than a few.
const maxBundleCerts = 16

// ParseCerts reads every CERTIFICATE block, in order, such as both CAs of
// a ca.crt bundle during a CA rotation, where ParseCert reads only the
// first. Other blocks are skipped; more than 16 certificates are refused.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if len(out) == maxBundleCerts {
			return nil, fmt.Errorf("certs: more than %d certificates in one file", maxBundleCerts)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: parse certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("certs: no CERTIFICATE PEM block found")
	}
	return out, nil
}

// LoadAuthority reads a CA written by WriteCert/WriteKey (or openssl) and
// checks that it really is a CA and that the key belongs to the certificate,
// so a mixed-up file pair fails here instead of at the peer.
func LoadAuthority(certPath, keyPath string) (*Authority, error) {
	certPEM, err := readPublic(certPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	// ca.key can issue certificates: the same owner and mode rules as every
	// secret file.
	keyPEM, err := secretfile.Read(keyPath, secretfile.Named)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	defer clear(keyPEM)
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, certPath)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, keyPath)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("certs: %s is not a CA certificate", certPath)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("certs: key %s does not match certificate %s", keyPath, certPath)
	}
	if _, err := signatureAlgorithm(key.Public()); err != nil {
		return nil, err
	}
	// Re-encode so CertPEM holds exactly the certificate, whatever else the file had.
	return &Authority{Cert: cert, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), Key: key}, nil
}
