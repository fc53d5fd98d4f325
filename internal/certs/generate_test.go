//go:build unix

package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
)

// material is what Generate left in a directory: parsed certificates and
// keys, so tests do not repeat the parsing.
type material struct {
	dir                   string
	ca, server, client    *x509.Certificate
	caKey, srvKey, cliKey []byte // PEM as written
	caPool                *x509.CertPool
	serverTLS, clientTLS  tls.Certificate
}

func readMaterial(t *testing.T, dir string) *material {
	t.Helper()
	m := &material{dir: dir}
	cert := func(name string) *x509.Certificate {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCert(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	key := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pair := func(c, k string) tls.Certificate {
		kp, err := tls.LoadX509KeyPair(filepath.Join(dir, c), filepath.Join(dir, k))
		if err != nil {
			t.Fatalf("LoadX509KeyPair(%s, %s): %v", c, k, err)
		}
		return kp
	}
	m.ca, m.caKey = cert(CAFile), key(CAKeyFile)
	m.server, m.srvKey = cert(ServerFile), key(ServerKeyFile)
	m.caPool = x509.NewCertPool()
	m.caPool.AddCert(m.ca)
	m.serverTLS = pair(ServerFile, ServerKeyFile)
	if _, err := os.Stat(filepath.Join(dir, appCrt)); err == nil {
		m.client, m.cliKey = cert(appCrt), key(appKey)
		m.clientTLS = pair(appCrt, appKey)
	}
	return m
}

// snapshot maps every file name in dir to its mode and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.Mode().String() + "\n" + string(b)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for name, v := range before {
		if w, ok := after[name]; !ok {
			t.Errorf("%s: %s disappeared", what, name)
		} else if w != v {
			t.Errorf("%s: %s changed (mode or content)", what, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s: new file %s", what, name)
		}
	}
}

// noKeyMaterial fails when s contains a PEM private key or any base64 line
// of the given key files.
func noKeyMaterial(t *testing.T, what, s string, keyPEMs ...[]byte) {
	t.Helper()
	if strings.Contains(s, "-----BEGIN") || strings.Contains(s, "PRIVATE KEY-----") {
		t.Errorf("%s contains a PEM block: %q", what, s)
	}
	for _, k := range keyPEMs {
		for _, b := range pemBlocks(k) {
			enc := base64.StdEncoding.EncodeToString(b.Bytes)
			// Any 16-character window of the key's base64 would be a leak.
			for i := 0; i+16 <= len(enc); i += 16 {
				if strings.Contains(s, enc[i:i+16]) {
					t.Errorf("%s contains key material %q", what, enc[i:i+16])
					return
				}
			}
		}
	}
}

func pemBlocks(data []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return out
		}
		out = append(out, b)
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("%s is %v, want a regular file", path, fi.Mode())
	}
	return fi.Mode().Perm()
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out // ReadDir sorts by name
}

func generate(t *testing.T, dir string, o GenerateOptions) *Files {
	t.Helper()
	f, err := Generate(dir, o)
	if err != nil {
		t.Fatalf("Generate(%s, %+v): %v", dir, o, err)
	}
	return f
}

// handshake runs one TLS handshake over 127.0.0.1 and returns the client's
// and the server's error. The server's result is what matters for client
// certificates: with TLS 1.3 the client may finish before the server
// rejects its certificate.
func handshake(t *testing.T, srv, cli *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		err = c.(*tls.Conn).Handshake()
		if err == nil {
			_, err = c.Write([]byte("+PONG\r\n"))
		}
		done <- err
	}()
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), cli)
	if err == nil {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		// Reading proves the server accepted us (TLS 1.3 reports a rejected
		// client certificate only after the client's handshake returned).
		buf := make([]byte, 7)
		if _, err = io.ReadFull(conn, buf); err == nil && string(buf) != "+PONG\r\n" {
			err = errors.New("unexpected data " + string(buf))
		}
		conn.Close()
	}
	return err, <-done
}

// Not parallel: the umask is process-wide.
func TestGenerateDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs") // Generate creates it
	start := time.Now()
	old := syscall.Umask(0)
	f, err := Generate(dir, GenerateOptions{})
	syscall.Umask(old)
	end := time.Now()
	if err != nil {
		t.Fatal(err)
	}

	want := []string{CAFile, CAKeyFile, ServerFile, ServerKeyFile}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("files = %v, want %v (no client files, no temp files)", got, want)
	}
	if f.CA != filepath.Join(dir, CAFile) || f.CAKey != filepath.Join(dir, CAKeyFile) ||
		f.Server != filepath.Join(dir, ServerFile) || f.ServerKey != filepath.Join(dir, ServerKeyFile) ||
		f.Client != "" || f.ClientKey != "" || len(f.Backups) != 0 {
		t.Errorf("Files = %+v", f)
	}
	for _, k := range []string{f.CAKey, f.ServerKey} {
		if m := fileMode(t, k); m != KeyFileMode {
			t.Errorf("%s mode %04o with umask 0, want 0600", k, m)
		}
	}
	for _, c := range []string{f.CA, f.Server} {
		if m := fileMode(t, c); m != CertFileMode {
			t.Errorf("%s mode %04o with umask 0, want 0644", c, m)
		}
	}

	m := readMaterial(t, dir)
	ca, leaf := m.ca, m.server

	// Keys: PKCS#8, ECDSA P-256, matching their certificates.
	for name, pair := range map[string]struct {
		pemData []byte
		cert    *x509.Certificate
	}{CAKeyFile: {m.caKey, ca}, ServerKeyFile: {m.srvKey, leaf}} {
		if !bytes.HasPrefix(pair.pemData, []byte("-----BEGIN PRIVATE KEY-----")) {
			t.Errorf("%s is not PKCS#8 PEM", name)
		}
		k, err := ParseKey(pair.pemData)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok || ek.Curve != elliptic.P256() {
			t.Errorf("%s: key %T, want ECDSA P-256", name, k)
		} else if !ek.PublicKey.Equal(pair.cert.PublicKey) {
			t.Errorf("%s does not match its certificate", name)
		}
	}
	if bytes.Equal(m.caKey, m.srvKey) {
		t.Error("CA and server share a key")
	}

	// CA: self-signed, constrained, outlives the leaf.
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("CA constraints: IsCA=%v BCV=%v MaxPathLen=%d Zero=%v", ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	if ca.NotAfter.Before(leaf.NotAfter) || ca.NotBefore.After(leaf.NotBefore) {
		t.Errorf("CA validity %v..%v does not cover leaf %v..%v", ca.NotBefore, ca.NotAfter, leaf.NotBefore, leaf.NotAfter)
	}
	for name, c := range map[string]*x509.Certificate{"ca": ca, "server": leaf} {
		if c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
			t.Errorf("%s signature %v, want ECDSAWithSHA256", name, c.SignatureAlgorithm)
		}
	}

	// Leaf: validity = now-1h .. now+365d (certificate times have 1s resolution).
	lo, hi := start.Add(365*24*time.Hour).Truncate(time.Second), end.Add(365*24*time.Hour)
	if leaf.NotAfter.Before(lo) || leaf.NotAfter.After(hi) {
		t.Errorf("leaf NotAfter %v, want between %v and %v", leaf.NotAfter, lo, hi)
	}
	if nb := leaf.NotBefore; nb.Before(start.Add(-clockSkew).Truncate(time.Second)) || nb.After(end.Add(-clockSkew)) {
		t.Errorf("leaf NotBefore %v, want about an hour before %v", nb, start)
	}
	if leaf.IsCA || !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("leaf IsCA=%v EKU=%v", leaf.IsCA, leaf.ExtKeyUsage)
	}
	if !slices.Equal(leaf.DNSNames, []string{"redis", "localhost"}) || len(leaf.IPAddresses) != 2 ||
		!leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("SANs: DNS=%v IP=%v", leaf.DNSNames, leaf.IPAddresses)
	}
	for _, h := range DefaultHosts {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: m.caPool, DNSName: h, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify for %s: %v", h, err)
		}
	}
	var hostErr x509.HostnameError
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: m.caPool, DNSName: "example.com"}); !errors.As(err, &hostErr) {
		t.Errorf("verify for example.com: %v, want HostnameError", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: m.caPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("server certificate verified for client auth")
	}

	// MaxPathLenZero: an intermediate signed with ca.key must not validate.
	caKey, err := ParseKey(m.caKey)
	if err != nil {
		t.Fatal(err)
	}
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	interTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "rogue intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, ca, interKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(interDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rogueDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(3), DNSNames: []string{"redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, inter, leafKey.Public(), interKey)
	if err != nil {
		t.Fatal(err)
	}
	rogue, _ := x509.ParseCertificate(rogueDER)
	inters := x509.NewCertPool()
	inters.AddCert(inter)
	var invalid x509.CertificateInvalidError
	_, err = rogue.Verify(x509.VerifyOptions{Roots: m.caPool, Intermediates: inters, DNSName: "redis"})
	if !errors.As(err, &invalid) || invalid.Reason != x509.TooManyIntermediates {
		t.Errorf("leaf under an intermediate of the generated CA: err = %v, want TooManyIntermediates", err)
	}

	// A real TLS handshake for every default host, TLS 1.2 and 1.3.
	srv := &tls.Config{Certificates: []tls.Certificate{m.serverTLS}, MinVersion: tls.VersionTLS12}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, h := range DefaultHosts {
			cli := &tls.Config{RootCAs: m.caPool, ServerName: h, MinVersion: v, MaxVersion: v}
			if cerr, serr := handshake(t, srv, cli); cerr != nil || serr != nil {
				t.Errorf("TLS %x as %s: client %v, server %v", v, h, cerr, serr)
			}
		}
	}
	// ... and none for a name the certificate does not cover, or without ca.crt.
	if cerr, _ := handshake(t, srv, &tls.Config{RootCAs: m.caPool, ServerName: "example.com"}); !errors.As(cerr, new(*tls.CertificateVerificationError)) {
		t.Errorf("handshake for example.com: %v, want a verification error", cerr)
	}
	if cerr, _ := handshake(t, srv, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "redis"}); cerr == nil {
		t.Error("handshake succeeded without trusting ca.crt")
	}
}

func TestGenerateClient(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := generate(t, dir, GenerateOptions{Client: "app"})
	if f.Client != filepath.Join(dir, appCrt) || f.ClientKey != filepath.Join(dir, appKey) {
		t.Errorf("Files = %+v", f)
	}
	if got := names(t, dir); !slices.Equal(got, []string{appCrt, appKey, CAFile, CAKeyFile, ServerFile, ServerKeyFile}) {
		t.Errorf("files = %v", got)
	}
	if m := fileMode(t, f.ClientKey); m != KeyFileMode {
		t.Errorf("client.key mode %04o", m)
	}
	if m := fileMode(t, f.Client); m != CertFileMode {
		t.Errorf("client.crt mode %04o", m)
	}
	m := readMaterial(t, dir)
	c := m.client
	if c.Subject.CommonName != "app" || c.IsCA || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("client cert: CN=%q IsCA=%v EKU=%v", c.Subject.CommonName, c.IsCA, c.ExtKeyUsage)
	}
	if !c.NotAfter.Equal(m.server.NotAfter) || c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("client NotAfter %v (server %v), signature %v", c.NotAfter, m.server.NotAfter, c.SignatureAlgorithm)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: m.caPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client verify: %v", err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: m.caPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate verified for server auth")
	}
	if bytes.Equal(m.cliKey, m.srvKey) || bytes.Equal(m.cliKey, m.caKey) {
		t.Error("client key reused")
	}

	other := readMaterial(t, func() string { d := t.TempDir(); generate(t, d, GenerateOptions{Client: "app"}); return d }())

	srv := &tls.Config{
		Certificates: []tls.Certificate{m.serverTLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    m.caPool,
	}
	var peerCN string
	srv.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			peerCN = cs.PeerCertificates[0].Subject.CommonName
		}
		return nil
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		peerCN = ""
		cli := &tls.Config{RootCAs: m.caPool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{m.clientTLS}, MinVersion: v, MaxVersion: v}
		if cerr, serr := handshake(t, srv, cli); cerr != nil || serr != nil {
			t.Errorf("mutual TLS %x: client %v, server %v", v, cerr, serr)
		} else if peerCN != "app" {
			t.Errorf("server saw client %q", peerCN)
		}
	}
	for name, certs := range map[string][]tls.Certificate{
		"no certificate":            nil,
		"server.crt as client cert": {m.serverTLS},
		"client cert of another CA": {other.clientTLS},
	} {
		cli := &tls.Config{RootCAs: m.caPool, ServerName: "127.0.0.1", Certificates: certs}
		if _, serr := handshake(t, srv, cli); serr == nil {
			t.Errorf("%s: server accepted the client", name)
		}
	}
}

func TestGenerateRefusesExistingFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := generate(t, dir, GenerateOptions{})
	before := snapshot(t, dir)

	for _, o := range []GenerateOptions{{}, {Client: "app"}, {Hosts: []string{"other"}, Days: 30}} {
		got, err := Generate(dir, o)
		var ee *backup.ExistsError
		if !errors.As(err, &ee) || got != nil {
			t.Fatalf("second Generate(%+v) = %v, %v; want *backup.ExistsError", o, got, err)
		}
		if want := []string{f.CA, f.CAKey, f.Server, f.ServerKey}; !slices.Equal(ee.Paths, want) {
			t.Errorf("ExistsError.Paths = %v, want %v", ee.Paths, want)
		}
		for _, p := range ee.Paths {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %s", err, p)
			}
		}
		noKeyMaterial(t, "ExistsError", err.Error(), []byte(before[CAKeyFile]), []byte(before[ServerKeyFile]))
		sameSnapshot(t, "after refused Generate", before, snapshot(t, dir))
	}

	// A single leftover file is enough to refuse, and nothing else is created.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, ServerKeyFile), []byte("old key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Generate(dir2, GenerateOptions{})
	var ee *backup.ExistsError
	if !errors.As(err, &ee) || !slices.Equal(ee.Paths, []string{filepath.Join(dir2, ServerKeyFile)}) {
		t.Errorf("leftover server.key: err = %v", err)
	}
	if got := names(t, dir2); !slices.Equal(got, []string{ServerKeyFile}) {
		t.Errorf("files after refusal: %v", got)
	}

	// A stale client certificate from an earlier run counts as well, even
	// when no client certificate is requested: it belongs to the old CA.
	dir3 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir3, appCrt), []byte("old cert"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir3, GenerateOptions{}); !errors.As(err, &ee) || !slices.Equal(ee.Paths, []string{filepath.Join(dir3, appCrt)}) {
		t.Errorf("leftover client.crt: err = %v", err)
	}

	// A symlink counts as existing (it is never followed).
	dir4 := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, []byte("precious"), 0o644)
	if err := os.Symlink(target, filepath.Join(dir4, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir4, GenerateOptions{}); !errors.As(err, &ee) {
		t.Errorf("symlinked ca.key: err = %v, want *backup.ExistsError", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("symlink target changed: %q", b)
	}
}

func TestGenerateForceMovesOldFilesAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{Client: "app"})
	old := snapshot(t, dir)
	oldMat := readMaterial(t, dir)

	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	f := generate(t, dir, GenerateOptions{Client: "app", ReplaceCA: true, Now: now})
	if len(f.Backups) != 6 {
		t.Fatalf("Backups = %v, want 6", f.Backups)
	}
	st := snapshot(t, dir)
	for _, b := range f.Backups {
		if filepath.Dir(b) != dir {
			t.Errorf("backup %s outside %s", b, dir)
		}
		base := filepath.Base(b)
		orig, suffix, ok := strings.Cut(base, ".bak-")
		if !ok || suffix != "20310506-070809" {
			t.Errorf("backup name %s, want NAME.bak-20310506-070809", base)
			continue
		}
		if st[base] != old[orig] {
			t.Errorf("backup %s does not hold the old %s (mode and content)", base, orig)
		}
		if strings.HasSuffix(orig, ".key") && fileMode(t, b) != 0o600 {
			t.Errorf("backup %s mode %04o", base, fileMode(t, b))
		}
	}
	now2 := readMaterial(t, dir)
	for name, pair := range map[string][2][]byte{
		CAFile: {oldMat.ca.Raw, now2.ca.Raw}, ServerFile: {oldMat.server.Raw, now2.server.Raw},
		appCrt: {oldMat.client.Raw, now2.client.Raw}, CAKeyFile: {oldMat.caKey, now2.caKey},
		ServerKeyFile: {oldMat.srvKey, now2.srvKey}, appKey: {oldMat.cliKey, now2.cliKey},
	} {
		if bytes.Equal(pair[0], pair[1]) {
			t.Errorf("%s not replaced", name)
		}
	}
	for _, k := range []string{f.CAKey, f.ServerKey, f.ClientKey} {
		if m := fileMode(t, k); m != KeyFileMode {
			t.Errorf("new %s mode %04o", k, m)
		}
	}
	// The new leaf belongs to the new CA only; its validity follows Now.
	if _, err := now2.server.Verify(x509.VerifyOptions{Roots: now2.caPool, CurrentTime: now.Add(time.Hour)}); err != nil {
		t.Errorf("new server cert: %v", err)
	}
	if _, err := now2.server.Verify(x509.VerifyOptions{Roots: oldMat.caPool, CurrentTime: now.Add(time.Hour)}); err == nil {
		t.Error("new server cert verifies against the old CA")
	}
	if !now2.server.NotBefore.Equal(now.Add(-clockSkew)) || !now2.server.NotAfter.Equal(now.Add(365*24*time.Hour)) {
		t.Errorf("validity %v..%v for Now=%v", now2.server.NotBefore, now2.server.NotAfter, now)
	}

	// Same second again: new backups get a counter, none is overwritten.
	f2 := generate(t, dir, GenerateOptions{ReplaceCA: true, Now: now})
	if len(f2.Backups) != 6 {
		t.Errorf("Backups = %v; the client files of the previous run must be moved aside too", f2.Backups)
	}
	for _, b := range f2.Backups {
		if !strings.HasSuffix(b, ".bak-20310506-070809.1") {
			t.Errorf("backup %s, want a .1 suffix", b)
		}
	}
	if got := len(names(t, dir)); got != 4+6+6 {
		t.Errorf("%d files in dir, want 16: %v", got, names(t, dir))
	}
	// No client requested: the old client pair (signed by the replaced CA)
	// must not stay behind next to the new CA.
	if _, err := os.Lstat(filepath.Join(dir, appCrt)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale client.crt left in place: %v", err)
	}
	if f2.Client != "" || f2.ClientKey != "" {
		t.Errorf("Files.Client = %q, %q", f2.Client, f2.ClientKey)
	}
}

func TestGenerateBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{Client: "app"})
	before := snapshot(t, dir)
	keys := [][]byte{[]byte(before[CAKeyFile]), []byte(before[ServerKeyFile]), []byte(before[appKey])}

	bad := map[string]GenerateOptions{
		"host with port":    {Hosts: []string{"redis", "host:6379"}, ReplaceCA: true},
		"url":               {Hosts: []string{"https://redis"}, ReplaceCA: true},
		"empty host":        {Hosts: []string{"redis", " "}, ReplaceCA: true},
		"no hosts":          {Hosts: []string{}, ReplaceCA: true},
		"zoned IP":          {Hosts: []string{"fe80::1%eth0"}, ReplaceCA: true},
		"blank client name": {Client: "  ", ReplaceCA: true},
		"key type":          {KeyType: "rsa-1024", ReplaceCA: true},
		"days -1":           {Days: -1, ReplaceCA: true},
		"days 4000":         {Days: 4000, ReplaceCA: true},
	}
	for name, o := range bad {
		f, err := Generate(dir, o)
		if err == nil || f != nil {
			t.Errorf("%s: Generate = %+v, %v; want an error", name, f, err)
			continue
		}
		var ee *backup.ExistsError
		if errors.As(err, &ee) {
			t.Errorf("%s: got ExistsError %v, want the input rejected", name, err)
		}
		noKeyMaterial(t, name, err.Error(), keys...)
		sameSnapshot(t, name, before, snapshot(t, dir))
	}
	if _, err := Generate(dir, bad["host with port"]); err == nil || !strings.Contains(err.Error(), "host:6379") {
		t.Errorf("error %v does not name the bad host", err)
	}

	// Into a directory that does not exist yet: not created on bad input.
	missing := filepath.Join(t.TempDir(), "certs")
	for name, o := range bad {
		if _, err := Generate(missing, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := os.Lstat(missing); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: directory created on bad input (%v)", name, err)
		}
	}
}

func TestGenerateDays(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	for _, tc := range []struct {
		days int
		want time.Duration
	}{{0, 365 * 24 * time.Hour}, {1, 24 * time.Hour}, {90, 90 * 24 * time.Hour}, {3650, 3650 * 24 * time.Hour}} {
		dir := t.TempDir()
		generate(t, dir, GenerateOptions{Days: tc.days, Now: now})
		m := readMaterial(t, dir)
		if got := m.server.NotAfter.Sub(now); got != tc.want {
			t.Errorf("Days %d: leaf valid for %v after Now, want %v", tc.days, got, tc.want)
		}
		if m.ca.NotAfter.Before(m.server.NotAfter) {
			t.Errorf("Days %d: CA ends %v before the leaf %v", tc.days, m.ca.NotAfter, m.server.NotAfter)
		}
		if got := m.ca.NotAfter.Sub(now); got < caValidity {
			t.Errorf("Days %d: CA valid for %v, want at least %v", tc.days, got, caValidity)
		}
	}
	for _, d := range []int{-1, -365, 3651, 4000} {
		_, err := Generate(t.TempDir(), GenerateOptions{Days: d})
		if err == nil || !strings.Contains(err.Error(), "3650") {
			t.Errorf("Days %d: err = %v, want a range error", d, err)
		}
	}
}

// The only RSA 4096 Generate in the package: two 4096-bit keys.
func TestGenerateRSA4096(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{KeyType: "RSA-4096", Hosts: []string{"redis.internal", "127.0.0.1"}})
	m := readMaterial(t, dir)
	for name, c := range map[string]*x509.Certificate{"ca": m.ca, "server": m.server} {
		if k, ok := c.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 4096 {
			t.Errorf("%s key %T, want RSA 4096", name, c.PublicKey)
		}
		if c.SignatureAlgorithm != x509.SHA256WithRSA {
			t.Errorf("%s signature %v, want SHA256WithRSA", name, c.SignatureAlgorithm)
		}
	}
	if m.server.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
		t.Error("RSA server certificate lacks KeyEncipherment")
	}
	if m := fileMode(t, filepath.Join(dir, ServerKeyFile)); m != KeyFileMode {
		t.Errorf("server.key mode %04o", m)
	}
	srv := &tls.Config{Certificates: []tls.Certificate{m.serverTLS}}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, h := range []string{"redis.internal", "127.0.0.1"} {
			cli := &tls.Config{RootCAs: m.caPool, ServerName: h, MinVersion: v, MaxVersion: v}
			if cerr, serr := handshake(t, srv, cli); cerr != nil || serr != nil {
				t.Errorf("TLS %x as %s: client %v, server %v", v, h, cerr, serr)
			}
		}
	}
	r := CheckDir(dir, CheckOptions{Hosts: []string{"redis.internal", "127.0.0.1"}})
	expectNoProblems(t, r)
	for _, ci := range r.Certificates {
		if ci.KeyType != "RSA 4096" || ci.Signature != "SHA256-RSA" {
			t.Errorf("%s: key %q signature %q", ci.File, ci.KeyType, ci.Signature)
		}
	}
}

// The client certificate of GenerateOptions.Client "app" (ClientFiles).
const (
	appCrt = "app.crt"
	appKey = "app.key"
)
