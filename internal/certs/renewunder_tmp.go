package certs

import (
	"path/filepath"
	"time"
)

// TEMPORARY until H1 merges.
func renewUnder(dir string, ca *Authority, o GenerateOptions) (*Files, error) {
	kt, _ := ParseKeyType(string(o.KeyType))
	o.Hosts = currentHosts(filepath.Join(dir, ServerFile))
	writes, f, err := issueLeaves(dir, ca, o, Options{KeyType: kt, NotBefore: o.Now.Add(-clockSkew), NotAfter: o.Now.Add(time.Duration(o.Days) * 24 * time.Hour), Organization: caOrganization})
	if err != nil {
		return nil, err
	}
	if err := install(dir, []string{f.Server, f.ServerKey}, writes, true, o.Now, f); err != nil {
		return nil, err
	}
	return f, nil
}
