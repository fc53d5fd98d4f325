package certs

import (
	"fmt"
	"github.com/redsafe/redsafe/internal/secretfile"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
)

// The files Generate writes inside its directory. serverconf and the CLI
// refer to the same names. A client certificate is NAME.crt and NAME.key
// (ClientFiles), where `redsafe env --client NAME` looks for it.
const (
	CAFile         = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerFile     = "server.crt"
	ServerKeyFile  = "server.key"
	caCommonName   = "redsafe local CA"
	caOrganization = "redsafe"
)

// ClientFiles names the certificate and key files of client name.
func ClientFiles(name string) (cert, key string) { return name + ".crt", name + ".key" }

// clientName is a name that is safe as a file name and cannot collide
// with the CA's or the server's files.
var clientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// reservedNames are the directory's own files, NAME.crt and NAME.key:
// the CA's, the server's, and a CA rotation's (rotation.go).
var reservedNames = []string{"ca", "server", strings.TrimSuffix(NextCAFile, ".crt"), strings.TrimSuffix(OldCAFile, ".crt")}

func checkClientName(name string) error {
	if !clientName.MatchString(name) || slices.Contains(reservedNames, name) {
		return fmt.Errorf("certs: client name %q must be letters, digits, '.', '_' or '-' (it names NAME.crt and NAME.key), and not ca, server, ca-next or ca-old", name)
	}
	return nil
}

// DefaultHosts cover a compose service called "redis" and local clients.
var DefaultHosts = []string{"redis", "localhost", "127.0.0.1", "::1"}

// caValidity is longer than a leaf's so that leaves can be re-issued under
// the same CA (Renew) without redistributing it; `redsafe certs check`
// still warns before it runs out.
const caValidity = 10 * 365 * 24 * time.Hour

// GenerateOptions controls Generate and Renew. Zero values are the defaults.
type GenerateOptions struct {
	Hosts   []string // server certificate SANs; nil => DefaultHosts (Renew: the current certificate's)
	KeyType KeyType  // "" => ECDSA P-256 (Renew: the CA's key type)
	Days    int      // leaf validity in days, 1 to MaxDays; 0 => DefaultDays
	Client  string   // when set, also issue a client certificate with this common name
	// ReplaceCA lets Generate replace existing files, the CA included,
	// moving them to timestamped backups. Every client then needs the new
	// ca.crt; Renew is the way to reissue a certificate under the same CA.
	ReplaceCA bool
	Now       time.Time // zero => time.Now(); for tests and backup names
}

// Files names what Generate or Renew wrote, as paths inside its directory.
type Files struct {
	CA, CAKey         string
	Server, ServerKey string
	Client, ClientKey string // GenerateOptions.Client's; empty without it
	// Clients is every client certificate written: GenerateOptions.Client's
	// or, by Renew without it, each one found in the directory.
	Clients []ClientCert
	Hosts   []string // the server certificate's
	Backups []string // where replaced files went
}

// ClientCert is one client certificate written, as paths inside the
// directory.
type ClientCert struct {
	CommonName string
	Cert, Key  string
}

// The validity of a leaf certificate, in days.
const (
	DefaultDays = 365
	MaxDays     = 3650
)

// CheckDays returns an error unless days is from 1 to MaxDays. Generate
// and Renew check GenerateOptions.Days with it after reading 0 as
// DefaultDays; a command line calls it on the --days it was given, where
// 0 is what the user typed, not "unset", and so is refused.
func CheckDays(days int) error {
	if days < 1 || days > MaxDays {
		return fmt.Errorf("certs: --days must be between 1 and %d, not %d", MaxDays, days)
	}
	return nil
}

func (o *GenerateOptions) defaults() error {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if err := CheckDays(o.Days); err != nil {
		return err
	}
	if o.Client != "" {
		return checkClientName(o.Client)
	}
	return nil
}

// Generate creates a CA, a server certificate for o.Hosts signed by it and,
// with o.Client, a client certificate, all in dir (created 0755 if needed).
// Keys are written 0600 and certificates 0644.
func Generate(dir string, o GenerateOptions) (*Files, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if o.Hosts == nil {
		o.Hosts = DefaultHosts
	}
	kt, err := ParseKeyType(string(o.KeyType))
	if err != nil {
		return nil, err
	}
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
	caKey, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	writes, f, err := issueLeaves(dir, ca, o, Options{KeyType: kt, NotBefore: notBefore, NotAfter: leafEnd, Organization: caOrganization})
	if err != nil {
		return nil, err
	}
	f.CA, f.CAKey = filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	writes = append([]pemFile{{f.CA, ca.CertPEM, false}, {f.CAKey, caKey, true}}, writes...)

	// The client files of earlier runs count even when no client
	// certificate is requested: they are signed by the CA being replaced,
	// so they are refused without ReplaceCA and moved aside with it.
	// A rotation's new CA too: a new CA replaces both (ca-next.*).
	targets := []string{f.CA, f.CAKey, f.Server, f.ServerKey, filepath.Join(dir, NextCAFile), filepath.Join(dir, NextCAKeyFile)}
	for _, name := range clientNames(dir) {
		cert, key := ClientFiles(name)
		targets = append(targets, filepath.Join(dir, cert), filepath.Join(dir, key))
	}
	if f.Client != "" {
		targets = append(targets, f.Client, f.ClientKey)
	}
	if err := install(dir, targets, writes, o.ReplaceCA, o.Now, f); err != nil {
		return nil, err
	}
	return f, nil
}

// issueLeaves issues the server certificate and the optional client
// certificate under ca, in memory.
func issueLeaves(dir string, ca *Authority, o GenerateOptions, leaf Options) ([]pemFile, *Files, error) {
	f := &Files{Server: filepath.Join(dir, ServerFile), ServerKey: filepath.Join(dir, ServerKeyFile), Hosts: o.Hosts}
	server, err := ca.IssueServer(o.Hosts, leaf)
	if err != nil {
		return nil, nil, err
	}
	writes := []pemFile{{f.Server, server.CertPEM, false}, {f.ServerKey, server.KeyPEM, true}}
	if o.Client != "" {
		client, err := ca.IssueClient(o.Client, leaf)
		if err != nil {
			return nil, nil, err
		}
		cert, key := ClientFiles(o.Client)
		f.Client, f.ClientKey = filepath.Join(dir, cert), filepath.Join(dir, key)
		f.Clients = append(f.Clients, ClientCert{CommonName: o.Client, Cert: f.Client, Key: f.ClientKey})
		writes = append(writes, pemFile{f.Client, client.CertPEM, false}, pemFile{f.ClientKey, client.KeyPEM, true})
	}
	return writes, f, nil
}

// install moves the existing targets aside (or refuses them without
// replace, with a *backup.ExistsError) and writes the files.
func install(dir string, targets []string, writes []pemFile, replace bool, now time.Time, f *Files) error {
	existing, err := backup.Existing(targets)
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if len(existing) > 0 && !replace {
		return fmt.Errorf("certs: %w", &backup.ExistsError{Paths: existing})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	// A file about to be rewritten is backed up as a second link and then
	// replaced atomically, so that it never goes missing: clients read
	// ca.crt and their certificate again for new connections, and a
	// stopped run leaves every file whole. One that is not rewritten (an
	// old client's, when the CA is replaced) is moved aside.
	rewritten := map[string]bool{}
	for _, w := range writes {
		rewritten[w.path] = true
	}
	for _, p := range existing {
		aside := backup.MoveAside
		if rewritten[p] {
			aside = backup.LinkAside
		}
		moved, err := aside(p, now)
		if err != nil {
			return err
		}
		f.Backups = append(f.Backups, moved)
	}
	for _, w := range writes {
		write := WriteCert
		if w.key {
			write = WriteKey
		}
		if err := write(w.path, w.data); err != nil {
			return err
		}
	}
	return nil
}

// clientNames lists the clients whose NAME.crt or NAME.key is in dir.
func clientNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".crt")
		if !ok {
			name, ok = strings.CutSuffix(e.Name(), ".key")
		}
		if ok && checkClientName(name) == nil && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// maxPublicFile bounds a certificate file read: a chain is a few KB.
const maxPublicFile = 1 << 20

// readPublic reads a certificate file, bounded, with the one reader of
// public files. Links are followed: Kubernetes TLS secrets are links.
func readPublic(path string) ([]byte, error) {
	return secretfile.ReadPublic(path, maxPublicFile, true)
}

type pemFile struct {
	path string
	data []byte
	key  bool // written 0600 instead of 0644
}
