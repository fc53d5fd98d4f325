package redisserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
)

// User is an extra ACL user. Rules are raw ACL rules such as
// "~app:* +@all -@dangerous"; empty Rules grant nothing, as in Redis.
// An empty Password makes the user "nopass".
type User struct {
	Name, Password, Rules string
}

// Config describes one server. The zero value is a TLS server on a free
// port whose default user has a random password.
type Config struct {
	Plaintext          bool   // no TLS at all: the main port speaks plain RESP
	Password           string // default user's password; "" => random unless NoAuth
	NoAuth             bool   // default user is nopass
	Users              []User // extra ACL users (written to an ACL file with hashed passwords)
	DisableDefaultUser bool   // default user off; Do then authenticates as Users[0]
	MutualTLS          bool   // tls-auth-clients yes
	TLSProtocols       string // default "TLSv1.2 TLSv1.3"
	KeyType            certs.KeyType
	Hosts              []string // server certificate SANs; default localhost,127.0.0.1,::1
	// CertNotBefore/CertNotAfter set the server certificate validity, e.g.
	// in the past to test expired-certificate handling. Zero => certs defaults.
	CertNotBefore, CertNotAfter time.Time
	ExtraPlaintextPort          bool     // TLS server also listening on a plaintext port
	ExtraConfig                 []string // raw redis.conf lines, appended last

	// CA, when set, signs this server's certificates instead of a CA of
	// its own: the nodes of one cluster share it.
	CA *certs.Authority
	// cluster makes the server a Redis Cluster node (StartCluster).
	cluster *clusterNode
	// replication makes it a master or replica of a Sentinel deployment
	// (StartSentinel); sentinel makes it one of the Sentinels.
	replication *replicationLink
	sentinel    *sentinelNode
}

var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// normalize fills defaults and rejects contradictory settings early, with a
// message, rather than producing a server that silently means something else.
func (c Config) normalize() (Config, error) {
	switch {
	case c.NoAuth && c.Password != "":
		return c, errors.New("NoAuth and Password are mutually exclusive")
	case c.NoAuth && c.DisableDefaultUser:
		return c, errors.New("NoAuth and DisableDefaultUser are mutually exclusive")
	case c.DisableDefaultUser && len(c.Users) == 0:
		return c, errors.New("DisableDefaultUser needs at least one entry in Users")
	case c.Plaintext && (c.MutualTLS || c.ExtraPlaintextPort || c.TLSProtocols != ""):
		return c, errors.New("Plaintext cannot be combined with TLS options")
	}
	for _, u := range c.Users {
		if u.Name == "" || strings.ContainsAny(u.Name, " \t\r\n") || strings.ContainsAny(u.Rules, "\r\n") {
			return c, fmt.Errorf("invalid ACL user %q", u.Name)
		}
	}
	if strings.ContainsAny(c.TLSProtocols, "\r\n\"") {
		return c, errors.New("invalid TLSProtocols")
	}
	if c.TLSProtocols == "" {
		c.TLSProtocols = "TLSv1.2 TLSv1.3"
	}
	if c.KeyType == "" {
		c.KeyType = certs.ECDSAP256
	}
	if len(c.Hosts) == 0 {
		c.Hosts = defaultHosts
	}
	if c.Password == "" && !c.NoAuth {
		c.Password = randomHex(32)
	}
	return c, nil
}

// randomHex returns 2n hex characters from crypto/rand.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails on supported platforms (Go 1.24+ panics instead)
	return hex.EncodeToString(b)
}

// ports of one launch attempt; 0 means unused.
type ports struct{ main, plain, bus int }

// files are the absolute paths written into the server's directory.
type files struct {
	dir, conf, log, pid, acl string
	ca, cert, key            string
}

// confLines builds a redis.conf, one directive a line.
type confLines struct{ strings.Builder }

func (b *confLines) line(k string, v ...string) {
	b.WriteString(k)
	for _, x := range v {
		b.WriteString(" " + x)
	}
	b.WriteByte('\n')
}

// redisConf renders redis.conf. Values are quoted so paths and passwords
// with spaces or quotes cannot change the meaning of the file.
func redisConf(c Config, f files, p ports) string {
	if c.sentinel != nil {
		return sentinelConf(c, f, p)
	}
	var b confLines
	line := b.line
	line("daemonize", "no") // we own the process; Stop must be able to kill it
	line("bind", "127.0.0.1", "-::1")
	line("protected-mode", "yes")
	line("save", `""`)
	line("appendonly", "no")
	line("dir", ConfQuote(f.dir))
	line("logfile", ConfQuote(f.log))
	line("pidfile", ConfQuote(f.pid))
	line("loglevel", "notice")
	line("always-show-logo", "no")
	// Redis acts on SIGTERM in its cron; the default hz 10 makes every Stop
	// take ~100 ms, hz 100 ~10 ms.
	line("hz", "100")
	if c.Plaintext {
		line("port", fmt.Sprint(p.main))
	} else {
		line("port", fmt.Sprint(p.plain)) // 0 unless ExtraPlaintextPort
		line("tls-port", fmt.Sprint(p.main))
		line("tls-cert-file", ConfQuote(f.cert))
		line("tls-key-file", ConfQuote(f.key))
		line("tls-ca-cert-file", ConfQuote(f.ca))
		line("tls-auth-clients", yesNo(c.MutualTLS))
		line("tls-protocols", ConfQuote(c.TLSProtocols))
	}
	if f.acl != "" {
		line("aclfile", ConfQuote(f.acl))
	} else if !c.NoAuth {
		line("requirepass", ConfQuote(c.Password))
	}
	if n := c.cluster; n != nil {
		line("cluster-enabled", "yes")
		line("cluster-config-file", ConfQuote(f.dir+"/nodes.conf"))
		line("cluster-port", fmt.Sprint(p.bus))
		line("cluster-node-timeout", "2000")
		// The bus and replication speak TLS too, and the bus demands a
		// client certificate: each node presents the harness's client
		// certificate, signed by the cluster's CA.
		line("tls-cluster", yesNo(!n.plaintextBus))
		line("tls-replication", "yes")
		line("tls-client-cert-file", ConfQuote(f.dir+"/client.crt"))
		line("tls-client-key-file", ConfQuote(f.dir+"/client.key"))
		line("masteruser", n.user)
		line("masterauth", ConfQuote(n.password))
	}
	if r := c.replication; r != nil {
		line("tls-replication", "yes")
		line("masteruser", r.user)
		line("masterauth", ConfQuote(r.password))
		if r.of != "" {
			host, port, _ := strings.Cut(r.of, ":")
			line("replicaof", host, port)
		}
	}
	for _, x := range c.ExtraConfig {
		b.WriteString(x + "\n")
	}
	return b.String()
}

// aclFile renders the ACL file used when Users are configured. Redis does
// not allow requirepass-style config users alongside an aclfile, so the
// default user is declared here too. Passwords are stored only as hashes.
func aclFile(c Config) string {
	var b strings.Builder
	switch {
	case c.DisableDefaultUser:
		b.WriteString("user default off resetkeys resetchannels -@all\n")
	case c.NoAuth:
		b.WriteString("user default on nopass ~* &* +@all\n")
	default:
		b.WriteString("user default on " + passHash(c.Password) + " ~* &* +@all\n")
	}
	for _, u := range c.Users {
		pw := "nopass"
		if u.Password != "" {
			pw = passHash(u.Password)
		}
		b.WriteString(strings.TrimSpace("user "+u.Name+" on "+pw+" "+u.Rules) + "\n")
	}
	return b.String()
}

func passHash(pw string) string {
	h := sha256.Sum256([]byte(pw))
	return "#" + hex.EncodeToString(h[:])
}

// ConfQuote renders s as a redis.conf double-quoted string (sdssplitargs
// syntax): the one quoting of redis.conf arguments, for the test servers
// here and for serverconf's production files. Inputs are validated first;
// quoting is the second line of defence, so that even a space in a path
// cannot split it into two arguments.
func ConfQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch >= 0x20 && ch < 0x7f:
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, `\x%02x`, ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
