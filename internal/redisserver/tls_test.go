package redisserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
)

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{MutualTLS: true, NoAuth: true})
	noCert := s.TLSConfig()
	noCert.Certificates = nil
	// TLS 1.3 reports the missing certificate only on the first read.
	if replies, err := raw(t, s.Addr, noCert, cmd("PING")); err == nil {
		t.Errorf("PING without client certificate = %q, want an error", replies)
	}
	if got := last(t)(raw(t, s.Addr, s.TLSConfig(), cmd("PING"))); got != "+PONG" {
		t.Errorf("PING with client certificate = %q", got)
	}
}

func TestTLSProtocolsPinned(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{TLSProtocols: "TLSv1.2"})
	cfg := s.TLSConfig()
	cfg.MinVersion = tls.VersionTLS13
	if _, err := resp.Dial(s.Addr, cfg); err == nil {
		t.Error("TLS 1.3-only client connected to a TLSv1.2-only server")
	}
	c, err := resp.Dial(s.Addr, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := c.Conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS12 {
		t.Errorf("negotiated %s, want TLS 1.2", tls.VersionName(v))
	}
}

func TestExpiredServerCertificate(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-72 * time.Hour)
	s := Start(t, Config{CertNotBefore: past, CertNotAfter: past.Add(24 * time.Hour)})
	_, err := resp.Dial(s.Addr, s.TLSConfig())
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Errorf("err = %v, want x509 expired", err)
	}
	if got := s.Do(t, "PING"); got != "+PONG" { // the harness itself still works
		t.Errorf("Do PING = %q", got)
	}
}

func TestWrongHostAndForeignCA(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Hosts: []string{"redis.test"}})
	var host x509.HostnameError
	if _, err := resp.Dial(s.Addr, s.TLSConfig()); !errors.As(err, &host) {
		t.Errorf("IP not in SANs: err = %v, want HostnameError", err)
	}
	other := Start(t, Config{})
	cfg := other.TLSConfig()
	cfg.ServerName = "redis.test"
	var unknown x509.UnknownAuthorityError
	if _, err := resp.Dial(s.Addr, cfg); !errors.As(err, &unknown) {
		t.Errorf("another server's CA: err = %v, want UnknownAuthorityError", err)
	}
}

func TestRSA4096Server(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{KeyType: certs.RSA4096, MutualTLS: true})
	c, err := resp.Dial(s.Addr, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	leaf := c.Conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
	if leaf.PublicKeyAlgorithm != x509.RSA || leaf.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Errorf("server cert: %v signed with %v", leaf.PublicKeyAlgorithm, leaf.SignatureAlgorithm)
	}
	if got, err := c.Do("AUTH", "default", s.Password); err != nil || got != "+OK" {
		t.Errorf("AUTH = %q, %v", got, err)
	}
	if !strings.HasPrefix(s.Do(t, "INFO", "server"), "# Server") {
		t.Error("INFO did not return the server section")
	}
}
