package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

// endpoint is where and how the audit connects: the settings the service
// itself would use, resolved even when its policy refuses them, because an
// insecure deployment is exactly what an audit must be able to look at.
type endpoint struct {
	addr, host string
	db         int
	tls        *tls.Config    // the service's own TLS settings; nil for redis://
	nodeRoots  *x509.CertPool // of the nodes only the topology names (topology.TLSFor)
	username   string         // "" means the default user
	password   string
	// userHidden: the user name came from a URL without a password, the
	// form redis-cli reads as a password ("redis://secret@host"), so it is
	// never shown, as redisurl.Redact does not show it.
	userHidden bool
	policy     redsafe.Policy
	sealer     *seal.Sealer // the configured keys, to tell our tokens from others; nil without a key
	// sentinels: the URL names Sentinels (master_set=), and the endpoint
	// is the master they named; nil otherwise.
	sentinels *redsafe.Sentinels
}

// resolveEndpoint applies the environment contract to o. When o's policy
// refuses it (plaintext, no password, no encryption key), the connection
// settings are resolved again under the testing policy, which allows all of
// that; the refused password itself is judged by auth.weak-password. Only
// settings that cannot describe a connection at all are an error.
func resolveEndpoint(ctx context.Context, o redsafe.Options) (*endpoint, error) {
	ep := &endpoint{policy: redsafe.PolicyFor(redsafe.Validate(o).Environment)}
	if s, err := o.KeyRing(); err == nil {
		ep.sealer = s
	}
	conn, err := connectionOf(ctx, o)
	if errors.Is(err, redsafe.ErrNoMaster) {
		return nil, noMaster(err)
	}
	if err != nil {
		relaxed := o
		relaxed.Environment = redsafe.Testing
		relaxed.EncryptionKey, relaxed.EncryptionKeyFile = seal.GenerateKey().Encode(), ""
		relaxed.PreviousEncryptionKeys, relaxed.PreviousEncryptionKeysFile = nil, ""
		relaxed.KeyNameKey, relaxed.KeyNameKeyFile = "", ""
		// Credentials only stop the password from being judged here; the
		// URL, the variables and the password file are read below. The
		// file goes too: with Credentials set it would be a second source
		// of the password, which the library refuses.
		relaxed.Credentials = func(context.Context) (redsafe.Credentials, error) { return redsafe.Credentials{}, nil }
		relaxed.PasswordFile = ""
		if conn, err = connectionOf(ctx, relaxed); errors.Is(err, redsafe.ErrNoMaster) {
			return nil, noMaster(err)
		} else if err != nil {
			return nil, fmt.Errorf("the connection settings cannot be used: %s; run `redsafe check` for each problem and its fix", configProblems(err))
		}
		if conn.Username, conn.Password, err = credentialsOf(o); err != nil {
			return nil, err
		}
	}
	ep.addr, ep.host, ep.db, ep.tls, ep.nodeRoots = conn.Addr, conn.Host, conn.DB, conn.TLS, conn.NodeRootCAs
	ep.username, ep.password, ep.sentinels = conn.Username, conn.Password, conn.Sentinels
	if u, err := redisurl.Parse(o.URL); err == nil && u.Username != "" && !u.HasPassword && o.Username == "" && ep.password == "" {
		ep.userHidden = true
	}
	if o.Credentials != nil {
		c, err := o.Credentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("the credentials function failed: %w", err)
		}
		ep.username, ep.password, ep.userHidden = c.Username, c.Password, false
	}
	return ep, nil
}

// connectionOf is o's Connection; for a URL naming Sentinels, the
// Connection to the master they name now (MasterConnection), with the
// Sentinels' own address, credentials and TLS settings.
func connectionOf(ctx context.Context, o redsafe.Options) (*redsafe.Connection, error) {
	conn, err := o.Connection()
	if errors.Is(err, redsafe.ErrSentinelConnection) {
		return o.MasterConnection(ctx)
	}
	return conn, err
}

// noMaster says what to check when no Sentinel named the master. err
// names each Sentinel's refusal, never a password.
func noMaster(err error) error {
	return fmt.Errorf("%w; check that the URL names the Sentinels (their TLS ports) and master_set= the name they monitor, and that %s and %s (or %s) are the Sentinels' user and password", err, redsafe.EnvSentinelUsername, redsafe.EnvSentinelPassword, redsafe.EnvSentinelPasswordFile)
}

// credentialsOf applies the rules of the environment contract: the URL's
// user and password win over REDIS_USERNAME and REDIS_PASSWORD (a conflict
// between them is an error that Connection has reported already), and
// REDIS_PASSWORD_FILE holds the password when it is set.
func credentialsOf(o redsafe.Options) (user, password string, err error) {
	user, password = o.Username, o.Password
	if u, err := redisurl.Parse(o.URL); err == nil {
		if u.Username != "" {
			user = u.Username
		}
		if u.HasPassword && u.Password != "" {
			password = u.Password
		}
	}
	if o.PasswordFile != "" && password == "" {
		if password, err = secretfile.ReadLine(o.PasswordFile, secretfile.Named); err != nil {
			return "", "", fmt.Errorf("%s: %w", redsafe.EnvPasswordFile, err)
		}
	}
	return user, password, nil
}

// configProblems lists the ids of a *ConfigError's error findings, which
// never contain a secret.
func configProblems(err error) string {
	var ce *redsafe.ConfigError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	var msgs []string
	for _, f := range ce.Report.Errors() {
		msgs = append(msgs, f.ID+": "+f.Message)
	}
	return strings.Join(msgs, "; ")
}

// at is ep aimed at another node of its cluster. The node's certificate
// must cover the host it is reached by, unless the service names one
// server name for every node (REDIS_TLS_SERVER_NAME).
func (ep *endpoint) at(addr string) *endpoint {
	n := *ep
	n.addr = addr
	n.host, _, _ = net.SplitHostPort(addr)
	n.tls = topology.TLSFor(ep.tls, ep.nodeRoots, ep.addr, addr)
	return &n
}

// sentinelAt is ep (the master's) aimed at a Sentinel of sn, logged into
// with the Sentinels' credentials. A Sentinel the URL names (named) is
// verified as the service verifies it; one that only a Sentinel reported
// gets the CA file's roots alone, as a cluster's nodes do (topology.TLSFor).
func (ep *endpoint) sentinelAt(sn *redsafe.Sentinels, addr string, named bool) *endpoint {
	n := *ep
	n.addr = addr
	n.host, _, _ = net.SplitHostPort(addr)
	n.db = 0 // a Sentinel has no databases: SELECT would fail
	n.username, n.password, n.userHidden = sn.Username, sn.Password, false
	n.sealer = nil
	roots := ep.nodeRoots
	if named {
		roots = nil
	}
	n.tls = topology.TLSFor(sn.TLS, roots, sn.Addrs[0], addr)
	return &n
}

// serverName is the name the certificate must cover.
func (ep *endpoint) serverName() string {
	if ep.tls != nil && ep.tls.ServerName != "" {
		return ep.tls.ServerName
	}
	return ep.host
}

// shown names the user in findings and errors.
func (ep *endpoint) shown() string {
	if ep.userHidden {
		return "the user named in the URL"
	}
	return ep.user()
}

// user is the ACL user the audit runs as.
func (ep *endpoint) user() string {
	if ep.username == "" {
		return "default"
	}
	return ep.username
}
