package redisserver

import (
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
)

// material is the per-server PKI: a fresh CA, a server and a client pair.
type material struct {
	ca             *certs.Authority
	server, client *certs.Pair
}

// rsaKeys caches RSA 4096 keys: generating one costs ~0.5-3 s, which would
// dominate every RSA server start. ECDSA keys are generated fresh (µs).
var rsaKeys struct {
	once     sync.Once
	ca, leaf crypto.Signer
	err      error
}

// keysFor returns the CA and leaf keys to use (nil => generate fresh).
func keysFor(kt certs.KeyType) (ca, leaf crypto.Signer, err error) {
	if kt != certs.RSA4096 {
		return nil, nil, nil
	}
	rsaKeys.once.Do(func() {
		// Two keys in parallel: one per core on small CI machines.
		var wg sync.WaitGroup
		var errCA, errLeaf error
		wg.Add(1)
		go func() {
			defer wg.Done()
			var a *certs.Authority
			if a, errCA = certs.NewAuthority("rsa key holder", certs.Options{KeyType: kt}); errCA == nil {
				rsaKeys.ca = a.Key
			}
		}()
		var p *certs.Pair
		holder, errLeaf := certs.NewAuthority("ec holder", certs.Options{})
		if errLeaf == nil {
			if p, errLeaf = holder.IssueClient("rsa key holder", certs.Options{KeyType: kt}); errLeaf == nil {
				rsaKeys.leaf = p.Key
			}
		}
		wg.Wait()
		rsaKeys.err = errors.Join(errCA, errLeaf)
	})
	return rsaKeys.ca, rsaKeys.leaf, rsaKeys.err
}

// newMaterial creates the PKI for c and writes it into f (keys 0600).
// Each server gets its own CA with a unique name, so a client configured
// for one server's CA does not trust another's: even when RSA keys are
// shared, chain building matches issuer names first.
func newMaterial(c Config, f files) (*material, error) {
	caKey, leafKey, err := keysFor(c.KeyType)
	if err != nil {
		return nil, err
	}
	// The CA spans any custom server validity, so an "expired server
	// certificate" is exactly that, with a CA still valid at that time.
	caOpts := certs.Options{KeyType: c.KeyType, Key: caKey, Organization: "redisserver"}
	caOpts.NotBefore = time.Now().Add(-time.Hour)
	if !c.CertNotBefore.IsZero() && c.CertNotBefore.Before(caOpts.NotBefore) {
		caOpts.NotBefore = c.CertNotBefore
	}
	caOpts.NotAfter = time.Now().Add(certs.DefaultValidity)
	if c.CertNotAfter.After(caOpts.NotAfter) {
		caOpts.NotAfter = c.CertNotAfter
	}
	ca := c.CA
	if ca == nil {
		if ca, err = certs.NewAuthority("redisserver CA "+randomHex(6), caOpts); err != nil {
			return nil, err
		}
	}
	srv, err := ca.IssueServer(c.Hosts, certs.Options{
		KeyType: c.KeyType, Key: leafKey,
		NotBefore: c.CertNotBefore, NotAfter: c.CertNotAfter,
	})
	if err != nil {
		return nil, err
	}
	// Always generated (cheap), so tests can present a cert to any server.
	cli, err := ca.IssueClient("redisserver-client", certs.Options{KeyType: c.KeyType, Key: leafKey})
	if err != nil {
		return nil, err
	}
	caKeyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	// Plain os.WriteFile instead of certs.WriteKey: the directory is fresh
	// and private to this test, so atomic replace and fsync buy nothing but
	// cost ~20 ms per server. Modes are still the production ones.
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.ca, ca.CertPEM, certs.CertFileMode},
		{filepath.Join(f.dir, "ca.key"), caKeyPEM, certs.KeyFileMode},
		{f.cert, srv.CertPEM, certs.CertFileMode},
		{f.key, srv.KeyPEM, certs.KeyFileMode},
		{filepath.Join(f.dir, "client.crt"), cli.CertPEM, certs.CertFileMode},
		{filepath.Join(f.dir, "client.key"), cli.KeyPEM, certs.KeyFileMode},
	} {
		if err := writeFile(w.path, w.data, w.mode); err != nil {
			return nil, err
		}
	}
	return &material{ca: ca, server: srv, client: cli}, nil
}

// writeFile creates path with exactly mode, whatever the umask.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
