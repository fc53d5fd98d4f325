package redsafe

import (
	"errors"
	"net"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/secretfile"
)

// Redis Sentinel: REDIS_URL names Sentinels and the master set,
//
//	rediss://app@sentinel-1:26379/0?master_set=cache&addr=sentinel-2:26379
//
// and the Cache asks them for the master, follows a failover they announce
// (+switch-master) and asks them again every sentinelRefresh, since a
// client that hears nothing would stay bound to a partitioned old master.
// The Sentinels have their own user and password (SentinelOptions), never
// the application's: rueidis builds a Sentinel's connection by copying the
// application's options, the dial function and the credentials function
// included, so the dialer marks the connections it makes to Sentinels and
// the credentials function answers those with the Sentinel's credentials.

// SentinelOptions are the Sentinels' own credentials, for a REDIS_URL with
// master_set=. The Sentinels are reached with the same TLS settings as the
// data nodes (Options.TLS), each verified against the name it is reached
// by.
type SentinelOptions struct {
	Username string
	Password string
	// PasswordFile names a file holding the Sentinels' password on one
	// line, read at Open; keep it mode 0600. Use it instead of Password.
	PasswordFile string
}

// Sentinel environment variables.
const (
	EnvSentinelUsername     = "REDIS_SENTINEL_USERNAME"
	EnvSentinelPassword     = "REDIS_SENTINEL_PASSWORD"
	EnvSentinelPasswordFile = "REDIS_SENTINEL_PASSWORD_FILE"
)

// sentinelRefresh is how often the Sentinels are asked for the master even
// without an announcement (rueidis's TopologyRefreshInterval).
const sentinelRefresh = 2 * time.Second

// sentinelDialMark tells the dialer a connection is to a Sentinel: rueidis
// hands the dial function the Sentinel options' net.Dialer, whose
// FallbackDelay (used only when a host name has both IPv4 and IPv6
// addresses) carries this value nowhere else.
const sentinelDialMark = 300*time.Millisecond + 7*time.Nanosecond

// ErrSentinelConnection is returned by Options.Connection for a URL with
// master_set=: the operator commands reach one server directly, and the
// URL names Sentinels.
var ErrSentinelConnection = errors.New("REDIS_URL names Sentinels (master_set=): this command connects to one server directly and does not go through Sentinels yet; point REDIS_URL at the current master for it (SENTINEL GET-MASTER-ADDR-BY-NAME on a Sentinel says which)")

// sentinelConfig is what Open needs of the Sentinels.
type sentinelConfig struct {
	masterSet          string
	username, password string
	file               string // read again for every connection to a Sentinel
	policy             Policy
}

// checkSentinel validates the Sentinel settings of o against the URL.
func (s *config) checkSentinel(o Options, r *Report) {
	so := o.Sentinel
	set := s.url.MasterSet
	if set == "" {
		if so != (SentinelOptions{}) {
			r.add("sentinel.unused", SeverityWarning, "add ?master_set=NAME to "+EnvURL+" to connect through Sentinels, or unset the "+EnvSentinelPassword+" family",
				"Sentinel credentials are set, but %s names no master set: they are not used", EnvURL)
		}
		return
	}
	s.sentinel = &sentinelConfig{masterSet: set, username: so.Username, password: so.Password, policy: s.policy}
	if so.PasswordFile != "" {
		if so.Password != "" {
			r.add("sentinel.password-conflict", SeverityError, "keep the Sentinels' password in one place: unset "+EnvSentinelPassword+" or "+EnvSentinelPasswordFile,
				"both %s and %s are set", EnvSentinelPassword, EnvSentinelPasswordFile)
			return
		}
		pw, err := readPasswordFile(so.PasswordFile, EnvSentinelPasswordFile, s.policy, func(e *secretfile.ExposedError) {
			r.add("sentinel.password-file-mode", SeverityWarning, "chmod 600 the file; production and staging refuse it",
				"%s: %v", EnvSentinelPasswordFile, e)
		})
		if err != nil {
			r.add("sentinel.password-file", SeverityError, "create it with `redsafe password > FILE; chmod 600 FILE`, or fix "+EnvSentinelPasswordFile,
				"%v", err)
			return
		}
		s.sentinel.password, s.sentinel.file = pw, so.PasswordFile
	}
	strict := s.policy.Environment != Development && s.policy.Environment != Testing
	switch {
	case s.sentinel.password == "" && strict:
		r.add("sentinel.no-password", SeverityError, "give the Sentinels a user and password (sentinel.conf: user NAME on >PASSWORD ...) and set "+EnvSentinelUsername+" and "+EnvSentinelPasswordFile,
			"the Sentinels are reached without a password: anyone who can reach one can learn, and with a forged failover change, where the master is")
	case s.sentinel.password != "":
		for _, f := range passwordFindings(s.sentinel.password, s.policy) {
			f.ID = "sentinel." + strings.TrimPrefix(f.ID, "auth.")
			f.Message = "the Sentinels' password: " + f.Message
			r.Findings = append(r.Findings, f)
		}
		if s.sentinel.password == s.password {
			r.add("sentinel.same-password", SeverityWarning, "give the Sentinels' user a password of its own (`redsafe password`)",
				"the Sentinels' password is the application's: whoever holds one holds both")
		}
	}
	if !strict {
		return
	}
	// A Sentinel names the master the password goes to: with the system
	// roots, one that names a host with any public certificate gets it.
	if s.useTLS && o.TLS.CAFile == "" && o.TLS.ServerName == "" {
		r.add("sentinel.ca-required", SeverityError, "set "+EnvTLSCACert+" to the CA of the deployment's certificates",
			"through Sentinels, the master is whatever host they name; without a CA file of its own, any host with a publicly trusted certificate would pass")
	}
	if !s.useTLS {
		r.add("sentinel.plaintext", SeverityError, "use rediss:// to the Sentinels' TLS ports",
			"through Sentinels in plaintext, whoever is on the path can answer where the master is and collect the password from any machine")
	}
}

// sentinelOption points rueidis at the Sentinels: InitAddress holds them,
// and the data nodes' user and password stay the application's.
func (c *Cache) sentinelOption(s *config, opt *rueidis.ClientOption) {
	if s.sentinel == nil {
		return
	}
	opt.Sentinel = rueidis.SentinelOption{
		MasterSet:               s.sentinel.masterSet,
		Username:                s.sentinel.username,
		Password:                s.sentinel.password,
		ClientName:              "redsafe",
		TLSConfig:               s.tlsConfig,
		Dialer:                  net.Dialer{Timeout: s.dialTimeout, FallbackDelay: sentinelDialMark},
		TopologyRefreshInterval: sentinelRefresh,
	}
}

// sentinelCredentials are the credentials for a connection the dialer
// made to a Sentinel (its remote address is a sentinelAddr), the password
// file read again as REDIS_PASSWORD_FILE is, so that a rotated Sentinel
// password is picked up without a restart.
func (c *Cache) sentinelCredentials(s *config, addr net.Addr) (rueidis.AuthCredentials, bool, error) {
	if _, ok := addr.(sentinelAddr); !ok || s.sentinel == nil {
		return rueidis.AuthCredentials{}, false, nil
	}
	pw := s.sentinel.password
	if s.sentinel.file != "" {
		var err error
		if pw, err = readPasswordFile(s.sentinel.file, EnvSentinelPasswordFile, s.sentinel.policy, nil); err != nil {
			return rueidis.AuthCredentials{}, true, err
		}
	}
	return rueidis.AuthCredentials{Username: s.sentinel.username, Password: pw}, true, nil
}

// sentinelConn is a connection the dialer made to a Sentinel. It carries
// the mark itself, in the remote address rueidis hands the credentials
// function, rather than in a table of addresses: a proxy (Options.Dial)
// can give every connection one remote address, and a data node can be
// announced at an address a Sentinel had.
type sentinelConn struct{ net.Conn }

func (c sentinelConn) RemoteAddr() net.Addr { return sentinelAddr{c.Conn.RemoteAddr()} }

// sentinelAddr is the remote address of a sentinelConn.
type sentinelAddr struct{ net.Addr }

func (a sentinelAddr) Network() string {
	if a.Addr == nil {
		return "tcp"
	}
	return a.Addr.Network()
}

func (a sentinelAddr) String() string {
	if a.Addr == nil {
		return "sentinel"
	}
	return a.Addr.String()
}
