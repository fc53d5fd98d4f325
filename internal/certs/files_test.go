//go:build unix

package certs

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("%s is %v, want regular file", path, fi.Mode())
	}
	return fi.Mode().Perm()
}

// Not parallel: the umask is process-wide.
func TestFileModesIgnoreUmaskAndExistingFiles(t *testing.T) {
	for _, umask := range []int{0, 0o077, 0o022} {
		old := syscall.Umask(umask)
		dir := t.TempDir()
		key, cert := filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.crt")
		// Pre-existing files with the wrong modes must not keep them.
		if err := os.WriteFile(key, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cert, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(key, 0o644)
		os.Chmod(cert, 0o600)
		errK := WriteKey(key, []byte("k"))
		errC := WriteCert(cert, []byte("c"))
		fresh := filepath.Join(dir, "new.key")
		errF := WriteKey(fresh, []byte("k"))
		syscall.Umask(old)
		if errK != nil || errC != nil || errF != nil {
			t.Fatal(errK, errC, errF)
		}
		if m := mode(t, key); m != 0o600 {
			t.Errorf("umask %03o: key mode %03o", umask, m)
		}
		if m := mode(t, fresh); m != 0o600 {
			t.Errorf("umask %03o: new key mode %03o", umask, m)
		}
		if m := mode(t, cert); m != 0o644 {
			t.Errorf("umask %03o: cert mode %03o", umask, m)
		}
		if b, _ := os.ReadFile(key); string(b) != "k" {
			t.Errorf("key content %q", b)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 3 {
			t.Errorf("temp files left behind: %v", ents)
		}
	}
}

func TestWriteKeyReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ca.key")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteKey(link, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("symlink target overwritten: %q", b)
	}
	if m := mode(t, link); m != 0o600 {
		t.Errorf("mode %03o", m)
	}
	if err := WriteKey(dir, []byte("x")); err == nil {
		t.Error("writing over a directory succeeded")
	}
	if err := WriteKey(filepath.Join(dir, "missing", "k"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestLoadAuthorityRoundTrip(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("key is not PKCS#8 PEM: %.30q", keyPEM)
	}
	if err := WriteCert(certPath, ca.CertPEM); err != nil {
		t.Fatal(err)
	}
	if err := WriteKey(keyPath, keyPEM); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadAuthority(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Cert.Equal(ca.Cert) || !bytes.Equal(loaded.CertPEM, ca.CertPEM) {
		t.Error("loaded certificate differs")
	}
	p, err := loaded.IssueServer([]string{"127.0.0.1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(ca, p.Cert, "127.0.0.1", x509.ExtKeyUsageServerAuth, time.Time{}); err != nil {
		t.Errorf("leaf from loaded CA: %v", err)
	}

	// A key from a different CA, or a leaf instead of a CA, must be refused.
	otherKey, _ := newCA(t).KeyPEM()
	WriteKey(keyPath, otherKey)
	if _, err := LoadAuthority(certPath, keyPath); err == nil {
		t.Error("mismatched key accepted")
	}
	WriteKey(keyPath, p.KeyPEM)
	WriteCert(certPath, p.CertPEM)
	if _, err := LoadAuthority(certPath, keyPath); err == nil {
		t.Error("leaf certificate accepted as CA")
	}
}
