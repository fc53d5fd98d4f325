package certreload

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"
)

// pastExpiry is cfg for the connections that come before the reload (the
// admin's, and the handshake that reads the certificate served so far):
// it verifies what cfg verifies (chain to cfg's roots, host name, usage),
// except that a certificate outside its dates is accepted as if checked
// at its nearest valid instant. A renewal is most needed when the served
// certificate has just expired, and its expiry is no sign of another
// server: only the CA's key could issue one with this chain and name. The
// proof after the reload uses cfg itself, so the node's new certificate
// must verify as its clients will verify it.
func pastExpiry(cfg *tls.Config, addr string) *tls.Config {
	if cfg == nil || cfg.InsecureSkipVerify {
		return cfg // a policy that verifies less than this already (development)
	}
	c := cfg.Clone()
	name := serverName(cfg, addr)
	roots, clock := cfg.RootCAs, cfg.Time
	c.InsecureSkipVerify = true // replaced by the check below, never skipped
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, ic := range cs.PeerCertificates[1:] {
			inter.AddCert(ic)
		}
		now := time.Now()
		if clock != nil {
			now = clock()
		}
		// Only lately expired, or not valid yet by a clock-skew's worth: an
		// old certificate whose key may have leaked since is refused.
		if now.After(leaf.NotAfter) && now.Sub(leaf.NotAfter) <= expiredGrace {
			now = leaf.NotAfter
		} else if now.Before(leaf.NotBefore) && leaf.NotBefore.Sub(now) <= expiredGrace {
			now = leaf.NotBefore
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		return err
	}
	return c
}

// expiredGrace is how long after its expiry the served certificate is
// still accepted for the admin's connection before a reload.
const expiredGrace = 30 * 24 * time.Hour

// serverName is the name cfg verifies the node at addr by.
func serverName(cfg *tls.Config, addr string) string {
	if cfg != nil && cfg.ServerName != "" {
		return cfg.ServerName
	}
	host, _, _ := net.SplitHostPort(addr)
	return host
}
