package topology

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// TestTLSFor: a node the topology names is verified against its own host
// and, given the CA file alone, against that CA only, never the system
// roots the seed's config also trusts; the seed itself keeps its config;
// one server name for every node stays.
func TestTLSFor(t *testing.T) {
	system, own := x509.NewCertPool(), x509.NewCertPool()
	seed := &tls.Config{RootCAs: system, ServerName: "10.0.0.1"}
	if got := TLSFor(seed, own, "10.0.0.1:6380", "10.0.0.1:6380"); got != seed {
		t.Error("the seed's own config was replaced")
	}
	n := TLSFor(seed, own, "10.0.0.1:6380", "10.0.0.2:6381")
	if n.ServerName != "10.0.0.2" || n.RootCAs != own {
		t.Errorf("another node: ServerName %q, roots own %v", n.ServerName, n.RootCAs == own)
	}
	if seed.RootCAs != system || seed.ServerName != "10.0.0.1" {
		t.Error("TLSFor changed the seed's config")
	}
	if n := TLSFor(seed, nil, "10.0.0.1:6380", "10.0.0.2:6381"); n.RootCAs != system {
		t.Error("without a CA file of its own, a node lost the configured roots")
	}
	fixed := &tls.Config{ServerName: "redis.internal"}
	if n := TLSFor(fixed, own, "10.0.0.1:6380", "10.0.0.2:6381"); n.ServerName != "redis.internal" {
		t.Errorf("one name for every node became %q", n.ServerName)
	}
	if TLSFor(nil, own, "a:1", "b:2") != nil {
		t.Error("plaintext became TLS")
	}
}
