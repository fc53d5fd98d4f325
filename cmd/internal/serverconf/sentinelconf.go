package serverconf

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// SentinelSpec describes one Redis Sentinel of a deployment whose data
// nodes are Specs with Monitored set: TLS only, on its own port and on its
// links to the data nodes and the other Sentinels, its own ACL users (a
// Sentinel does not share the data nodes' users), the default user off.
// The file holds the monitor user's password in plaintext (sentinel
// auth-pass): write it 0600, and writable by the Sentinel, which rewrites
// it with what it learns.
type SentinelSpec struct {
	Environment redsafe.Environment // as Spec
	Port        int                 // tls-port, required
	Bind        []string            // default {"127.0.0.1", "-::1"}
	TLSDir      string              // as Spec: ca.crt, server.crt, server.key
	DataDir     string              // dir
	PidFile     string              // "" => none
	LogFile     string              // "" => stdout

	MasterSet string        // the name clients ask for (master_set=)
	Master    string        // IP:port of the master at setup
	Quorum    int           // Sentinels that must agree the master is down; default 2
	DownAfter time.Duration // down-after-milliseconds; default DefaultDownAfter

	Monitor User // the data nodes' user the Sentinels log in as (auth-user, auth-pass)
	Peer    User // the Sentinels log into each other as it (sentinel-user, sentinel-pass)
	Admin   User // operations on the Sentinel
	Client  User // the application's (REDIS_SENTINEL_USERNAME), SentinelClientRules
}

// DefaultDownAfter is how long a master may not answer before a Sentinel
// thinks it down: short enough that a failover ends within seconds, long
// enough that a busy local machine does not fail over for a slow PING.
// Production deployments usually choose 5 to 30 s.
const DefaultDownAfter = 2 * time.Second

// Sentinel users' rules.
const (
	// SentinelClientRules are what a client needs of a Sentinel: where
	// the master, the replicas and the other Sentinels are, and the
	// channels on which Sentinels announce a failover (rueidis subscribes
	// to them). No SENTINEL SET, FAILOVER, RESET or CONFIG: a client that
	// could run those could move the master.
	SentinelClientRules = "resetchannels &+sentinel &+slave &-sdown &+sdown &+switch-master &+reboot -@all +hello +ping +client|setname" +
		" +sentinel|get-master-addr-by-name +sentinel|sentinels +sentinel|replicas +sentinel|slaves +sentinel|master" +
		" +subscribe +unsubscribe"
	// SentinelPeerRules are what Sentinels send each other: PING, their
	// hellos (PUBLISH __sentinel__:hello), the vote of a failover
	// (SENTINEL IS-MASTER-DOWN-BY-ADDR) and the name of their link. Its
	// password is in every sentinel.conf in plaintext (sentinel-pass), so
	// it may do nothing else: no SENTINEL SET, FAILOVER or ACL.
	SentinelPeerRules = "resetchannels &__sentinel__:hello -@all +ping +publish +client|setname +sentinel|is-master-down-by-addr"
	// SentinelAdminRules: every Sentinel command, for operations.
	SentinelAdminRules = "&* +@all"
)

// Default Sentinel user names.
const (
	SentinelPeerName   = "sentinel-peer"
	SentinelClientName = "sentinel-client"
	DefaultMasterSet   = "redsafe"
)

// SentinelConf renders sentinel.conf for s, its users inline (hashed).
func SentinelConf(s SentinelSpec) ([]byte, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	var b confWriter
	comment, set := b.comment, b.set
	host, port, _ := net.SplitHostPort(s.Master)
	comment(fmt.Sprintf("sentinel.conf for a TLS-only Redis Sentinel (environment: %s), written by redsafe.", s.Environment),
		"The Sentinel rewrites this file with what it learns (replicas, other",
		"Sentinels, the current master): keep it writable by redis-server, mode 0600.",
		"Redis cannot reload a Sentinel's TLS certificate: renewing it needs a",
		"restart of each Sentinel, one at a time.")
	set("port", "0")
	set("tls-port", fmt.Sprint(s.Port))
	set("bind", s.Bind...)
	set("protected-mode", "yes")
	set("tls-cert-file", redisserver.ConfQuote(s.tlsFile(ServerCertFileName)))
	set("tls-key-file", redisserver.ConfQuote(s.tlsFile(ServerKeyFileName)))
	set("tls-ca-cert-file", redisserver.ConfQuote(s.tlsFile(CAFileName)))
	set("tls-auth-clients", "no")
	spec := Spec{Environment: s.Environment}
	set("tls-protocols", redisserver.ConfQuote(spec.TLSProtocols()))
	if s.Environment != redsafe.Production {
		set("tls-ciphers", redisserver.ConfQuote(tls12Ciphers))
	}
	comment("The Sentinel's own links, to the data nodes and to the other Sentinels, use TLS.")
	set("tls-replication", "yes")
	set("dir", redisserver.ConfQuote(s.DataDir))
	set("daemonize", "no")
	if s.PidFile != "" {
		set("pidfile", redisserver.ConfQuote(s.PidFile))
	}
	set("logfile", redisserver.ConfQuote(s.LogFile))
	comment("Addresses stay IPs (no resolve-hostnames): the server certificate lists",
		"127.0.0.1 and ::1, and a client verifies the name it is sent to.")
	set("sentinel", "monitor", s.MasterSet, host, port, fmt.Sprint(s.Quorum))
	set("sentinel", "down-after-milliseconds", s.MasterSet, fmt.Sprint(s.DownAfter.Milliseconds()))
	set("sentinel", "failover-timeout", s.MasterSet, "10000")
	set("sentinel", "parallel-syncs", s.MasterSet, "1")
	comment("The Sentinels log into the data nodes as the monitor user, and into",
		"each other as the peer user; these lines make the file a secret.")
	set("sentinel", "auth-user", s.MasterSet, s.Monitor.Name)
	set("sentinel", "auth-pass", s.MasterSet, redisserver.ConfQuote(s.Monitor.Password))
	set("sentinel", "sentinel-user", s.Peer.Name)
	set("sentinel", "sentinel-pass", redisserver.ConfQuote(s.Peer.Password))
	comment("Users: the default user off, passwords as SHA-256 hashes.")
	for _, u := range []struct {
		user  User
		rules string
	}{{User{Name: "default"}, DefaultUserRules}, {s.Admin, SentinelAdminRules}, {s.Client, SentinelClientRules}, {s.Peer, SentinelPeerRules}} {
		pw := ""
		if u.user.Password != "" {
			pw = "on " + passwordHash(u.user.Password) + " "
		}
		b.WriteString("user " + u.user.Name + " " + pw + u.rules + "\n")
	}
	return []byte(b.String()), nil
}

func (s SentinelSpec) tlsFile(name string) string { return s.TLSDir + "/" + name }

// normalize fills the defaults and refuses what is not what it looks like.
func (s SentinelSpec) normalize() (SentinelSpec, error) {
	s.Environment = Spec{Environment: s.Environment}.environment()
	if len(s.Bind) == 0 {
		s.Bind = DefaultBind
	}
	if s.Quorum == 0 {
		s.Quorum = 2
	}
	if s.DownAfter == 0 {
		s.DownAfter = DefaultDownAfter
	}
	if s.MasterSet == "" {
		s.MasterSet = DefaultMasterSet
	}
	var errs []error
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("Sentinel port %d is out of range 1-65535", s.Port))
	}
	for _, b := range s.Bind {
		if err := checkBind(b); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range []struct{ name, value string }{{"TLSDir", s.TLSDir}, {"DataDir", s.DataDir}} {
		if err := checkPath(p.name, p.value, true); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range []struct{ name, value string }{{"PidFile", s.PidFile}, {"LogFile", s.LogFile}} {
		if err := checkPath(p.name, p.value, false); err != nil {
			errs = append(errs, err)
		}
	}
	if !userNameRE.MatchString(s.MasterSet) {
		errs = append(errs, fmt.Errorf("master set %q: use letters, digits, '.', '_' and '-' only", s.MasterSet))
	}
	if host, port, err := net.SplitHostPort(s.Master); err != nil || net.ParseIP(host) == nil || !portRE.MatchString(port) {
		errs = append(errs, fmt.Errorf("Master %q must be IP:port", s.Master))
	}
	if s.Quorum < 1 || s.DownAfter < 100*time.Millisecond {
		errs = append(errs, errors.New("Quorum must be at least 1 and DownAfter at least 100ms"))
	}
	names, passwords := map[string]bool{}, map[string]bool{}
	for _, u := range []User{s.Monitor, s.Peer, s.Admin, s.Client} {
		switch problems := passwordProblems(u.Password, s.Environment); {
		case !userNameRE.MatchString(u.Name) || u.Name == "default" || names[u.Name]:
			errs = append(errs, fmt.Errorf("Sentinel user name %q: a plain, unique name other than default", u.Name))
		case len(problems) > 0:
			errs = append(errs, fmt.Errorf("the password of Sentinel user %q is refused by the %s policy: %s", u.Name, s.Environment, strings.Join(problems, "; ")))
		case passwords[u.Password]:
			errs = append(errs, fmt.Errorf("Sentinel user %q shares a password; give each its own", u.Name))
		}
		names[u.Name], passwords[u.Password] = true, true
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("serverconf: %w", err)
	}
	return s, nil
}
