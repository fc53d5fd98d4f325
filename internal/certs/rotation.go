package certs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
	"github.com/redsafe/redsafe/internal/secretfile"
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
//  3. FinishRotation drops the old CA from ca.crt, keeping its
//     certificate as ca-old.crt (and its key as ca.key) until every node
//     is proven to refuse it; CompleteRotation then makes ca.key the new
//     CA's and removes ca-next.* and ca-old.crt.
//
// The directory's files say which step is done (ReadRotation); nothing
// else records it, so an interrupted step is simply run again. No file a
// client reads is ever missing: each is replaced atomically, after a
// second link to it became its backup.
const (
	NextCAFile    = "ca-next.crt"
	NextCAKeyFile = "ca-next.key"
	OldCAFile     = "ca-old.crt"
)

// RotationPhase is how far a CA rotation in a directory has come.
type RotationPhase string

const (
	// NotRotating: ca.crt holds one CA, which signed the leaves.
	NotRotating RotationPhase = "none"
	// Started: the new CA exists but ca.crt does not hold it yet (a begin
	// step was interrupted; running it again completes it).
	Started RotationPhase = "started"
	// Bundled: ca.crt holds the old and the new CA; some leaf is still
	// the old CA's.
	Bundled RotationPhase = "bundled"
	// Switched: the server certificate and every client certificate are
	// the new CA's, each with its key; ca.crt still holds both CAs.
	Switched RotationPhase = "switched"
	// Dropped: ca.crt holds the new CA alone; the old one is kept as
	// ca-old.crt until the nodes are proven to refuse it.
	Dropped RotationPhase = "dropped"
)

// Rotation is the state of a directory's CA rotation.
type Rotation struct {
	Phase RotationPhase
	// Old is the CA being replaced (the directory's only CA when
	// NotRotating). Its Key is nil once ca.key is the new CA's.
	Old *Authority
	// New is the CA replacing it; nil when NotRotating.
	New *Authority
	// Trusted is every certificate ca.crt holds.
	Trusted []*x509.Certificate
}

// ReadRotation reads the state of dir's CA rotation from its files. It
// refuses a directory whose files fit no step: half a new CA, or a ca.crt
// that holds certificates no rotation put there.
func ReadRotation(dir string) (*Rotation, error) {
	caPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	data, err := readPublic(caPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	trusted, err := ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, caPath)
	}
	nextCert, nextKey, oldPath := filepath.Join(dir, NextCAFile), filepath.Join(dir, NextCAKeyFile), filepath.Join(dir, OldCAFile)
	next, err := backup.Existing([]string{nextCert, nextKey})
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	oldKept, err := backup.Existing([]string{oldPath})
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	r := &Rotation{Phase: NotRotating, Trusted: trusted}
	switch {
	case len(next) == 1:
		return nil, fmt.Errorf("certs: %s exists without its pair (%s and %s belong together): restore the missing one from its backup, or move the other aside to start the rotation again", next[0], NextCAFile, NextCAKeyFile)
	case len(next) == 0 && len(oldKept) == 0:
		if len(trusted) > 1 {
			return nil, fmt.Errorf("certs: %s holds %d certificates, but no CA rotation is in progress (no %s): a bundle redsafe did not make; leave only the directory's CA in it", caPath, len(trusted), NextCAFile)
		}
		if r.Old, err = LoadAuthority(caPath, keyPath); err != nil {
			return nil, err
		}
		return r, nil
	case len(next) == 0:
		// CompleteRotation removed ca-next.* and stopped before ca-old.crt.
		if r.New, err = LoadAuthority(caPath, keyPath); err != nil {
			return nil, err
		}
	default:
		if r.New, err = LoadAuthority(nextCert, nextKey); err != nil {
			return nil, err
		}
	}

	if len(oldKept) > 0 && len(trusted) == 1 && trusted[0].Equal(r.New.Cert) {
		r.Phase = Dropped
		oldCert, err := readCertFile(oldPath)
		if err != nil {
			return nil, err
		}
		r.Old = &Authority{Cert: oldCert}
		if a, err := LoadAuthority(oldPath, keyPath); err == nil {
			r.Old = a // ca.key is still the old CA's
		}
		return r, nil
	}
	if r.Old, err = LoadAuthority(caPath, keyPath); err != nil {
		return nil, err
	}
	switch {
	case len(trusted) == 1 && !trusted[0].Equal(r.New.Cert):
		r.Phase = Started
		return r, nil
	case len(trusted) != 2 || !trusted[0].Equal(r.Old.Cert) || !trusted[1].Equal(r.New.Cert):
		return nil, fmt.Errorf("certs: %s holds %d certificates, not the old CA and %s that this rotation put there: restore it from the backup begin made (%s.bak-*)", caPath, len(trusted), NextCAFile, CAFile)
	}
	r.Phase = Bundled
	switched, err := leavesSignedBy(dir, r.New.Cert)
	if err != nil {
		return nil, err
	}
	if switched {
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
	case Switched, Dropped:
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
		// The key first, and only if there is none: of two begins at
		// once, one creates the new CA and the other stops here.
		err = secretfile.Create(filepath.Join(dir, NextCAKeyFile), keyPEM)
		clear(keyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("certs: %w", err)
		}
		if err := WriteCert(filepath.Join(dir, NextCAFile), next.CertPEM); err != nil {
			return nil, nil, err
		}
		r.New = next
	}
	moved, err := replaceCert(dir, CAFile, append(append([]byte{}, r.Old.CertPEM...), r.New.CertPEM...), now)
	if err != nil {
		return nil, nil, err
	}
	if r, err = ReadRotation(dir); err != nil {
		return nil, nil, err
	}
	return r, []string{moved}, nil
}

// SwitchRotation is the second step: the server certificate and every
// client certificate reissued under the new CA, with their names and for
// o.Days, the replaced files kept as backups. Run once the bundle is
// trusted everywhere: a client or node that trusts only the old CA refuses
// the new certificates. Run again, it reissues whatever is not the new
// CA's yet, and changes nothing once all are.
func SwitchRotation(dir string, o GenerateOptions) (*Files, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, err
	}
	switch r.Phase {
	case NotRotating, Started:
		return nil, fmt.Errorf("certs: %s does not trust a new CA yet: begin the rotation first", filepath.Join(dir, CAFile))
	case Switched, Dropped:
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

// FinishRotation is the third step: ca.crt holds the new CA alone, and the
// old CA's certificate is kept as ca-old.crt, with its key still ca.key,
// until CompleteRotation. It refuses while any certificate in dir is still
// the old CA's: it would stop working. Run again, it changes nothing.
func FinishRotation(dir string, now time.Time) (*Rotation, []string, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, nil, err
	}
	switch r.Phase {
	case NotRotating:
		return nil, nil, errors.New("certs: no CA rotation is in progress")
	case Started, Bundled:
		return nil, nil, fmt.Errorf("certs: some certificates in %s are still the old CA's: switch them to the new CA first", dir)
	case Dropped:
		return r, nil, nil
	}
	if err := WriteCert(filepath.Join(dir, OldCAFile), r.Old.CertPEM); err != nil {
		return nil, nil, err
	}
	moved, err := replaceCert(dir, CAFile, r.New.CertPEM, now)
	if err != nil {
		return nil, nil, err
	}
	if r, err = ReadRotation(dir); err != nil {
		return nil, nil, err
	}
	return r, []string{moved}, nil
}

// CompleteRotation ends a rotation whose old CA was dropped: ca.key
// becomes the new CA's (the old key kept as a backup), and ca-next.* and
// ca-old.crt, whose bytes ca.crt, ca.key and the backups now hold, are
// removed. Run it only once every node has been shown to refuse the old
// CA.
func CompleteRotation(dir string, now time.Time) ([]string, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, err
	}
	switch r.Phase {
	case NotRotating:
		return nil, nil
	case Dropped:
	default:
		return nil, fmt.Errorf("certs: the old CA is still in %s: finish the rotation first", filepath.Join(dir, CAFile))
	}
	var moved []string
	keyPath := filepath.Join(dir, CAKeyFile)
	if _, err := LoadAuthority(filepath.Join(dir, CAFile), keyPath); err != nil {
		keyPEM, err := r.New.KeyPEM()
		if err != nil {
			return nil, err
		}
		defer clear(keyPEM)
		m, err := backup.LinkAside(keyPath, now)
		if err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
		moved = append(moved, m)
		if err := WriteKey(keyPath, keyPEM); err != nil {
			return nil, err
		}
	}
	// ca-next.* before ca-old.crt: ReadRotation reads what is left as a
	// rotation still to complete.
	for _, name := range []string{NextCAFile, NextCAKeyFile, OldCAFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("certs: %w", err)
		}
	}
	return moved, nil
}

// replaceCert replaces dir/name with data atomically, a second link to the
// old file becoming its backup first, and returns the backup's name.
func replaceCert(dir, name string, data []byte, now time.Time) (string, error) {
	path := filepath.Join(dir, name)
	moved, err := backup.LinkAside(path, now)
	if err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	return moved, WriteCert(path, data)
}

// leavesSignedBy reports whether the server certificate and every client
// certificate in dir are signed by ca and each has its key beside it. A
// missing or unreadable file is "not yet": SwitchRotation reissues it.
func leavesSignedBy(dir string, ca *x509.Certificate) (bool, error) {
	pairs := [][2]string{{ServerFile, ServerKeyFile}}
	for _, name := range clientNames(dir) {
		cert, key := ClientFiles(name)
		pairs = append(pairs, [2]string{cert, key})
	}
	for _, p := range pairs {
		c, err := readCertFile(filepath.Join(dir, p[0]))
		if err != nil || !signedBy(c, ca) {
			return false, nil
		}
		keyPEM, err := secretfile.Read(filepath.Join(dir, p[1]), secretfile.Named)
		if err != nil {
			return false, nil
		}
		key, err := ParseKey(keyPEM)
		clear(keyPEM)
		if err != nil {
			return false, nil
		}
		if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(c.PublicKey) {
			return false, nil
		}
	}
	return true, nil
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
