package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// verify checks leaf against ca for host at time now (zero => real time).
func verify(ca *Authority, leaf *x509.Certificate, host string, eku x509.ExtKeyUsage, now time.Time) error {
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:       ca.Pool(),
		DNSName:     host,
		KeyUsages:   []x509.ExtKeyUsage{eku},
		CurrentTime: now,
	})
	return err
}

func newCA(t *testing.T) *Authority {
	t.Helper()
	ca, err := NewAuthority("test CA", Options{Organization: "redsafe tests"})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestParseKeyType(t *testing.T) {
	for in, want := range map[string]KeyType{"": ECDSAP256, "ECDSA-P256": ECDSAP256, "rsa-4096": RSA4096} {
		if got, err := ParseKeyType(in); err != nil || got != want {
			t.Errorf("ParseKeyType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseKeyType("rsa-1024"); err == nil {
		t.Error("rsa-1024 accepted")
	}
}

func TestAuthorityIsConstrainedCA(t *testing.T) {
	ca := newCA(t)
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("CA constraints wrong: IsCA=%v BCV=%v MaxPathLen=%d Zero=%v", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("KeyUsage = %v", c.KeyUsage)
	}
	if c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("SignatureAlgorithm = %v", c.SignatureAlgorithm)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
		t.Errorf("serial %v not a positive 128-bit number", c.SerialNumber)
	}
	if d := c.NotAfter.Sub(c.NotBefore); d < DefaultValidity || d > DefaultValidity+2*time.Hour {
		t.Errorf("default validity = %v", d)
	}
	if len(c.Subject.Organization) != 1 || c.Subject.CommonName != "test CA" {
		t.Errorf("subject = %v", c.Subject)
	}
}

func TestServerChainVerifies(t *testing.T) {
	ca := newCA(t)
	p, err := ca.IssueServer([]string{"localhost", "127.0.0.1", "::1", "[::2]"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cert.Subject.CommonName != "localhost" {
		t.Errorf("CN = %q", p.Cert.Subject.CommonName)
	}
	if len(p.Cert.DNSNames) != 1 || len(p.Cert.IPAddresses) != 3 || !p.Cert.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("SANs: DNS=%v IP=%v", p.Cert.DNSNames, p.Cert.IPAddresses)
	}
	if p.Cert.IsCA || p.Cert.AuthorityKeyId == nil {
		t.Errorf("leaf IsCA=%v AKID=%x", p.Cert.IsCA, p.Cert.AuthorityKeyId)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := verify(ca, p.Cert, h, x509.ExtKeyUsageServerAuth, time.Time{}); err != nil {
			t.Errorf("verify %s: %v", h, err)
		}
	}
	var hostErr x509.HostnameError
	if err := verify(ca, p.Cert, "example.com", x509.ExtKeyUsageServerAuth, time.Time{}); !errors.As(err, &hostErr) {
		t.Errorf("wrong host: err = %v, want HostnameError", err)
	}
	if err := verify(ca, p.Cert, "127.0.0.2", x509.ExtKeyUsageServerAuth, time.Time{}); !errors.As(err, &hostErr) {
		t.Errorf("wrong IP: err = %v, want HostnameError", err)
	}
	// A server certificate must not be usable as a client certificate.
	if err := verify(ca, p.Cert, "", x509.ExtKeyUsageClientAuth, time.Time{}); err == nil {
		t.Error("server cert verified for client auth")
	}
	// Another CA, even with the same name, must not validate the leaf.
	if err := verify(newCA(t), p.Cert, "localhost", x509.ExtKeyUsageServerAuth, time.Time{}); err == nil {
		t.Error("leaf verified against an unrelated CA")
	}
}

func TestInvalidHosts(t *testing.T) {
	ca := newCA(t)
	for _, hosts := range [][]string{nil, {""}, {"localhost:6379"}, {"fe80::1%eth0"}, {"a b"}} {
		if _, err := ca.IssueServer(hosts, Options{}); err == nil {
			t.Errorf("IssueServer(%q) accepted", hosts)
		}
	}
}

func TestExpiredCertificateFails(t *testing.T) {
	ca := newCA(t)
	past := time.Now().Add(-48 * time.Hour)
	p, err := ca.IssueServer([]string{"127.0.0.1"}, Options{NotBefore: past, NotAfter: past.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var inv x509.CertificateInvalidError
	err = verify(ca, p.Cert, "127.0.0.1", x509.ExtKeyUsageServerAuth, time.Time{})
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Errorf("err = %v, want x509 Expired", err)
	}
	if _, err := ca.IssueServer([]string{"x"}, Options{NotBefore: past, NotAfter: past}); err == nil {
		t.Error("empty validity window accepted")
	}
}

func TestClientCertificate(t *testing.T) {
	ca := newCA(t)
	p, err := ca.IssueClient("app", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cert.ExtKeyUsage) != 1 || p.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("ExtKeyUsage = %v", p.Cert.ExtKeyUsage)
	}
	if err := verify(ca, p.Cert, "", x509.ExtKeyUsageClientAuth, time.Time{}); err != nil {
		t.Errorf("client verify: %v", err)
	}
	if err := verify(ca, p.Cert, "", x509.ExtKeyUsageServerAuth, time.Time{}); err == nil {
		t.Error("client cert verified for server auth")
	}
	if _, err := p.TLSCertificate(); err != nil {
		t.Errorf("TLSCertificate: %v", err)
	}
}

// RSA 4096 generation takes seconds, so both RSA keys are made once, in
// parallel (one per core), and shared by the tests that need them.
var rsaOnce struct {
	sync.Once
	ca       *Authority // RSA CA
	leafByEC *Pair      // RSA leaf issued by an ECDSA CA
	ecCA     *Authority
	err      error
}

func rsaFixtures(t *testing.T) (*Authority, *Authority, *Pair) {
	t.Helper()
	rsaOnce.Do(func() {
		var wg sync.WaitGroup
		var errCA, errLeaf error
		wg.Add(1)
		go func() {
			defer wg.Done()
			rsaOnce.ca, errCA = NewAuthority("rsa CA", Options{KeyType: RSA4096})
		}()
		rsaOnce.ecCA, rsaOnce.err = NewAuthority("ec CA", Options{})
		if rsaOnce.err == nil {
			rsaOnce.leafByEC, errLeaf = rsaOnce.ecCA.IssueServer([]string{"127.0.0.1"}, Options{KeyType: RSA4096})
		}
		wg.Wait()
		rsaOnce.err = errors.Join(rsaOnce.err, errCA, errLeaf)
	})
	if rsaOnce.err != nil {
		t.Fatal(rsaOnce.err)
	}
	return rsaOnce.ca, rsaOnce.ecCA, rsaOnce.leafByEC
}

func TestRSA4096(t *testing.T) {
	rsaCA, ecCA, rsaLeaf := rsaFixtures(t)
	if k, ok := rsaCA.Key.(*rsa.PrivateKey); !ok || k.N.BitLen() != 4096 {
		t.Fatalf("CA key = %T", rsaCA.Key)
	}
	if rsaCA.Cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("RSA CA signature = %v", rsaCA.Cert.SignatureAlgorithm)
	}
	// Leaf key type follows Options, signature algorithm follows the issuer.
	if k, ok := rsaLeaf.Key.(*rsa.PrivateKey); !ok || k.N.BitLen() != 4096 {
		t.Fatalf("leaf key = %T", rsaLeaf.Key)
	}
	if rsaLeaf.Cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("leaf by EC CA signature = %v", rsaLeaf.Cert.SignatureAlgorithm)
	}
	if rsaLeaf.Cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
		t.Error("RSA leaf lacks KeyEncipherment")
	}
	if err := verify(ecCA, rsaLeaf.Cert, "127.0.0.1", x509.ExtKeyUsageServerAuth, time.Time{}); err != nil {
		t.Errorf("verify RSA leaf: %v", err)
	}
	ecLeaf, err := rsaCA.IssueServer([]string{"::1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ecLeaf.Key.(*ecdsa.PrivateKey); !ok || ecLeaf.Cert.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("EC leaf by RSA CA: key %T sig %v", ecLeaf.Key, ecLeaf.Cert.SignatureAlgorithm)
	}
	if err := verify(rsaCA, ecLeaf.Cert, "::1", x509.ExtKeyUsageServerAuth, time.Time{}); err != nil {
		t.Errorf("verify EC leaf: %v", err)
	}
}

func TestSuppliedKey(t *testing.T) {
	ca := newCA(t)
	p, err := ca.IssueClient("reuse", Options{Key: ca.Key})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Key.Public().(*ecdsa.PublicKey).Equal(ca.Key.Public()) {
		t.Error("supplied key not used")
	}
	if _, err := ca.IssueClient("x", Options{Key: ca.Key, KeyType: RSA4096}); err == nil {
		t.Error("KeyType/Key mismatch accepted")
	}
}
