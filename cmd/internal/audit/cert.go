package audit

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/redsafe/redsafe"
	"strings"
	"time"
)

// expiryWarning is how long before expiry a certificate is reported.
const expiryWarning = 30 * 24 * time.Hour

// renewFix needs no restart: Redis loads a new certificate with CONFIG SET.
const renewFix = "renew the server certificate under the same CA with `redsafe certs renew`, then load it without a restart with `redsafe certs reload` (or issue it by your CA's process and CONFIG SET tls-cert-file and tls-key-file); monitor its expiry"

// CertExpiry judges the validity period of a server certificate at now:
// the tls.cert-expiry finding, or false when the certificate is valid for
// more than 30 days. It is the one expiry rule of audit and verify.
func CertExpiry(leaf *x509.Certificate, now time.Time) (redsafe.Finding, bool) {
	f := redsafe.Finding{ID: "tls.cert-expiry", Fix: renewFix}
	subject := describeCert(leaf)
	switch left := leaf.NotAfter.Sub(now); {
	case left <= 0:
		f.Severity, f.Message = sevCritical, "the server certificate has expired"
		f.Evidence = fmt.Sprintf("%s expired on %s (%d days ago); clients that verify certificates refuse it", subject, day(leaf.NotAfter), int(-left.Hours()/24))
	case left < expiryWarning:
		f.Severity, f.Message = sevError, "the server certificate expires within 30 days"
		f.Evidence = fmt.Sprintf("%s expires on %s (in %d days)", subject, day(leaf.NotAfter), int(left.Hours()/24))
	case leaf.NotBefore.After(now):
		f.Severity, f.Message = sevError, "the server certificate is not valid yet"
		f.Evidence = fmt.Sprintf("%s is valid from %s; check the clocks of the CA and the server", subject, day(leaf.NotBefore))
	default:
		return redsafe.Finding{}, false
	}
	return f, true
}

// checkCertificate judges the certificate chain the server presented:
// tls.cert-expiry, tls.cert-weak, tls.cert-hostname and tls.cert-untrusted.
func checkCertificate(r *run) {
	if r.inspection == nil {
		return
	}
	chain := r.inspection.chain
	leaf := chain[0]
	now := time.Now()
	subject := describeCert(leaf)
	if f, ok := CertExpiry(leaf, now); ok {
		r.add(f.ID, f.Severity, f.Message, f.Evidence, f.Fix)
	}
	if weak := weaknesses(chain); len(weak) > 0 {
		r.add("tls.cert-weak", sevError, "the certificate chain uses weak cryptography", strings.Join(weak, "; "),
			"issue a new certificate with an ECDSA P-256 or RSA ≥ 2048-bit key and a SHA-256 signature (`redsafe certs renew --key-type ecdsa-p256` does), then load it without a restart with `redsafe certs reload`")
	}
	name := r.ep.serverName()
	if err := leaf.VerifyHostname(name); err != nil {
		r.add("tls.cert-hostname", sevError, "the certificate does not cover the host name used",
			fmt.Sprintf("%s is valid for %s, not for %q; clients that verify host names refuse it, clients that do not are open to interception", subject, coveredNames(leaf), name),
			fmt.Sprintf("issue a certificate that lists %s (`redsafe certs --hosts %s,...`), or connect with a name it lists", name, name))
	}
	if err := verifyChain(chain, r.ep); err != nil {
		// A chain that fails only on a SHA-1 or MD5 signature is reported
		// as tls.cert-weak; Go names it an unknown authority as well.
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) && !strings.Contains(err.Error(), "insecure algorithm") {
			r.add("tls.cert-untrusted", sevError, "the certificate is not signed by a trusted CA",
				fmt.Sprintf("%s, issued by %q, does not chain to REDIS_TLS_CA_CERT or the system roots", subject, leaf.Issuer.String()),
				"set REDIS_TLS_CA_CERT to the CA that signed the server certificate, or install a certificate from a CA the clients trust")
		}
	}
}

// verifyChain checks the chain against the service's roots at a moment
// inside the leaf's validity, so that expiry (reported on its own) does not
// hide trust problems.
func verifyChain(chain []*x509.Certificate, ep *endpoint) error {
	leaf := chain[0]
	opts := x509.VerifyOptions{
		Intermediates: x509.NewCertPool(),
		CurrentTime:   leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if ep.tls != nil {
		opts.Roots = ep.tls.RootCAs
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := leaf.Verify(opts)
	return err
}

// weaknesses lists short keys and SHA-1/MD5 signatures in the chain. The
// signature of a self-signed root is not judged: nothing relies on it.
func weaknesses(chain []*x509.Certificate) []string {
	var out []string
	for i, c := range chain {
		who := "the server certificate"
		if i > 0 {
			who = fmt.Sprintf("chain certificate %d (%s)", i, c.Subject.CommonName)
		}
		switch k := c.PublicKey.(type) {
		case *rsa.PublicKey:
			if bits := k.N.BitLen(); bits < 2048 {
				out = append(out, fmt.Sprintf("%s has an RSA %d-bit key (minimum 2048)", who, bits))
			}
		case *ecdsa.PublicKey:
			if bits := k.Curve.Params().BitSize; bits < 256 {
				out = append(out, fmt.Sprintf("%s has an ECDSA %d-bit key (minimum P-256)", who, bits))
			}
		}
		selfSigned := i > 0 && bytes.Equal(c.RawSubject, c.RawIssuer)
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
			if !selfSigned {
				out = append(out, fmt.Sprintf("%s is signed with %s, which can be forged", who, c.SignatureAlgorithm))
			}
		}
	}
	return out
}

func describeCert(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("the server certificate (CN %q)", c.Subject.CommonName)
	}
	return "the server certificate"
}

func coveredNames(c *x509.Certificate) string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host name (no subject alternative names)"
	}
	return strings.Join(names, ", ")
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
