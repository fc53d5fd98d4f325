package redsafeprom

import (
	"crypto/x509"
	"encoding/pem"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestTLSAndConnectMetrics: the handshake, the certificate's expiry as the
// live handshake shows it, and the time to ready, at Open and again when the
// server drops the connection.
func TestTLSAndConnectMetrics(t *testing.T) {
	t.Parallel()
	s, c, m := startCache(t, redisserver.Config{
		CertNotBefore: time.Now().Add(-time.Hour),
		CertNotAfter:  time.Now().Add(10 * 24 * time.Hour),
	})
	ctx := testContext(t)

	if got := observations(t, m.handshakeTime); got != 1 {
		t.Fatalf("tls_handshake_seconds has %d observations after Open, want 1", got)
	}
	if got := observations(t, m.readyTime); got != 1 {
		t.Fatalf("connect_ready_seconds has %d observations after Open, want 1", got)
	}
	want := time.Until(serverCertificate(t, s).NotAfter).Hours() / 24
	if got := testutil.ToFloat64(m.certExpiry); math.Abs(got-want) > 0.01 || math.Abs(got-10) > 0.1 {
		t.Errorf("server_cert_expiry_days = %.4f, want %.4f (about 10)", got, want)
	}

	// Days, not the base unit seconds, is deliberate: the issue asks for
	// days, and certificate alerts are written in days.
	problems, err := testutil.CollectAndLint(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if p.Metric != "redsafe_server_cert_expiry_days" || !strings.Contains(p.Text, "base unit") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}

	// The server drops every client connection; the next commands reconnect.
	s.Do(t, "CLIENT", "KILL", "TYPE", "normal")
	deadline := time.Now().Add(10 * time.Second)
	for observations(t, m.readyTime) < 2 && time.Now().Before(deadline) {
		c.Exists(ctx, "k") // the first may fail with the dropped connection
	}
	// rueidis may open more than one connection (one per pipeline wire),
	// each reported: every attempt succeeded and was handshaken.
	ready := observations(t, m.readyTime)
	if ready < 2 {
		t.Fatalf("connect_ready_seconds has %d observations after a reconnect, want 2 or more", ready)
	}
	if got := observations(t, m.handshakeTime); got != ready {
		t.Errorf("tls_handshake_seconds has %d observations for %d connections", got, ready)
	}
	if got := value(t, m.operations, "connect"); got != float64(ready) {
		t.Errorf(`operations_total{command="connect"} = %v for %d connections`, got, ready)
	}
}

// TestConnectFailureIsClassified: a connection the server's certificate
// cannot make is counted as a connect error of class tls, with no time to
// ready.
func TestConnectFailureIsClassified(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	o := options(s)
	o.TLS.CAFile = "" // the system roots do not trust the test CA
	m := New(Options{})
	o.Observer = m
	if _, err := redsafe.Open(testContext(t), o); err == nil {
		t.Fatal("Open trusted an unknown CA")
	}
	if got := value(t, m.errors, "connect", string(redsafe.ClassTLS)); got < 1 {
		t.Errorf(`errors_total{command="connect",class="tls"} = %v, want at least 1`, got)
	}
	if got := observations(t, m.readyTime); got != 0 {
		t.Errorf("connect_ready_seconds has %d observations for a failed connection", got)
	}
	if n := testutil.CollectAndCount(m.certExpiry); n != 0 {
		t.Errorf("server_cert_expiry_days exported without a completed handshake")
	}
}

func serverCertificate(t *testing.T, s *redisserver.Server) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM block in %s", s.CertFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
