package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
)

// A CA rotation replaces the CA of a directory in steps that each leave a
// working deployment, because clients and servers cannot all change what
// they trust at the same instant:
//
//  1. BeginRotation creates the new CA beside the old one (ca-next.crt,
//     ca-next.key) and makes ca.crt a bundle of both: whoever reads ca.crt
//     (clients, and the servers, which verify their clients and each
//     other) trusts certificates of either CA.
//  2. SwitchRotation reissues the server certificate and every client
//     certificate under the new CA. The bundle still trusts the old ones
//     that open connections and not yet reloaded nodes hold.
//  3. FinishRotation makes the new CA the only one: ca.crt and ca.key
//     become the new CA's, the old ones go to backups, and a certificate
//     of the old CA is trusted nowhere.
//
// The directory's files say which step is done (ReadRotation); nothing
// else records it, so an interrupted step is simply run again.
const (
	NextCAFile    = "ca-next.crt"
	NextCAKeyFile = "ca-next.key"
)

// RotationPhase is how far a CA rotation in a directory has come.
type RotationPhase string

const (
	// NotRotating: ca.crt holds one CA, which signed the leaves.
	NotRotating RotationPhase = "none"
	// Started: the new CA exists but ca.crt does not hold it yet (a begin
	// step was interrupted; running it again completes it).
	Started RotationPhase = "started"
	// Bundled: ca.crt holds the old and the new CA; the leaves are still
	// the old CA's.
	Bundled RotationPhase = "bundled"
	// Switched: the server certificate and the client certificates are the
	// new CA's; ca.crt still holds both.
	Switched RotationPhase = "switched"
)

// Rotation is the state of a directory's CA rotation.
type Rotation struct {
	Phase RotationPhase
	// Old is the CA being replaced: the first certificate of ca.crt, whose
	// key is ca.key. When NotRotating it is the directory's only CA.
	Old *Authority
	// New is the CA replacing it (ca-next.crt, ca-next.key); nil when
	// NotRotating.
	New *Authority
	// Trusted is every certificate ca.crt holds.
	Trusted []*x509.Certificate
}

// ReadRotation reads the state of dir's CA rotation from its files. It
// refuses a directory whose files fit no step: half a new CA, or a ca.crt
// bundle that no rotation of redsafe made.
func ReadRotation(dir string) (*Rotation, error) {
	caPath := filepath.Join(dir, CAFile)
	data, err := readPublic(caPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	trusted, err := ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, caPath)
	}
	keyPath := filepath.Join(dir, CAKeyFile)
	nextCert, nextKey := filepath.Join(dir, NextCAFile), filepath.Join(dir, NextCAKeyFile)
	present, err := backup.Existing([]string{nextCert, nextKey})
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	r := &Rotation{Phase: NotRotating, Trusted: trusted}
	switch len(present) {
	case 0:
		if len(trusted) > 1 {
			return nil, fmt.Errorf("certs: %s holds %d certificates, but no CA rotation is in progress (no %s): a bundle redsafe did not make; leave only the directory's CA in it", caPath, len(trusted), NextCAFile)
		}
		if r.Old, err = LoadAuthority(caPath, keyPath); err != nil {
			return nil, err
		}
		return r, nil
	case 1:
		return nil, fmt.Errorf("certs: %s exists without its pair (%s and %s belong together): restore the missing one from its backup, or move the other aside to start the rotation again", present[0], NextCAFile, NextCAKeyFile)
	}
	if r.New, err = LoadAuthority(nextCert, nextKey); err != nil {
		return nil, err
	}
	if r.Old, err = LoadAuthority(caPath, keyPath); err != nil {
		if _, again := LoadAuthority(nextCert, keyPath); again != nil {
			return nil, err
		}
		// The last step wrote the new ca.key and was stopped before
		// ca.crt: finishing again writes it.
		r.Phase = Switched
		r.Old = &Authority{Cert: trusted[0]}
		return r, nil
	}
	if bytes.Equal(r.Old.Cert.Raw, r.New.Cert.Raw) {
		// The last step replaced ca.crt and ca.key and was stopped
		// before it removed ca-next.*: finishing again removes them.
		r.Phase = Switched
		return r, nil
	}
	if !holds(trusted, r.New.Cert) {
		r.Phase = Started
		return r, nil
	}
	r.Phase = Bundled
	server, err := readCertFile(filepath.Join(dir, ServerFile))
	if err != nil {
		return nil, err
	}
	if signedBy(server, r.New.Cert) {
		r.Phase = Switched
	}
	return r, nil
}

// BeginRotation is the first step: a new CA of the old one's key type,
// valid as long as a new CA is, and ca.crt made a bundle of the old CA and
// the new one. Run again after an interruption, it completes the step;
// after it, it changes nothing.
func BeginRotation(dir string, now time.Time) (*Rotation, []string, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, nil, err
	}
	switch r.Phase {
	case Bundled:
		return r, nil, nil
	case Switched:
		return nil, nil, fmt.Errorf("certs: the certificates in %s are already the new CA's: the next step is to finish the rotation", dir)
	case NotRotating:
		kt, err := keyTypeOf(r.Old.Key)
		if err != nil {
			return nil, nil, err
		}
		// A name of its own, so that `certs check`, openssl and logs tell
		// the two CAs apart while both are trusted.
		name := caCommonName + " " + now.UTC().Format("2006-01-02 15:04")
		next, err := NewAuthority(name, Options{KeyType: kt, NotBefore: now.Add(-clockSkew), NotAfter: now.Add(caValidity), Organization: caOrganization})
		if err != nil {
			return nil, nil, err
		}
		keyPEM, err := next.KeyPEM()
		if err != nil {
			return nil, nil, err
		}
		// The key first: a certificate without its key would be a CA
		// nobody can issue from.
		if err := WriteKey(filepath.Join(dir, NextCAKeyFile), keyPEM); err != nil {
			return nil, nil, err
		}
		clear(keyPEM)
		if err := WriteCert(filepath.Join(dir, NextCAFile), next.CertPEM); err != nil {
			return nil, nil, err
		}
		r.New = next
	}
	// ca.crt is read by every new connection of a client: the backup is a
	// second link and the bundle replaces the file atomically, so that no
	// reader ever finds it missing or half written.
	caPath := filepath.Join(dir, CAFile)
	current, err := readPublic(caPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	moved, err := backup.LinkAside(caPath, now)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	bundle := append(bytes.TrimRight(current, "\n"), '\n')
	if err := WriteCert(caPath, append(bundle, r.New.CertPEM...)); err != nil {
		return nil, nil, err
	}
	r, err = ReadRotation(dir)
	if err != nil {
		return nil, nil, err
	}
	return r, []string{moved}, nil
}

// SwitchRotation is the second step: the server certificate and every
// client certificate reissued under the new CA, with their names and for
// o.Days, the replaced files moved to backups. Run once the bundle is
// trusted everywhere: a client or node that trusts only the old CA refuses
// the new certificates.
func SwitchRotation(dir string, o GenerateOptions) (*Files, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, err
	}
	switch r.Phase {
	case NotRotating, Started:
		return nil, fmt.Errorf("certs: %s does not trust a new CA yet: begin the rotation first", filepath.Join(dir, CAFile))
	case Switched:
		return nil, nil // done already
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if o.KeyType == "" {
		if o.KeyType, err = keyTypeOf(r.New.Key); err != nil {
			return nil, err
		}
	}
	return renewUnder(dir, r.New, o)
}

// FinishRotation is the last step: ca.crt and ca.key become the new CA's
// alone, the bundle and the old key go to backups, and ca-next.* are
// removed (ca.crt and ca.key now hold the same bytes). It refuses while any
// certificate in dir is still the old CA's: it would stop working.
func FinishRotation(dir string, now time.Time) (*Rotation, []string, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, nil, err
	}
	switch r.Phase {
	case NotRotating:
		return nil, nil, errors.New("certs: no CA rotation is in progress")
	case Started, Bundled:
		return nil, nil, fmt.Errorf("certs: the certificates in %s are still the old CA's: switch them to the new CA first", dir)
	}
	if err := leavesSignedBy(dir, r.New.Cert); err != nil {
		return nil, nil, err
	}
	var moved []string
	if !bytes.Equal(r.Old.Cert.Raw, r.New.Cert.Raw) {
		keyPEM, err := r.New.KeyPEM()
		if err != nil {
			return nil, nil, err
		}
		defer clear(keyPEM)
		for _, f := range []struct {
			name string
			data []byte
			key  bool
		}{{CAKeyFile, keyPEM, true}, {CAFile, r.New.CertPEM, false}} { // the key first: see ReadRotation
			path := filepath.Join(dir, f.name)
			m, err := backup.LinkAside(path, now)
			if err != nil {
				return nil, nil, fmt.Errorf("certs: %w", err)
			}
			moved = append(moved, m)
			write := WriteCert
			if f.key {
				write = WriteKey
			}
			if err := write(path, f.data); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, name := range []string{NextCAFile, NextCAKeyFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("certs: %w", err)
		}
	}
	r, err = ReadRotation(dir)
	if err != nil {
		return nil, nil, err
	}
	return r, moved, nil
}

// leavesSignedBy refuses unless the server certificate and every client
// certificate in dir are signed by ca.
func leavesSignedBy(dir string, ca *x509.Certificate) error {
	files := []string{ServerFile}
	for _, name := range clientNames(dir) {
		cert, _ := ClientFiles(name)
		files = append(files, cert)
	}
	for _, name := range files {
		path := filepath.Join(dir, name)
		c, err := readCertFile(path)
		if errors.Is(err, fs.ErrNotExist) && name != ServerFile {
			continue // a client's key without its certificate: nothing to trust
		}
		if err != nil {
			return err
		}
		if !signedBy(c, ca) {
			return fmt.Errorf("certs: %s is not signed by the new CA: switch the certificates to it first (or move %s out of %s if no one uses it)", path, name, dir)
		}
	}
	return nil
}

func readCertFile(path string) (*x509.Certificate, error) {
	data, err := readPublic(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	c, err := ParseCert(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return c, nil
}

// signedBy reports whether ca's key signed leaf.
func signedBy(leaf, ca *x509.Certificate) bool {
	return leaf.CheckSignatureFrom(ca) == nil
}

func holds(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, t := range certs {
		if bytes.Equal(t.Raw, c.Raw) {
			return true
		}
	}
	return false
}
