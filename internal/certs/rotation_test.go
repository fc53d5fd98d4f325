package certs

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func phaseOf(t *testing.T, dir string) RotationPhase {
	t.Helper()
	r, err := ReadRotation(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r.Phase
}

func verifiesWith(t *testing.T, leafPath string, roots ...*x509.Certificate) bool {
	t.Helper()
	leaf := readCert(t, leafPath)
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// TestRotationSteps: the three steps in order, each leaving the files
// that say which phase the directory is in; out of order they are
// refused with nothing changed.
func TestRotationSteps(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, GenerateOptions{Client: "app"}); err != nil {
		t.Fatal(err)
	}
	caPath := filepath.Join(dir, CAFile)
	oldPEM, _ := os.ReadFile(caPath)
	old, _ := ParseCert(oldPEM)
	if p := phaseOf(t, dir); p != NotRotating {
		t.Fatalf("phase %s, want none", p)
	}
	if _, err := SwitchRotation(dir, GenerateOptions{}); err == nil {
		t.Fatal("switch before begin was accepted")
	}
	if _, _, err := FinishRotation(dir, time.Now()); err == nil {
		t.Fatal("finish before begin was accepted")
	}
	if now, _ := os.ReadFile(caPath); !bytes.Equal(now, oldPEM) {
		t.Fatal("a refused step changed ca.crt")
	}

	r, moved, err := BeginRotation(dir, time.Now())
	if err != nil || r.Phase != Bundled || len(r.Trusted) != 2 || len(moved) != 1 {
		t.Fatalf("begin: %+v, %v, %v", r, moved, err)
	}
	if backup, _ := os.ReadFile(moved[0]); !bytes.Equal(backup, oldPEM) {
		t.Fatal("the backup is not the old ca.crt")
	}
	if fi, err := os.Stat(filepath.Join(dir, NextCAKeyFile)); err != nil || fi.Mode().Perm() != KeyFileMode {
		t.Fatalf("ca-next.key: %v, %v", fi, err)
	}
	newCA := r.New.Cert
	if newCA.Subject.CommonName == old.Subject.CommonName {
		t.Fatal("the new CA has the old one's name")
	}
	if _, _, err := FinishRotation(dir, time.Now()); err == nil || !strings.Contains(err.Error(), "switch") {
		t.Fatalf("finish before switch: %v", err)
	}

	files, err := SwitchRotation(dir, GenerateOptions{})
	if err != nil || len(files.Backups) == 0 {
		t.Fatalf("switch: %+v, %v", files, err)
	}
	if p := phaseOf(t, dir); p != Switched {
		t.Fatalf("phase %s after switch", p)
	}
	server := filepath.Join(dir, ServerFile)
	client := filepath.Join(dir, "app.crt")
	if !verifiesWith(t, server, newCA) || verifiesWith(t, server, old) || !verifiesWith(t, client, newCA) || verifiesWith(t, client, old) {
		t.Fatal("after switch server.crt and app.crt must be the new CA's alone")
	}
	if c := readCert(t, client); c.Subject.CommonName != "app" {
		t.Fatalf("the reissued client certificate is %q", c.Subject.CommonName)
	}
	if !verifiesWith(t, filepath.Join(dir, NextCAFile), newCA) {
		t.Fatal("switch replaced ca-next.crt")
	}
	if rep := CheckDir(dir, CheckOptions{}); !rep.OK {
		t.Fatalf("certs check between switch and finish, with the bundle: %+v", rep)
	}

	r, moved, err = FinishRotation(dir, time.Now())
	if err != nil || r.Phase != NotRotating || len(moved) != 2 {
		t.Fatalf("finish: %+v, %v, %v", r, moved, err)
	}
	if now, _ := ParseCerts(mustRead(t, caPath)); len(now) != 1 || !now[0].Equal(newCA) {
		t.Fatal("after finish ca.crt is not the new CA alone")
	}
	if _, err := LoadAuthority(caPath, filepath.Join(dir, CAKeyFile)); err != nil {
		t.Fatalf("after finish ca.key does not belong to ca.crt: %v", err)
	}
	for _, gone := range []string{NextCAFile, NextCAKeyFile} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", gone, err)
		}
	}
	if rep := CheckDir(dir, CheckOptions{}); !rep.OK {
		t.Fatalf("certs check after the rotation: %+v", rep)
	}
}

// TestRotationInterruptedFinish: a finish stopped after it wrote the new
// ca.key, before ca.crt, is completed by running it again.
func TestRotationInterruptedFinish(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := BeginRotation(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := SwitchRotation(dir, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	// What the first write of FinishRotation does.
	if err := WriteKey(filepath.Join(dir, CAKeyFile), mustRead(t, filepath.Join(dir, NextCAKeyFile))); err != nil {
		t.Fatal(err)
	}
	if p := phaseOf(t, dir); p != Switched {
		t.Fatalf("phase %s, want switched", p)
	}
	if r, _, err := FinishRotation(dir, time.Now()); err != nil || r.Phase != NotRotating {
		t.Fatalf("finish again: %+v, %v", r, err)
	}
}

// TestRotationRefusesStrangeFiles: half a new CA, or a bundle no rotation
// made, is refused and named.
func TestRotationRefusesStrangeFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	other, err := NewAuthority("another CA", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCert(filepath.Join(dir, NextCAFile), other.CertPEM); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRotation(dir); err == nil || !strings.Contains(err.Error(), NextCAKeyFile) {
		t.Fatalf("ca-next.crt without its key: %v", err)
	}
	os.Remove(filepath.Join(dir, NextCAFile))
	caPath := filepath.Join(dir, CAFile)
	if err := WriteCert(caPath, append(mustRead(t, caPath), other.CertPEM...)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := BeginRotation(dir, time.Now()); err == nil || !strings.Contains(err.Error(), "did not make") {
		t.Fatalf("a bundle no rotation made: %v", err)
	}
}
