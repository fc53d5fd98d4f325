package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/certreload"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestUpRenewsInPlace: `up` on a running deployment whose server
// certificate expires within 30 days renews it under the same CA and
// installs it live: a fresh handshake sees a new serial that expires in a
// year, ca.crt is byte for byte the same, and the server kept its pid.
func TestUpRenewsInPlace(t *testing.T) {
	t.Parallel()
	redisserver.RedisServerPath(t)
	dir := filepath.Join(t.TempDir(), "r")
	ports, err := redisserver.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runCLI(t, "down", "--dir", dir) })
	if code, out, errOut := runCLI(t, "up", "--dir", dir, "--port", strconv.Itoa(ports[0])); code != 0 {
		t.Fatalf("up: exit %d\n%s\n%s", code, out, errOut)
	}
	caBefore, err := os.ReadFile(filepath.Join(dir, "certs", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caBefore)
	node := certreload.Node{Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
	first, err := certreload.Served(node, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	servers, _ := upServers(dir)
	pid, _ := servers[0].Pid()

	// A certificate on disk that expires in 10 days (not loaded yet).
	if code, out, errOut := runCLI(t, "certs", "--renew", "--dir", filepath.Join(dir, "certs"), "--days", "10"); code != 0 {
		t.Fatalf("certs --renew --days 10: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "up", "--dir", dir, "--port", strconv.Itoa(ports[0]))
	if code != 0 || !strings.Contains(out, "renewed it under the same CA") || !strings.Contains(out, "done: every data node (1) serves the certificate on disk") {
		t.Fatalf("up with a certificate 10 days from expiry: exit %d\n%s\n%s", code, out, errOut)
	}
	now, err := certreload.Served(node, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if now.SerialNumber.Cmp(first.SerialNumber) == 0 || time.Until(now.NotAfter) < 300*24*time.Hour {
		t.Fatalf("served after up: serial %s, expires %v; want a new certificate valid about a year", certreload.SerialHex(now), now.NotAfter)
	}
	caAfter, _ := os.ReadFile(filepath.Join(dir, "certs", "ca.crt"))
	if !bytes.Equal(caBefore, caAfter) {
		t.Fatal("up replaced ca.crt: every client's REDIS_TLS_CA_CERT would break")
	}
	if again, _ := servers[0].Pid(); again != pid {
		t.Fatalf("the server restarted (pid %d, then %d)", pid, again)
	}
}
