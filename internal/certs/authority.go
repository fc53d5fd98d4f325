package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Authority is a certificate authority able to issue leaf certificates.
type Authority struct {
	Cert    *x509.Certificate
	CertPEM []byte
	Key     crypto.Signer
}

// Pair is an issued leaf certificate with its private key.
type Pair struct {
	Cert    *x509.Certificate
	CertPEM []byte // leaf only; peers get the CA separately
	KeyPEM  []byte // PKCS#8 "PRIVATE KEY"
	Key     crypto.Signer
}

// NewAuthority creates a self-signed CA. MaxPathLenZero keeps it from
// signing intermediate CAs: it only ever issues leaves.
func NewAuthority(commonName string, o Options) (*Authority, error) {
	if strings.TrimSpace(commonName) == "" {
		return nil, errors.New("certs: CA common name is empty")
	}
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	tmpl, err := baseTemplate(commonName, o)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLen = 0
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	// Go derives SubjectKeyId for CAs automatically; leaves then carry it as
	// AuthorityKeyId, which helps chain building when several CAs coexist.
	cert, certPEM, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, CertPEM: certPEM, Key: key}, nil
}

// IssueServer issues a TLS server certificate for hosts. IP literals become
// IP SANs (so "127.0.0.1" and "::1" verify), everything else DNS SANs.
func (a *Authority) IssueServer(hosts []string, o Options) (*Pair, error) {
	if len(hosts) == 0 {
		return nil, errors.New("certs: server certificate needs at least one host")
	}
	tmpl, err := baseTemplate(strings.Trim(hosts[0], "[]"), o)
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		h = strings.Trim(strings.TrimSpace(h), "[]") // tolerate "[::1]"
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if h == "" || strings.ContainsAny(h, ":%/ \t") {
			// Catches "host:port", zoned IPs and URLs passed by mistake.
			return nil, fmt.Errorf("certs: invalid host %q", h)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return a.issue(tmpl, o)
}

// IssueClient issues a TLS client certificate (for mutual TLS).
func (a *Authority) IssueClient(name string, o Options) (*Pair, error) {
	tmpl, err := clientTemplate(name, o)
	if err != nil {
		return nil, err
	}
	return a.issue(tmpl, o)
}

// reissueClient issues the successor of client certificate old: its common
// name and any other names it has (DNS, IP, email, URI), so that a peer
// that checks one of them accepts the new certificate as it did the old.
func (a *Authority) reissueClient(old *x509.Certificate, o Options) (*Pair, error) {
	tmpl, err := clientTemplate(old.Subject.CommonName, o)
	if err != nil {
		return nil, err
	}
	tmpl.DNSNames, tmpl.IPAddresses = old.DNSNames, old.IPAddresses
	tmpl.EmailAddresses, tmpl.URIs = old.EmailAddresses, old.URIs
	return a.issue(tmpl, o)
}

func clientTemplate(name string, o Options) (*x509.Certificate, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("certs: client name is empty")
	}
	tmpl, err := baseTemplate(name, o)
	if err != nil {
		return nil, err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return tmpl, nil
}

func (a *Authority) issue(tmpl *x509.Certificate, o Options) (*Pair, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	tmpl.BasicConstraintsValid = true // explicit "not a CA"
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		// TLS 1.2 RSA key exchange needs KeyEncipherment on RSA leaves.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	cert, certPEM, err := sign(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return nil, err
	}
	keyPEM, err := EncodeKey(key)
	if err != nil {
		return nil, err
	}
	return &Pair{Cert: cert, CertPEM: certPEM, KeyPEM: keyPEM, Key: key}, nil
}

// KeyPEM returns the CA private key as PKCS#8 PEM.
func (a *Authority) KeyPEM() ([]byte, error) { return EncodeKey(a.Key) }

// Pool returns a CertPool trusting only this CA.
func (a *Authority) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.Cert)
	return p
}

// TLSCertificate converts the pair for use in a tls.Config.
func (p *Pair) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(p.CertPEM, p.KeyPEM)
}

func baseTemplate(cn string, o Options) (*x509.Certificate, error) {
	nb, na, err := o.validity()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      o.subject(cn),
		NotBefore:    nb,
		NotAfter:     na,
	}, nil
}

// sign creates the certificate and returns it parsed and PEM-encoded.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, []byte, error) {
	alg, err := signatureAlgorithm(signer.Public())
	if err != nil {
		return nil, nil, err
	}
	tmpl.SignatureAlgorithm = alg
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: parse new certificate: %w", err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
