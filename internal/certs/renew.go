package certs

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/redsafe/redsafe/internal/backup"
)

// Renew reissues the server certificate and every client certificate in
// dir under the CA already there, signed with its ca.key, so that every
// client's ca.crt keeps working. With o.Client it reissues (or creates)
// that client's certificate only, beside the server's. The replaced files
// are moved to timestamped backups; the CA's files are not touched.
func Renew(dir string, o GenerateOptions) (*Files, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if present, err := backup.Existing([]string{filepath.Join(dir, NextCAFile), filepath.Join(dir, NextCAKeyFile)}); err != nil || len(present) > 0 {
		// ca.key is the old CA's until the rotation finishes: what it
		// signs would be refused once the old CA is dropped.
		return nil, fmt.Errorf("certs: a CA rotation is in progress in %s (%s): finish it with `redsafe certs rotate-ca`, whose switch step reissues every certificate under the new CA; renew after it", dir, NextCAFile)
	}
	ca, err := LoadAuthority(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("%w; --renew signs with the existing CA: restore ca.crt and ca.key, or replace the CA with --new-ca (every client then needs the new ca.crt)", err)
	}
	if o.KeyType == "" {
		if o.KeyType, err = keyTypeOf(ca.Key); err != nil {
			return nil, err
		}
	}
	return renewUnder(dir, ca, o)
}

// renewUnder is Renew signing with ca, which need not be the one in
// ca.crt: the client certificates it reissues may chain to ca or to any
// CA in ca.crt (both CAs of a rotation). Everything is issued in memory,
// and every client certificate checked, before the first file changes.
func renewUnder(dir string, ca *Authority, o GenerateOptions) (*Files, error) {
	if err := o.defaults(); err != nil { // Renew's already; the same for other callers
		return nil, err
	}
	kt, err := ParseKeyType(string(o.KeyType))
	if err != nil {
		return nil, err
	}
	if o.Hosts == nil {
		o.Hosts = currentHosts(filepath.Join(dir, ServerFile))
	}
	leafEnd := o.Now.Add(time.Duration(o.Days) * 24 * time.Hour)
	if leafEnd.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("certs: %s expires on %s, before a certificate valid %d days would; issue one for fewer --days, or replace the CA with --new-ca (every client then needs the new ca.crt)",
			filepath.Join(dir, CAFile), ca.Cert.NotAfter.UTC().Format(time.DateOnly), o.Days)
	}
	var found []foundClient
	if o.Client == "" {
		if found, err = renewableClients(dir, ca); err != nil {
			return nil, err
		}
	}
	leaf := Options{KeyType: kt, NotBefore: o.Now.Add(-clockSkew), NotAfter: leafEnd, Organization: caOrganization}
	writes, f, err := issueLeaves(dir, ca, o, leaf)
	if err != nil {
		return nil, err
	}
	for _, c := range found {
		p, err := ca.reissueClient(c.cert, leaf)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, c.certPath)
		}
		writes = append(writes, pemFile{c.certPath, p.CertPEM, false}, pemFile{c.keyPath, p.KeyPEM, true})
		f.Clients = append(f.Clients, ClientCert{CommonName: c.cert.Subject.CommonName, Cert: c.certPath, Key: c.keyPath})
	}
	f.CA, f.CAKey = filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	targets := []string{f.Server, f.ServerKey}
	for _, c := range f.Clients {
		targets = append(targets, c.Cert, c.Key)
	}
	if err := install(dir, targets, writes, true, o.Now, f); err != nil {
		return nil, err
	}
	return f, nil
}

// currentHosts returns the host names of the server certificate at path,
// so that a renewal covers what it covered; DefaultHosts if it is unreadable.
func currentHosts(path string) []string {
	if data, err := readPublic(path); err == nil {
		if c, err := ParseCert(data); err == nil {
			if h := certHosts(c); len(h) > 0 {
				return h
			}
		}
	}
	return DefaultHosts
}
