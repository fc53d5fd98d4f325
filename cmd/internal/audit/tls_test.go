package audit

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
)

func TestExtraPlaintextPort(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{ExtraPlaintextPort: true})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	f := want(t, r, "tls.plaintext-port", sevError)
	wantContains(t, f, s.PlaintextAddr, "answers plaintext RESP")
	wantNone(t, r, "tls.disabled")
}

// redisserver allows TLS 1.2 and 1.3, which development accepts and the
// production policy does not.
func TestTLS12UnderProductionPolicy(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	r := auditOK(t, tlsOptions(s, redsafe.Production, "", s.Password))
	wantContains(t, want(t, r, "tls.old-protocol", sevWarning), "TLS 1.2")
	want(t, r, "tls.client-auth", sevNotice) // off, in production
	wantNone(t, auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password)), "tls.old-protocol")

	only13 := redisserver.Start(t, redisserver.Config{TLSProtocols: "TLSv1.3"})
	wantNone(t, auditOK(t, tlsOptions(only13, redsafe.Production, "", only13.Password)), "tls.old-protocol")
}

// OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level; a
// server that lowers it accepts them.
func TestTLS10And11(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{TLSProtocols: "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
		ExtraConfig: []string{`tls-ciphers "DEFAULT:@SECLEVEL=0"`}})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantContains(t, want(t, r, "tls.old-protocol", sevError), "TLS 1.0", "TLS 1.1")
}

func TestCertificateExpiry(t *testing.T) {
	t.Parallel()
	t.Run("in 10 days", func(t *testing.T) {
		t.Parallel()
		s := redisserver.Start(t, redisserver.Config{CertNotAfter: time.Now().Add(10 * 24 * time.Hour)})
		r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
		wantContains(t, want(t, r, "tls.cert-expiry", sevError), "in 9 days")
		wantNone(t, r, "audit.limited-visibility") // it still verifies: the password was sent
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		past := time.Now().Add(-72 * time.Hour)
		s := redisserver.Start(t, redisserver.Config{CertNotBefore: past, CertNotAfter: past.Add(24 * time.Hour)})
		r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
		wantContains(t, want(t, r, "tls.cert-expiry", sevCritical), "expired on", "2 days ago")
		// The service would refuse this server, so the audit does not send
		// it the password either, and says what it could not see.
		wantContains(t, want(t, r, "audit.limited-visibility", sevInfo), "did not verify", "expired", "password was not sent")
		wantBlind(t, r, "acl.dangerous-commands", "net.bind-all", "server.version")
		wantNone(t, r, "auth.none", "tls.cert-untrusted", "tls.cert-hostname")
	})
	t.Run("a year", func(t *testing.T) {
		t.Parallel()
		s := redisserver.Start(t, redisserver.Config{})
		wantNone(t, auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password)), "tls.cert-expiry")
	})
}

func TestCertificateForAnotherHost(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Hosts: []string{"redis.example.internal"}})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantContains(t, want(t, r, "tls.cert-hostname", sevError), "redis.example.internal", `"127.0.0.1"`)
	wantNone(t, r, "tls.cert-untrusted", "tls.cert-expiry")
	// With the name the certificate lists, it verifies.
	o := tlsOptions(s, redsafe.Development, "", s.Password)
	o.TLS.ServerName = "redis.example.internal"
	wantNone(t, auditOK(t, o), "tls.cert-hostname", "audit.limited-visibility")
}

func TestCertificateFromUnknownCA(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	o := tlsOptions(s, redsafe.Development, "", s.Password)
	o.TLS.CAFile = ""
	r := auditOK(t, o)
	want(t, r, "tls.cert-untrusted", sevError)
	wantContains(t, want(t, r, "audit.limited-visibility", sevInfo), "password was not sent")
}

// OpenSSL 3 (Debian's security level 2) refuses to load an RSA 1024 key
// or a SHA-1 signed certificate into redis-server, so this deployment puts
// a TLS terminator in front of a real redis-server, as stunnel or a proxy
// would: the audit judges what the endpoint presents.
func TestWeakCertificate(t *testing.T) {
	t.Parallel()
	backend := redisserver.Start(t, redisserver.Config{Plaintext: true})
	caFile, cert := weakChain(t)
	addr := terminate(t, cert, backend.Addr)
	o := redsafe.Options{Environment: redsafe.Development, URL: "rediss://" + addr + "/0", Password: backend.Password,
		TLS: redsafe.TLSOptions{CAFile: caFile}}
	r := auditOK(t, o)
	wantContains(t, want(t, r, "tls.cert-weak", sevError), "RSA 1024-bit key", "SHA1-RSA")
	wantNone(t, r, "tls.cert-untrusted", "tls.cert-hostname")

	// A sound chain behind the same kind of terminator is not reported.
	good := redisserver.Start(t, redisserver.Config{})
	pair, err := good.CA.IssueServer([]string{"127.0.0.1"}, certs.Options{}) // ECDSA P-256, SHA-256
	if err != nil {
		t.Fatal(err)
	}
	goodCert, err := pair.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	o2 := redsafe.Options{Environment: redsafe.Development, URL: "rediss://" + terminate(t, goodCert, backend.Addr) + "/0",
		Password: backend.Password, TLS: redsafe.TLSOptions{CAFile: good.CAFile}}
	wantNone(t, auditOK(t, o2), "tls.cert-weak", "tls.cert-untrusted", "audit.limited-visibility")
}

// weakChain writes a CA and returns a server certificate for 127.0.0.1
// with an RSA 1024 key and a SHA-1 signature.
func weakChain(t *testing.T) (caFile string, leaf tls.Certificate) {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "weak test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "weak"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, SignatureAlgorithm: x509.SHA1WithRSA,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// terminate accepts TLS with cert on a loopback port and relays each
// connection to backend in plaintext.
func terminate(t *testing.T, cert tls.Certificate, backend string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go relay(c, backend)
		}
	}()
	return ln.Addr().String()
}

func relay(c net.Conn, backend string) {
	defer c.Close()
	b, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	go func() {
		io.Copy(b, c)
		b.Close()
	}()
	io.Copy(c, b)
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{MutualTLS: true})
	o := tlsOptions(s, redsafe.Production, "", s.Password)
	o.TLS.CertFile, o.TLS.KeyFile = s.ClientCertFile, s.ClientKeyFile
	wantNone(t, auditOK(t, o), "tls.client-auth")

	optional := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{"tls-auth-clients optional"}})
	o = tlsOptions(optional, redsafe.Production, "", optional.Password)
	wantContains(t, want(t, auditOK(t, o), "tls.client-auth", sevNotice), "optional")

	// Without the client certificate the server refuses the session: the
	// audit cannot run, and says so.
	o = tlsOptions(s, redsafe.Production, "", s.Password)
	r := audit(t, o)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "REDIS_TLS_CERT") {
		t.Errorf("err = %v, want the refused session naming REDIS_TLS_CERT", r.Err)
	}
}

// Without credentials the audit still looks at a server whose certificate
// does not verify: nothing secret is sent to it.
func TestExpiredCertificateWithoutPassword(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-72 * time.Hour)
	s := redisserver.Start(t, redisserver.Config{NoAuth: true, CertNotBefore: past, CertNotAfter: past.Add(24 * time.Hour)})
	r := auditOK(t, tlsOptions(s, redsafe.Testing, "", ""))
	want(t, r, "tls.cert-expiry", sevCritical)
	want(t, r, "auth.none", sevCritical)
	want(t, r, "acl.dangerous-commands", sevError) // the anonymous default user was audited
}
