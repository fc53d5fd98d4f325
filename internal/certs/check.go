package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// Status is the outcome of one check.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// ExpiryWarning is how close to expiry a certificate starts to warn.
const ExpiryWarning = 30 * 24 * time.Hour

// CheckOptions controls CheckDir.
type CheckOptions struct {
	Hosts []string  // names the server certificate must cover; nil => only that it has some
	Now   time.Time // zero => time.Now()
}

// Check is one verified property.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// CertInfo describes one certificate found in the directory.
type CertInfo struct {
	File      string    `json:"file"`
	Subject   string    `json:"subject"`
	Hosts     []string  `json:"hosts,omitempty"`
	KeyType   string    `json:"key_type"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	Signature string    `json:"signature"`
}

// CheckReport is the result of CheckDir. OK is false when any check failed;
// warnings do not clear it.
type CheckReport struct {
	OK           bool       `json:"ok"`
	Dir          string     `json:"dir"`
	Checks       []Check    `json:"checks"`
	Certificates []CertInfo `json:"certificates"`
}

func (r *CheckReport) add(name string, s Status, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Status: s, Detail: fmt.Sprintf(format, args...)})
	if s == Fail {
		r.OK = false
	}
}

// CheckDir verifies the files Generate writes: that the server (and client)
// certificates chain to the CA, cover the host names, are within their
// validity with more than 30 days left, use strong keys and SHA-256 or better
// signatures, match their keys, and that key files are private.
func CheckDir(dir string, o CheckOptions) *CheckReport {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	// Certificates is never nil so JSON consumers can always iterate it
	// (`jq '.certificates[]'` fails on null).
	r := &CheckReport{OK: true, Dir: dir, Certificates: []CertInfo{}}

	ca := r.load(dir, CAFile, "ca", true, o.Now)
	server := r.load(dir, ServerFile, "server", true, o.Now)
	// Client certificates are NAME.crt and NAME.key, as Generate writes them.
	clients := map[string]*x509.Certificate{}
	names := clientNames(dir)
	for _, name := range names {
		cert, _ := ClientFiles(name)
		if c := r.load(dir, cert, "client."+name, false, o.Now); c != nil {
			clients[name] = c
		}
	}
	r.keyMatches(dir, ServerKeyFile, server, "server")
	for _, name := range names {
		_, key := ClientFiles(name)
		r.keyMatches(dir, key, clients[name], "client."+name)
	}
	r.keyPrivate(dir, CAKeyFile, false)
	r.keyPrivate(dir, ServerKeyFile, true)
	for _, name := range names {
		_, key := ClientFiles(name)
		r.keyPrivate(dir, key, false)
	}

	if ca != nil && (!ca.IsCA || !ca.BasicConstraintsValid) {
		r.add("ca.is-ca", Fail, "%s is not a CA certificate", CAFile)
		ca = nil
	}
	if ca == nil || server == nil {
		return r
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	// During a CA rotation ca.crt is a bundle of the old and the new CA
	// (rotation.go), and clients trust each of them.
	if data, err := readPublic(filepath.Join(dir, CAFile)); err == nil {
		if bundle, err := ParseCerts(data); err == nil {
			for _, c := range bundle[1:] {
				if c.IsCA && c.BasicConstraintsValid {
					roots.AddCert(c)
				}
			}
		}
	}
	r.chain("server.chain", server, roots, x509.ExtKeyUsageServerAuth, o.Now)
	for _, name := range names {
		if c := clients[name]; c != nil {
			r.chain("client."+name+".chain", c, roots, x509.ExtKeyUsageClientAuth, o.Now)
		}
	}

	hosts := o.Hosts
	if hosts == nil {
		if len(server.DNSNames)+len(server.IPAddresses) == 0 {
			r.add("server.hosts", Fail, "%s names no host (no subject alternative names); clients will refuse it", ServerFile)
		} else {
			r.add("server.hosts", OK, "covers %s", strings.Join(certHosts(server), ", "))
		}
		return r
	}
	var missing []string
	for _, h := range hosts {
		if err := server.VerifyHostname(strings.Trim(h, "[]")); err != nil {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		r.add("server.hosts", Fail, "%s does not cover %s; it covers %s; reissue it under the same CA with `redsafe certs --renew --dir %s --hosts %s`",
			ServerFile, strings.Join(missing, ", "), strings.Join(certHosts(server), ", "), dir, strings.Join(hosts, ","))
	} else {
		r.add("server.hosts", OK, "covers %s", strings.Join(hosts, ", "))
	}
	return r
}

// load parses one certificate and checks its dates, key and signature.
func (r *CheckReport) load(dir, name, role string, required bool, now time.Time) *x509.Certificate {
	path := filepath.Join(dir, name)
	data, err := readPublic(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		r.add(role+".file", Fail, "%v; create the certificates with `redsafe certs --dir %s`", err, dir)
		return nil
	}
	cert, err := ParseCert(data)
	if err != nil {
		r.add(role+".file", Fail, "%s: %v", path, err)
		return nil
	}
	left := cert.NotAfter.Sub(now)
	// Floor, not truncation: a certificate that expired hours ago has -1
	// days left, not 0.
	days := int(math.Floor(left.Hours() / 24))
	r.Certificates = append(r.Certificates, CertInfo{
		File: name, Subject: cert.Subject.CommonName, Hosts: certHosts(cert), KeyType: keyDescription(cert),
		NotAfter: cert.NotAfter.UTC(), DaysLeft: days, Signature: cert.SignatureAlgorithm.String(),
	})

	switch {
	case now.Before(cert.NotBefore):
		r.add(role+".expiry", Fail, "%s is not valid until %s; check the clock", name, cert.NotBefore.UTC().Format(time.RFC3339))
	case left <= 0:
		r.add(role+".expiry", Fail, "%s expired on %s; %s", name, cert.NotAfter.UTC().Format(time.DateOnly), reissueFix(dir, role))
	case left < ExpiryWarning:
		r.add(role+".expiry", Warn, "%s expires in %d days (%s); %s", name, days, cert.NotAfter.UTC().Format(time.DateOnly), reissueFix(dir, role))
	default:
		r.add(role+".expiry", OK, "%s valid for %d more days", name, days)
	}

	switch cert.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA, x509.ECDSAWithSHA256, x509.ECDSAWithSHA384,
		x509.ECDSAWithSHA512, x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS, x509.PureEd25519:
		r.add(role+".signature", OK, "%s, %s", cert.SignatureAlgorithm, keyDescription(cert))
	default:
		r.add(role+".signature", Fail, "%s is signed with %s; %s (SHA-256)", name, cert.SignatureAlgorithm, reissueFix(dir, role))
	}
	if k, ok := cert.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		r.add(role+".key-strength", Fail, "%s has a %d-bit RSA key; use ECDSA P-256 or RSA 4096", name, k.N.BitLen())
	}
	return cert
}

// reissueFix is the command that replaces role's certificate: a leaf is
// reissued under the same CA, so clients keep their ca.crt; only the CA's
// own problems need a new CA.
func reissueFix(dir, role string) string {
	switch {
	case role == "ca":
		return fmt.Sprintf("replace the CA with `redsafe certs --new-ca --dir %s` and give every client the new ca.crt", dir)
	case strings.HasPrefix(role, "client."):
		return fmt.Sprintf("reissue it under the same CA with `redsafe certs --renew --dir %s --client %s`", dir, strings.TrimPrefix(role, "client."))
	}
	return fmt.Sprintf("reissue it under the same CA with `redsafe certs --renew --dir %s`", dir)
}

// chain verifies a leaf against the CA for one purpose.
func (r *CheckReport) chain(name string, leaf *x509.Certificate, roots *x509.CertPool, usage x509.ExtKeyUsage, now time.Time) {
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		r.add(name, Fail, "%v", err)
		return
	}
	r.add(name, OK, "signed by %s", CAFile)
}

// keyMatches checks that a key file holds the certificate's private key, so
// that a mixed-up pair fails here and not in redis-server's log.
func (r *CheckReport) keyMatches(dir, name string, cert *x509.Certificate, role string) {
	if cert == nil {
		return
	}
	// Bounded and never a FIFO or device; its mode is keyPrivate's check.
	data, err := secretfile.Read(filepath.Join(dir, name), secretfile.Options{FollowSymlinks: true, Tolerate: func(*secretfile.ExposedError) {}})
	if err != nil {
		r.add(role+".key", Fail, "%v", err)
		return
	}
	defer clear(data)
	key, err := ParseKey(data)
	if err != nil {
		r.add(role+".key", Fail, "%s: %v", name, err)
		return
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		r.add(role+".key", Fail, "%s does not belong to the %s certificate; %s", name, role, reissueFix(dir, role))
		return
	}
	r.add(role+".key", OK, "%s matches its certificate", name)
}

// keyPrivate fails when a key file can be read by group or others.
func (r *CheckReport) keyPrivate(dir, name string, required bool) {
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		if required || !errors.Is(err, os.ErrNotExist) {
			r.add("permissions."+name, Fail, "%v", err)
		}
		return
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		r.add("permissions."+name, Fail, "%s has mode %04o; run `chmod 600 %s`", name, m, filepath.Join(dir, name))
		return
	}
	r.add("permissions."+name, OK, "%s has mode %04o", name, fi.Mode().Perm())
}

func certHosts(c *x509.Certificate) []string {
	hosts := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}

func keyDescription(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	}
	return c.PublicKeyAlgorithm.String()
}
