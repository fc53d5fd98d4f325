package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// foundClient is a client certificate of the directory that Renew reissues.
type foundClient struct {
	cert              *x509.Certificate
	certPath, keyPath string
}

// renewableClients returns every client certificate in dir (NAME.crt with
// NAME.key), each checked to be a client certificate signed by ca or by a
// CA in ca.crt. Any other is refused, naming it, rather than skipped: a
// renewal that says it renewed every client certificate must not leave
// one to expire.
func renewableClients(dir string, ca *Authority) ([]foundClient, error) {
	caPath := filepath.Join(dir, CAFile)
	data, err := readPublic(caPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	bundle, err := ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, caPath)
	}
	issuers := append([]*x509.Certificate{ca.Cert}, bundle...)
	var found []foundClient
	var refused []string
	for _, name := range clientNames(dir) {
		c, err := findClient(dir, name, issuers)
		if err != nil {
			cert, key := ClientFiles(name)
			refused = append(refused, fmt.Sprintf("%v: move %s and %s out of %s, or reissue it under this CA with `redsafe certs renew --dir %s --client %s`",
				err, cert, key, dir, dir, name))
			continue
		}
		found = append(found, c)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("certs: renew reissues every client certificate in %s under %s, and cannot reissue %s; no file was changed",
			dir, caPath, strings.Join(refused, "; "))
	}
	return found, nil
}

// findClient reads client name's certificate and checks it can be renewed.
func findClient(dir, name string, issuers []*x509.Certificate) (foundClient, error) {
	cert, key := ClientFiles(name)
	c := foundClient{certPath: filepath.Join(dir, cert), keyPath: filepath.Join(dir, key)}
	if missing(c.keyPath) {
		return c, fmt.Errorf("%s, which has no %s beside it", c.certPath, key)
	}
	if missing(c.certPath) {
		return c, fmt.Errorf("%s, which has no %s beside it", c.keyPath, cert)
	}
	data, err := readPublic(c.certPath)
	if err != nil {
		return c, err
	}
	if c.cert, err = ParseCert(data); err != nil {
		return c, fmt.Errorf("%s, which is not a certificate (%v)", c.certPath, err)
	}
	switch {
	case !forClients(c.cert):
		return c, fmt.Errorf("%s, which is not a client certificate (its extended key usage leaves out client authentication)", c.certPath)
	case strings.TrimSpace(c.cert.Subject.CommonName) == "":
		return c, fmt.Errorf("%s, which has no common name", c.certPath)
	case signedByAny(c.cert, issuers):
		return c, nil
	case slices.ContainsFunc(issuers, func(ca *x509.Certificate) bool { return bytes.Equal(c.cert.RawIssuer, ca.RawSubject) }):
		// Every CA `redsafe certs` creates has the same name.
		return c, fmt.Errorf("%s, which another CA's key signed, not this CA's (both are named %q)", c.certPath, c.cert.Issuer.String())
	}
	return c, fmt.Errorf("%s, which %q signed, not this CA", c.certPath, c.cert.Issuer.String())
}

func missing(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, os.ErrNotExist)
}

// forClients reports whether a certificate may authenticate a TLS client:
// no extended key usage means any.
func forClients(c *x509.Certificate) bool {
	return len(c.ExtKeyUsage) == 0 || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// signedByAny reports whether one of issuers signed leaf, as a peer
// building its chain would find it: by the issuer's name, then the
// signature. Dates are not checked: an expired certificate is what is
// being renewed.
func signedByAny(leaf *x509.Certificate, issuers []*x509.Certificate) bool {
	return slices.ContainsFunc(issuers, func(ca *x509.Certificate) bool {
		return bytes.Equal(leaf.RawIssuer, ca.RawSubject) && leaf.CheckSignatureFrom(ca) == nil
	})
}
