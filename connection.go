package redsafe

import (
	"crypto/tls"
	"crypto/x509"
	"slices"

	"github.com/redsafe/redsafe/seal"
)

// Connection is what Open dials for a set of Options, after validation:
// for probes and for other clients that must connect exactly as redsafe
// does.
type Connection struct {
	Addr string // host:port
	// Seeds are every address the URL names: Addr, then each addr=. A
	// client connects to them first and finds a cluster's other nodes
	// from them, as Open does.
	Seeds []string
	Host  string
	DB    int
	TLS   *tls.Config // nil when TLS is off
	// NodeRootCAs are the roots a node that only a cluster's topology
	// names (not a seed) is verified against: the CA file alone, so that
	// one node announcing another host with a public certificate does not
	// get the password; nil without a CA file (TLS.RootCAs then).
	NodeRootCAs *x509.CertPool
	Username    string // "" means the default user
	Password    string

	// Sentinels is set when the URL names Sentinels (master_set=): Addr
	// is then the master they named at MasterConnection, and a caller
	// asks them again after a failover.
	Sentinels *Sentinels

	// Sealer is the key ring, parsed once by validation: it seals with
	// EncryptionKey and opens with it or any previous key. It prints as
	// key IDs only.
	Sealer *seal.Sealer
}

// Connection validates o and returns the settings Open would use. It
// returns a *ConfigError when o breaks its environment's policy. With
// Options.Credentials set, Username and Password are empty.
func (o Options) Connection() (*Connection, error) {
	s, r := newConfig(o)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if s.sentinel != nil {
		// Addr would be a Sentinel, and Username and Password the data
		// nodes': whoever dialed it would hand a Sentinel the
		// application's password.
		return nil, ErrSentinelConnection
	}
	c := &Connection{Addr: s.url.Addr(), Seeds: slices.Clone(s.topology.addrs), Host: s.url.Host, DB: s.url.DB, Username: s.username, Password: s.password, Sealer: s.sealer}
	if s.useTLS {
		c.TLS, c.NodeRootCAs = s.tlsConfig, s.tlsOwnCA
	}
	return c, nil
}
