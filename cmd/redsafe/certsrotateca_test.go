package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/certs"
)

func rotateCA(t *testing.T, dir string, step ...string) (int, rotateCAReport, string) {
	t.Helper()
	args := append([]string{"certs", "rotate-ca"}, step...)
	args = append(args, "--dir", dir, "--admin-password-file", filepath.Join(dir, "secrets", "admin.password"), "--json")
	code, out, errOut := runCLI(t, args...)
	var r rotateCAReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("certs rotate-ca %v --json: exit %d, %v\n%s\n%s", step, code, err, out, errOut)
	}
	return code, r, out + errOut
}

func countChecks(r rotateCAReport, check string) int {
	n := 0
	for _, c := range r.Checks {
		if c.Check == check && c.OK {
			n++
		}
	}
	return n
}

// handshake is a fresh TLS handshake with addr trusting only the
// certificates of caPEM.
func handshake(caPEM []byte, addr string) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err == nil {
		conn.Close()
	}
	return err
}

func countCerts(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCerts(data)
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// TestCertsRotateCA: the three steps of a CA rotation on a running
// `redsafe up` server while a service on the library reads and writes and
// opens new connections with the ca.crt it was configured with: no call
// fails; steps out of order are refused with nothing changed; after the
// last step a client that trusts only the old CA is refused, by the
// server and by the library, and the new CA is the only one.
func TestCertsRotateCA(t *testing.T) {
	t.Parallel()
	dir, port := upSingle(t)
	certDir := filepath.Join(dir, "certs")
	caPath := filepath.Join(certDir, certs.CAFile)
	oldCA, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	w := startReloadWorkload(t, dir)
	time.Sleep(200 * time.Millisecond)

	if code, r, out := rotateCA(t, dir); code != 0 || r.Phase != certs.NotRotating || r.Step != "status" {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	for _, step := range []string{"switch", "finish"} {
		if code, r, out := rotateCA(t, dir, step); code != 1 || r.OK || len(r.Nodes) != 0 {
			t.Fatalf("%s before begin: exit %d\n%s", step, code, out)
		}
		if now, _ := os.ReadFile(caPath); !bytes.Equal(now, oldCA) {
			t.Fatalf("%s before begin changed ca.crt", step)
		}
	}

	code, r, out := rotateCA(t, dir, "begin")
	if code != 0 || !r.OK || r.Phase != certs.Bundled || len(r.Nodes) != 1 || len(r.Checks) != 1 || r.Checks[0].Check != "trusts-both" || r.NewCA == nil {
		t.Fatalf("begin: exit %d\n%s", code, out)
	}
	if n := countCerts(t, caPath); n != 2 {
		t.Fatalf("after begin ca.crt holds %d certificates, want the old and the new CA", n)
	}
	if err := handshake(oldCA, addr); err != nil {
		t.Fatalf("after begin the server must still serve the old CA's certificate: %v", err)
	}
	w.opened(t, 3) // new connections trusting the bundle
	// Run again, a step changes nothing and proves its phase again.
	bundle, _ := os.ReadFile(caPath)
	if code, r, out := rotateCA(t, dir, "begin"); code != 0 || !r.OK || r.Phase != certs.Bundled {
		t.Fatalf("begin again: exit %d\n%s", code, out)
	}
	if now, _ := os.ReadFile(caPath); !bytes.Equal(now, bundle) {
		t.Fatal("begin again changed ca.crt")
	}
	if code, r, out := rotateCA(t, dir, "finish"); code != 1 || r.OK || r.Phase != certs.Bundled {
		t.Fatalf("finish before switch: exit %d\n%s", code, out)
	}

	code, r, out = rotateCA(t, dir, "switch")
	if code != 0 || !r.OK || r.Phase != certs.Switched || len(r.Nodes) != 1 || r.Nodes[0].Before.Same(r.Nodes[0].After) {
		t.Fatalf("switch: exit %d\n%s", code, out)
	}
	newCA, err := os.ReadFile(filepath.Join(certDir, certs.NextCAFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(newCA, addr); err != nil {
		t.Fatalf("after switch a client that trusts only the new CA: %v", err)
	}
	w.opened(t, 3) // new connections to the new certificate, through the bundle

	// A finish that cannot reach the nodes as the admin changes nothing.
	wrong := filepath.Join(t.TempDir(), "wrong.password")
	if err := os.WriteFile(wrong, []byte("not-the-admin-password-at-all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	switched, _ := os.ReadFile(caPath)
	code, wout, werr := runCLI(t, "certs", "rotate-ca", "finish", "--dir", dir, "--admin-password-file", wrong)
	if code != 1 || !strings.Contains(wout+werr, "nothing was changed") || strings.Contains(wout+werr, "not-the-admin") {
		t.Fatalf("finish with a wrong admin password: exit %d\n%s\n%s", code, wout, werr)
	}
	if now, _ := os.ReadFile(caPath); !bytes.Equal(now, switched) {
		t.Fatal("a finish that could not reload the nodes changed ca.crt")
	}

	code, r, out = rotateCA(t, dir, "finish")
	if code != 0 || !r.OK || r.Phase != certs.NotRotating || len(r.Checks) != 2 {
		t.Fatalf("finish: exit %d\n%s", code, out)
	}
	w.afterReload(t)

	if now, _ := os.ReadFile(caPath); !bytes.Equal(now, newCA) {
		t.Fatal("after finish ca.crt is not the new CA alone")
	}
	for _, gone := range []string{certs.NextCAFile, certs.NextCAKeyFile} {
		if _, err := os.Lstat(filepath.Join(certDir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after finish: %v", gone, err)
		}
	}
	var unknown x509.UnknownAuthorityError
	if err := handshake(oldCA, addr); !errors.As(err, &unknown) {
		t.Fatalf("after finish a client that trusts only the old CA: %v; want unknown authority", err)
	}
	// The library, configured with a copy of the old ca.crt, is refused.
	vars, err := envfile.Read(filepath.Join(dir, ".env.secure"))
	if err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(t.TempDir(), "old-ca.crt")
	if err := os.WriteFile(oldFile, oldCA, 0o644); err != nil {
		t.Fatal(err)
	}
	vars["REDIS_TLS_CA_CERT"] = oldFile
	o := redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	o.Logger = quietLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := redsafe.Open(ctx, o); !errors.Is(err, redsafe.ErrCertUntrusted) {
		if err == nil {
			c.Close()
		}
		t.Fatalf("a service that trusts only the old CA: Open = %v, want ErrCertUntrusted", err)
	}
	// And `certs check` sees one CA that signed everything.
	if code, out, errOut := runCLI(t, "certs", "check", "--dir", certDir); code != 0 {
		t.Fatalf("certs check after the rotation: exit %d\n%s\n%s", code, out, errOut)
	}
}
