package certs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
)

// The files Generate writes inside its directory. serverconf and the CLI
// refer to the same names.
const (
	CAFile         = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerFile     = "server.crt"
	ServerKeyFile  = "server.key"
	ClientFile     = "client.crt"
	ClientKeyFile  = "client.key"
	caCommonName   = "redsafe local CA"
	caOrganization = "redsafe"
)

// DefaultHosts cover a compose service called "redis" and local clients.
var DefaultHosts = []string{"redis", "localhost", "127.0.0.1", "::1"}

// caValidity is longer than a leaf's so that leaves can be re-issued under
// the same CA without redistributing it; `redsafe certs check` still warns
// before it runs out.
const caValidity = 10 * 365 * 24 * time.Hour

// GenerateOptions controls Generate. Zero values are the defaults.
type GenerateOptions struct {
	Hosts   []string  // server certificate SANs; nil => DefaultHosts
	KeyType KeyType   // "" => ECDSA P-256
	Days    int       // leaf validity in days; 0 => 365
	Client  string    // when set, also issue a client certificate with this common name
	Force   bool      // replace existing files, moving them to timestamped backups
	Now     time.Time // zero => time.Now(); for tests and backup names
}

// Files names what Generate wrote, as paths inside its directory.
type Files struct {
	CA, CAKey         string
	Server, ServerKey string
	Client, ClientKey string   // empty without GenerateOptions.Client
	Backups           []string // where replaced files went
}

// ExistsError is returned when Generate would overwrite files and Force is
// not set. Nothing has been written when it is returned.
type ExistsError struct{ Paths []string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("certs: %s already exist; pass --force to replace them (the old files are moved to timestamped backups, never deleted)", strings.Join(e.Paths, ", "))
}

// Generate creates a CA, a server certificate for o.Hosts signed by it and,
// with o.Client, a client certificate, all in dir (created 0755 if needed).
// Keys are written 0600 and certificates 0644.
func Generate(dir string, o GenerateOptions) (*Files, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Days == 0 {
		o.Days = 365
	}
	if o.Days < 1 || o.Days > 3650 {
		return nil, fmt.Errorf("certs: --days must be between 1 and 3650, not %d", o.Days)
	}
	if o.Hosts == nil {
		o.Hosts = DefaultHosts
	}
	kt, err := ParseKeyType(string(o.KeyType))
	if err != nil {
		return nil, err
	}

	f := &Files{
		CA: filepath.Join(dir, CAFile), CAKey: filepath.Join(dir, CAKeyFile),
		Server: filepath.Join(dir, ServerFile), ServerKey: filepath.Join(dir, ServerKeyFile),
	}
	if o.Client != "" {
		f.Client, f.ClientKey = filepath.Join(dir, ClientFile), filepath.Join(dir, ClientKeyFile)
	}
	// The client files count even when no client certificate is requested:
	// a client.crt left from an earlier run is signed by the CA being
	// replaced, so it is refused without Force and moved aside with it.
	targets := []string{f.CA, f.CAKey, f.Server, f.ServerKey,
		filepath.Join(dir, ClientFile), filepath.Join(dir, ClientKeyFile)}

	// Issue everything in memory first, so bad input (an invalid host) fails
	// before any existing file has been touched.
	notBefore := o.Now.Add(-clockSkew)
	leafEnd := o.Now.Add(time.Duration(o.Days) * 24 * time.Hour)
	caEnd := o.Now.Add(caValidity)
	if leafEnd.After(caEnd) {
		caEnd = leafEnd
	}
	ca, err := NewAuthority(caCommonName, Options{KeyType: kt, NotBefore: notBefore, NotAfter: caEnd, Organization: caOrganization})
	if err != nil {
		return nil, err
	}
	leafOpts := Options{KeyType: kt, NotBefore: notBefore, NotAfter: leafEnd, Organization: caOrganization}
	server, err := ca.IssueServer(o.Hosts, leafOpts)
	if err != nil {
		return nil, err
	}
	var client *Pair
	if o.Client != "" {
		if client, err = ca.IssueClient(o.Client, leafOpts); err != nil {
			return nil, err
		}
	}
	caKey, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}

	var existing []string
	for _, p := range targets {
		if _, err := os.Lstat(p); err == nil {
			existing = append(existing, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("certs: %w", err)
		}
	}
	if len(existing) > 0 && !o.Force {
		return nil, &ExistsError{Paths: existing}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	for _, p := range existing {
		moved, err := backup.MoveAside(p, o.Now)
		if err != nil {
			return nil, err
		}
		f.Backups = append(f.Backups, moved)
	}

	writes := []pemFile{
		{f.CA, ca.CertPEM, false}, {f.CAKey, caKey, true},
		{f.Server, server.CertPEM, false}, {f.ServerKey, server.KeyPEM, true},
	}
	if client != nil {
		writes = append(writes, pemFile{f.Client, client.CertPEM, false}, pemFile{f.ClientKey, client.KeyPEM, true})
	}
	for _, w := range writes {
		write := WriteCert
		if w.key {
			write = WriteKey
		}
		if err := write(w.path, w.data); err != nil {
			return nil, err
		}
	}
	return f, nil
}

type pemFile struct {
	path string
	data []byte
	key  bool // written 0600 instead of 0644
}
