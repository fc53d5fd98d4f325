package serverconf

import (
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"strings"

	"github.com/redsafe/redsafe"
)

// Spec describes a TLS-only Redis server. Paths are as the server sees them
// (host paths for `redsafe up`, container paths in the compose deployment)
// and must be absolute: redis resolves relative paths against a working
// directory that `dir` changes while the config is loaded.
type Spec struct {
	Environment redsafe.Environment // tls-protocols: "TLSv1.3" in production, "TLSv1.2 TLSv1.3" otherwise; "" => production
	Port        int                 // tls-port; 0 => 6380. The plaintext port is always `port 0`.
	Bind        []string            // default {"127.0.0.1", "-::1"}
	TLSDir      string              // holds ca.crt, server.crt, server.key (as written by `redsafe certs`)
	MutualTLS   bool                // tls-auth-clients yes (else no)
	ACLFile     string              // aclfile path
	DataDir     string              // dir
	PidFile     string              // "" => none
	LogFile     string              // "" => stdout
	MaxClients  int                 // 0 => 1000
	MaxMemory   string              // "" => "256mb"
	KeyPattern  string              // app user's key pattern, "" => "*"
	// Cluster, when set, makes the server a node of a Redis Cluster.
	Cluster *ClusterNode
	// Monitored, when set, makes the server a data node of a Sentinel
	// deployment (see SentinelSpec for the Sentinels).
	Monitored *MonitoredNode
}

// MonitoredNode is what a data node of a Sentinel deployment adds to a
// Spec: replication over TLS as the replication user, on the master too
// (a failover turns it into a replica, and Sentinel changes only whom it
// replicates), the master it replicates at setup, and the user the
// Sentinels log in as (SentinelMonitorRules). The replication password
// makes redis.conf a secret: write it 0600.
type MonitoredNode struct {
	Replication User
	Monitor     User   // sentinel auth-user on the Sentinels
	ReplicaOf   string // host:port of the master at setup; "" for the master
}

// ClusterNode is what a Redis Cluster node adds to a Spec. TLS covers the
// cluster bus (tls-cluster) and replication (tls-replication) as well as
// clients, and the bus demands a client certificate of every node: each
// presents TLSDir's client.crt, signed by the same CA (`redsafe certs
// --client node`).
type ClusterNode struct {
	BusPort    int    // cluster-port; 0 => Port + 10000
	ConfigFile string // cluster-config-file, absolute: the node's own state
	// Replication is the user a replica authenticates to its master as
	// (masteruser, masterauth). The password makes redis.conf a secret:
	// write it 0600.
	Replication User
}

// Defaults applied by normalize.
const (
	DefaultPort       = 6380
	DefaultMaxClients = 1000
	DefaultMaxMemory  = "256mb"
	DefaultKeyPattern = "*"
)

// DefaultBind listens on loopback only, IPv6 if the host has it.
var DefaultBind = []string{"127.0.0.1", "-::1"}

// The TLS material inside Spec.TLSDir, named as `redsafe certs` writes it;
// the client pair (the health check's, with MutualTLS) is what `redsafe
// certs --client client` writes, as `redsafe conf --mutual-tls` does.
const (
	CAFileName         = "ca.crt"
	ServerCertFileName = "server.crt"
	ServerKeyFileName  = "server.key"
	ClientCertFileName = "client.crt"
	ClientKeyFileName  = "client.key"
)

// environment is the Spec's environment with the fail-closed default:
// anything that is not a known non-production environment is production.
func (s Spec) environment() redsafe.Environment {
	switch s.Environment {
	case redsafe.Staging, redsafe.Development, redsafe.Testing:
		return s.Environment
	}
	return redsafe.Production
}

// TLSProtocols is the tls-protocols value for the Spec's environment.
func (s Spec) TLSProtocols() string {
	if s.environment() == redsafe.Production {
		return "TLSv1.3"
	}
	return "TLSv1.2 TLSv1.3"
}

// CAFile, CertFile and KeyFile are the server's TLS files.
func (s Spec) CAFile() string   { return path.Join(s.TLSDir, CAFileName) }
func (s Spec) CertFile() string { return path.Join(s.TLSDir, ServerCertFileName) }
func (s Spec) KeyFile() string  { return path.Join(s.TLSDir, ServerKeyFileName) }

var portRE = regexp.MustCompile(`^[1-9][0-9]{0,4}$`)

var maxMemoryRE = regexp.MustCompile(`^(?i)[0-9]+([kmg]b?)?$`)

// normalize fills the defaults and rejects anything that is not what it
// looks like. Every error names the field and what to do.
func (s Spec) normalize() (Spec, error) {
	s.Environment = s.environment()
	if s.Port == 0 {
		s.Port = DefaultPort
	}
	if len(s.Bind) == 0 {
		s.Bind = DefaultBind
	}
	if s.MaxClients == 0 {
		s.MaxClients = DefaultMaxClients
	}
	if s.MaxMemory == "" {
		s.MaxMemory = DefaultMaxMemory
	}
	if s.KeyPattern == "" {
		s.KeyPattern = DefaultKeyPattern
	}
	var errs []error
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is out of range 1-65535", s.Port))
	}
	for _, b := range s.Bind {
		if err := checkBind(b); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range []struct {
		name, value string
		required    bool
	}{
		{"TLSDir", s.TLSDir, true}, {"ACLFile", s.ACLFile, true}, {"DataDir", s.DataDir, true},
		{"PidFile", s.PidFile, false}, {"LogFile", s.LogFile, false},
	} {
		if err := checkPath(p.name, p.value, p.required); err != nil {
			errs = append(errs, err)
		}
	}
	if s.MaxClients < 1 {
		errs = append(errs, fmt.Errorf("MaxClients %d must be at least 1", s.MaxClients))
	}
	if digits := strings.TrimRight(strings.ToLower(s.MaxMemory), "kmgb"); !maxMemoryRE.MatchString(s.MaxMemory) || strings.Trim(digits, "0") == "" {
		// "0" means no limit in redis: the eviction policy would never act
		// and the server could take all the host's memory.
		errs = append(errs, fmt.Errorf("MaxMemory %q must be a positive size such as 256mb or 1gb", s.MaxMemory))
	}
	if err := checkKeyPattern(s.KeyPattern); err != nil {
		errs = append(errs, err)
	}
	if n := s.Cluster; n != nil {
		c := *n
		if c.BusPort == 0 {
			c.BusPort = s.Port + 10000
		}
		if c.BusPort < 1 || c.BusPort > 65535 || c.BusPort == s.Port {
			errs = append(errs, fmt.Errorf("cluster bus port %d must be in 1-65535 and differ from the TLS port", c.BusPort))
		}
		if err := checkPath("Cluster.ConfigFile", c.ConfigFile, true); err != nil {
			errs = append(errs, err)
		}
		if !userNameRE.MatchString(c.Replication.Name) || c.Replication.Password == "" {
			errs = append(errs, errors.New("Cluster.Replication needs a plain user name and a password"))
		}
		if strings.ContainsAny(c.Replication.Password, "\r\n") {
			errs = append(errs, errors.New("the replication password must be one line"))
		}
		s.Cluster = &c
	}
	if m := s.Monitored; m != nil {
		if s.Cluster != nil {
			errs = append(errs, errors.New("a server is a cluster node or a Sentinel deployment's data node, not both"))
		}
		for _, u := range []User{m.Replication, m.Monitor} {
			if !userNameRE.MatchString(u.Name) || u.Password == "" || strings.ContainsAny(u.Password, "\r\n") {
				errs = append(errs, fmt.Errorf("Monitored: user %q needs a plain name and a one-line password", u.Name))
			}
		}
		if m.ReplicaOf != "" {
			if host, port, err := net.SplitHostPort(m.ReplicaOf); err != nil || net.ParseIP(host) == nil || !portRE.MatchString(port) {
				errs = append(errs, fmt.Errorf("Monitored.ReplicaOf %q must be IP:port", m.ReplicaOf))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("serverconf: %w", err)
	}
	return s, nil
}

// checkPath refuses what cannot be written into redis.conf, the compose
// file or a shell command without changing their meaning. Quoting could
// carry most of these characters, but a path that needs it is far more
// likely a mistake or an attack than a real directory.
func checkPath(name, p string, required bool) error {
	switch {
	case p == "" && !required:
		return nil
	case p == "":
		return fmt.Errorf("%s is required", name)
	case strings.ContainsAny(p, "\"'\\`"):
		return fmt.Errorf("%s %q contains a quote or backslash; choose a plain path", name, p)
	case strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("%s %q contains a newline or control character", name, p)
	case !path.IsAbs(p):
		return fmt.Errorf("%s %q must be absolute", name, p)
	}
	return nil
}

// checkBind accepts what redis's bind takes: an IP address or * / ::*,
// optionally prefixed with "-" (skip if the address is unavailable).
func checkBind(b string) error {
	a := strings.TrimPrefix(b, "-")
	if a == "*" || a == "::*" || net.ParseIP(a) != nil {
		return nil
	}
	return fmt.Errorf("bind address %q is not an IP address, * or ::* (redis binds addresses, not host names)", b)
}

// checkKeyPattern refuses anything that would be more than one ACL rule:
// a space would let a "pattern" such as "* +@all" grant every command.
func checkKeyPattern(p string) error {
	switch {
	case strings.HasPrefix(p, "~") || strings.HasPrefix(p, "%"):
		return fmt.Errorf("key pattern %q: give the pattern without the ACL prefix, e.g. app:*", p)
	case strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return fmt.Errorf("key pattern %q must not contain spaces or control characters", p)
	}
	return nil
}
