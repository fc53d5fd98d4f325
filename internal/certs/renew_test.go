package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Renewing keeps the CA: a client holding the old ca.crt verifies the new
// server certificate, in crypto/x509 and in a real TLS handshake.
func TestRenewKeepsTheCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{Hosts: []string{"redis.internal", "127.0.0.1"}, Client: "app", Days: 20})
	before := readMaterial(t, dir)
	appBefore, _ := os.ReadFile(filepath.Join(dir, appCrt))

	now := time.Now().Add(time.Minute)
	f, err := Renew(dir, GenerateOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	after := readMaterial(t, dir)
	if !bytes.Equal(after.ca.Raw, before.ca.Raw) || !bytes.Equal(after.caKey, before.caKey) {
		t.Fatal("Renew replaced the CA")
	}
	if bytes.Equal(after.server.Raw, before.server.Raw) || bytes.Equal(after.srvKey, before.srvKey) {
		t.Fatal("Renew did not reissue the server certificate and key")
	}
	if got := after.server.NotAfter.Sub(now).Hours() / 24; got < 364 || got > 366 {
		t.Errorf("renewed for %.1f days, want 365", got)
	}
	// The hosts of the old certificate are kept.
	if !slices.Equal(f.Hosts, []string{"redis.internal", "127.0.0.1"}) || after.server.VerifyHostname("redis.internal") != nil {
		t.Errorf("hosts %v", f.Hosts)
	}
	// The client certificate is reissued with it (TestRenewReissuesEveryClient).
	if b, _ := os.ReadFile(filepath.Join(dir, appCrt)); bytes.Equal(b, appBefore) {
		t.Error("Renew without Client left app.crt as it was")
	}
	if len(f.Backups) != 4 {
		t.Errorf("backups %v, want server.crt, server.key, app.crt and app.key", f.Backups)
	}
	if m := fileMode(t, f.ServerKey); m != KeyFileMode {
		t.Errorf("server.key mode %04o", m)
	}

	// The old ca.crt, as a client has it.
	oldPool := x509.NewCertPool()
	oldPool.AddCert(before.ca)
	if _, err := after.server.Verify(x509.VerifyOptions{Roots: oldPool, DNSName: "redis.internal", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("old ca.crt does not verify the renewed server certificate: %v", err)
	}
	srv := &tls.Config{Certificates: []tls.Certificate{after.serverTLS}}
	cli := &tls.Config{RootCAs: oldPool, ServerName: "127.0.0.1"}
	if cerr, serr := handshake(t, srv, cli); cerr != nil || serr != nil {
		t.Fatalf("TLS with the old ca.crt against the renewed certificate: client %v, server %v", cerr, serr)
	}
	// And replacing the CA does break the old ca.crt: the difference is real.
	generate(t, dir, GenerateOptions{ReplaceCA: true, Hosts: []string{"127.0.0.1"}})
	replaced := readMaterial(t, dir)
	if _, err := replaced.server.Verify(x509.VerifyOptions{Roots: oldPool}); err == nil {
		t.Fatal("a new CA's certificate verified against the old ca.crt")
	}
}

func TestRenewClientIsNAMEcrt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{})
	f, err := Renew(dir, GenerateOptions{Client: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Client != filepath.Join(dir, "api.crt") || f.ClientKey != filepath.Join(dir, "api.key") {
		t.Fatalf("client files %s %s, want api.crt api.key", f.Client, f.ClientKey)
	}
	m := readMaterial(t, dir)
	b, _ := os.ReadFile(f.Client)
	c, err := ParseCert(b)
	if err != nil || c.Subject.CommonName != "api" {
		t.Fatalf("api.crt: %v %v", c, err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: m.caPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	if r := CheckDir(dir, CheckOptions{}); !r.OK {
		t.Fatalf("check after renew: %+v", r.Checks)
	} else if _, ok := findCheck(r, "client.api.chain"); !ok {
		t.Fatalf("check does not see api.crt: %+v", r.Checks)
	}
	for _, bad := range []string{"ca", "server", "../x", "a/b", ".hidden", ""} {
		if bad == "" {
			continue
		}
		if _, err := Renew(dir, GenerateOptions{Client: bad}); err == nil || !strings.Contains(err.Error(), "client name") {
			t.Errorf("client name %q: %v", bad, err)
		}
	}
}

func TestRenewRefusesWithoutAUsableCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{})
	// A readable CA key is refused like any exposed secret.
	os.Chmod(filepath.Join(dir, CAKeyFile), 0o644)
	before := snapshot(t, dir)
	if _, err := Renew(dir, GenerateOptions{}); err == nil || !strings.Contains(err.Error(), "has mode 0644") || !strings.Contains(err.Error(), "--new-ca") {
		t.Fatalf("Renew with a 0644 ca.key: %v", err)
	}
	sameSnapshot(t, "refused Renew", before, snapshot(t, dir))
	os.Remove(filepath.Join(dir, CAKeyFile))
	if _, err := Renew(dir, GenerateOptions{}); err == nil || !strings.Contains(err.Error(), "--new-ca") {
		t.Fatalf("Renew without ca.key: %v", err)
	}
	// A leaf may not outlive the CA.
	dir2 := t.TempDir()
	generate(t, dir2, GenerateOptions{})
	if _, err := Renew(dir2, GenerateOptions{Now: time.Now().Add(9*365*24*time.Hour + 300*24*time.Hour)}); err == nil || !strings.Contains(err.Error(), "fewer --days") {
		t.Fatalf("Renew past the CA's end: %v", err)
	}
}

// A FIFO planted at ca.crt or server.crt is refused, not read forever:
// without O_NONBLOCK, --renew and --check block in open(2).
func TestCertificateReadsRefuseFIFOs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{})
	for _, name := range []string{CAFile, ServerFile} {
		p := filepath.Join(dir, name)
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadAuthority(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
		CheckDir(dir, CheckOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, CAFile)+" is not a regular file") {
			t.Fatalf("LoadAuthority with a FIFO at ca.crt: %v", err)
		}
	case <-time.After(10 * time.Second):
		for _, name := range []string{CAFile, ServerFile} { // unblock the opens
			if w, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
		}
		t.Fatal("reading a FIFO at a certificate's path hangs")
	}
}
