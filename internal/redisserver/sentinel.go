package redisserver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
)

// SentinelConfig describes a Redis Sentinel deployment of TLS-only
// processes: a master, its replicas and the Sentinels that watch it, one
// CA for all, the same ACL users on every data node (Redis does not
// replicate ACLs), replication over TLS as a user with only what a replica
// needs, and the Sentinels logging into the data nodes as a user with
// only what a Sentinel needs.
type SentinelConfig struct {
	Replicas  int // default 1
	Sentinels int // default 3
	// Users are the ACL users of the data nodes. Users[0] is the admin
	// the harness works as: give it "~* &* +@all".
	Users []User
	// SentinelUsers are the Sentinels' own ACL users, which clients log
	// into them as; the default user is off there too. Default: an admin
	// with +@all under SentinelAdmin's password.
	SentinelUsers []User
	// DownAfter is down-after-milliseconds: how long a master may not
	// answer before a Sentinel thinks it down. Default 1 s.
	DownAfter time.Duration
}

// Sentinel is a running Sentinel deployment owned by one test.
type Sentinel struct {
	Master    *Server // the master at the start; a failover moves the role
	Replicas  []*Server
	Sentinels []*Server
	MasterSet string // the name the Sentinels monitor the master as
	CA        *certs.Authority
	CAFile    string
	// MonitorUser is the data nodes' user the Sentinels log in as, with
	// the documented minimal rules (MonitorRules).
	MonitorUser, MonitorPassword string
}

// SentinelFailoverTimeout is the Sentinels' failover-timeout. A failover
// that fails (an election no Sentinel wins, on a busy machine) is tried
// again only twice this long after it began.
const SentinelFailoverTimeout = 10 * time.Second

// MasterSetName is the master set of StartSentinel's deployments.
const MasterSetName = "redsafe"

// Users of a Sentinel deployment, besides the configured ones.
const (
	monitorUser = "sentinel"
	// MonitorRules is what a Sentinel needs on a data node, as Redis's
	// Sentinel documentation lists it.
	MonitorRules = "allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill"
	peerUser     = "sentinel-peer" // the Sentinels log into each other as it
)

// StartSentinel starts the master, then the replicas (replicaof the
// master, over TLS), then the Sentinels, and returns once every replica's
// link is up and every Sentinel knows the replicas and the other
// Sentinels. Every process is stopped by t.Cleanup, even when the test
// fails.
func StartSentinel(t testing.TB, sc SentinelConfig) *Sentinel {
	t.Helper()
	if sc.Replicas == 0 {
		sc.Replicas = 1
	}
	if sc.Sentinels == 0 {
		sc.Sentinels = 3
	}
	if sc.DownAfter == 0 {
		sc.DownAfter = time.Second
	}
	if len(sc.Users) == 0 {
		t.Fatal("redisserver: StartSentinel needs Users, Users[0] being the admin")
	}
	ca, err := certs.NewAuthority("redisserver sentinel CA "+randomHex(6), certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repl := User{Name: replicationUser, Password: randomHex(32), Rules: "+psync +replconf +ping"}
	monitor := User{Name: monitorUser, Password: randomHex(32), Rules: MonitorRules}
	users := append(append([]User{}, sc.Users...), repl, monitor)
	sn := &Sentinel{MasterSet: MasterSetName, CA: ca, MonitorUser: monitor.Name, MonitorPassword: monitor.Password}
	node := func(of string) *Server {
		return Start(t, Config{Users: users, DisableDefaultUser: true, CA: ca,
			replication: &replicationLink{user: repl.Name, password: repl.Password, of: of}})
	}
	sn.Master = node("")
	sn.CAFile = sn.Master.CAFile
	for range sc.Replicas {
		sn.Replicas = append(sn.Replicas, node(sn.Master.Addr))
	}
	peer := User{Name: peerUser, Password: randomHex(32), Rules: "+@all &__sentinel__:hello"} // Sentinels also PUBLISH hellos to each other
	sentinelUsers := sc.SentinelUsers
	if len(sentinelUsers) == 0 {
		sentinelUsers = []User{{Name: "admin", Password: sc.Users[0].Password, Rules: "+@all"}}
	}
	for range sc.Sentinels {
		sn.Sentinels = append(sn.Sentinels, Start(t, Config{
			Users: append(append([]User{}, sentinelUsers...), peer), DisableDefaultUser: true, CA: ca,
			sentinel: &sentinelNode{master: sn.Master.Addr, quorum: sc.Sentinels/2 + 1, downAfter: sc.DownAfter,
				authUser: monitor.Name, authPass: monitor.Password, peerUser: peer.Name, peerPass: peer.Password},
		}))
	}
	deadline := time.Now().Add(3 * StartTimeout)
	for _, r := range sn.Replicas {
		for !strings.Contains(r.Do(t, "INFO", "replication"), "master_link_status:up") {
			if time.Now().After(deadline) {
				t.Fatalf("redisserver: replica %s never linked to %s", r.Addr, sn.Master.Addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	want := fmt.Sprintf("num-slaves\n%d", sc.Replicas)
	wantPeers := fmt.Sprintf("num-other-sentinels\n%d", sc.Sentinels-1)
	for _, s := range sn.Sentinels {
		for {
			m := s.Do(t, "SENTINEL", "MASTER", MasterSetName)
			if strings.Contains(m, want) && strings.Contains(m, wantPeers) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redisserver: Sentinel %s does not know the deployment yet:\n%s", s.Addr, m)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return sn
}

// replicationLink is what makes a Config a data node of a Sentinel
// deployment: the replication user, and the master to replicate (of),
// "" for the master.
type replicationLink struct {
	user, password, of string
}

// sentinelNode is what makes a Config a Sentinel.
type sentinelNode struct {
	master             string // host:port of the master to monitor
	quorum             int
	downAfter          time.Duration
	authUser, authPass string // on the data nodes
	peerUser, peerPass string // on the other Sentinels
}

// sentinelConf renders a Sentinel's configuration: TLS on its port and on
// its links to the data nodes and the other Sentinels, its own ACL users
// inline (a Sentinel rewrites this file, and keeps them in it).
func sentinelConf(c Config, f files, p ports) string {
	n := c.sentinel
	var b confLines
	line := b.line
	host, port, _ := strings.Cut(n.master, ":")
	line("bind", "127.0.0.1")
	line("protected-mode", "yes")
	line("dir", ConfQuote(f.dir))
	line("logfile", ConfQuote(f.log))
	line("pidfile", ConfQuote(f.pid))
	line("hz", "100")
	line("port", "0")
	line("tls-port", fmt.Sprint(p.main))
	line("tls-cert-file", ConfQuote(f.cert))
	line("tls-key-file", ConfQuote(f.key))
	line("tls-ca-cert-file", ConfQuote(f.ca))
	line("tls-auth-clients", "no")
	line("tls-replication", "yes") // the Sentinel's own links to the data nodes
	line("sentinel", "monitor", MasterSetName, host, port, fmt.Sprint(n.quorum))
	line("sentinel", "down-after-milliseconds", MasterSetName, fmt.Sprint(n.downAfter.Milliseconds()))
	line("sentinel", "failover-timeout", MasterSetName, fmt.Sprint(SentinelFailoverTimeout.Milliseconds()))
	line("sentinel", "auth-user", MasterSetName, n.authUser)
	line("sentinel", "auth-pass", MasterSetName, ConfQuote(n.authPass))
	line("sentinel", "sentinel-user", n.peerUser)
	line("sentinel", "sentinel-pass", ConfQuote(n.peerPass))
	b.WriteString(aclFile(c))
	return b.String()
}
