package redisserver

import (
	"context"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/certs"
)

// ClusterConfig describes a Redis Cluster of TLS-only nodes: TLS on the
// client port, the cluster bus and replication, one CA for every node, the
// same ACL users on each (Redis does not replicate ACLs), and a
// replication user with only what a replica needs.
type ClusterConfig struct {
	Masters  int // default 3
	Replicas int // replicas of each master; default 0
	// Users are the ACL users of every node. Users[0] is the admin the
	// harness works as: give it "~* &* +@all".
	Users []User
	// Node adjusts the Config of node i (masters first, then replicas in
	// master order) before it starts: one misconfigured node.
	Node func(i int, c *Config)
	// PlaintextBus turns tls-cluster off on every node: the bus and the
	// ports CLUSTER SLOTS announces are plaintext ones (a misconfiguration
	// under test).
	PlaintextBus bool
}

// clusterNode is what makes a Config a cluster node.
type clusterNode struct {
	user, password string // masteruser, masterauth
	plaintextBus   bool
}

// Cluster is a running Redis Cluster owned by one test.
type Cluster struct {
	Nodes    []*Server // masters first, then replicas
	Masters  []*Server
	Replicas []*Server
	CA       *certs.Authority
	// CAFile is the CA every node's certificate chains to.
	CAFile string
}

// replicationUser is the ACL user replicas authenticate to their master
// as: PSYNC, REPLCONF and PING, nothing else.
const replicationUser = "replication"

// StartCluster starts the nodes, assigns the 16384 slots evenly to the
// masters, attaches the replicas, and returns once every node reports
// cluster_state:ok and every replica's link to its master is up. Every
// node is stopped by t.Cleanup, even when the test fails.
func StartCluster(t testing.TB, cc ClusterConfig) *Cluster {
	t.Helper()
	if cc.Masters == 0 {
		cc.Masters = 3
	}
	if len(cc.Users) == 0 {
		t.Fatal("redisserver: StartCluster needs Users, Users[0] being the admin")
	}
	ca, err := certs.NewAuthority("redisserver cluster CA "+randomHex(6), certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repl := User{Name: replicationUser, Password: randomHex(32), Rules: "+psync +replconf +ping"}
	users := append(append([]User{}, cc.Users...), repl)
	cl := &Cluster{CA: ca}
	total := cc.Masters * (1 + cc.Replicas)
	for i := range total {
		cfg := Config{
			Users: users, DisableDefaultUser: true, CA: ca,
			cluster: &clusterNode{user: repl.Name, password: repl.Password, plaintextBus: cc.PlaintextBus},
		}
		if cc.Node != nil {
			cc.Node(i, &cfg)
		}
		s := Start(t, cfg)
		cl.Nodes = append(cl.Nodes, s)
		if i < cc.Masters {
			cl.Masters = append(cl.Masters, s)
		} else {
			cl.Replicas = append(cl.Replicas, s)
		}
	}
	cl.CAFile = cl.Nodes[0].CAFile
	if err := cl.form(); err != nil {
		t.Fatalf("redisserver: form the cluster: %v", err)
	}
	return cl
}

// form makes the nodes one cluster, as the admin user.
func (cl *Cluster) form() error {
	nodes := make([]Node, len(cl.Nodes))
	for i, s := range cl.Nodes {
		nodes[i] = Node{Addr: s.Addr, BusPort: s.BusPort, Do: func(args ...string) (string, error) {
			return s.do(s.Addr, s.adminTLS(), args...)
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*StartTimeout)
	defer cancel()
	return FormCluster(ctx, nodes, len(cl.Masters))
}

// URL is a rediss:// URL naming every master as a seed: the first as the
// host, the others as addr= parameters.
func (cl *Cluster) URL(user string) string {
	u := cl.Masters[0].URL(user, "")
	var q []string
	for _, m := range cl.Masters[1:] {
		q = append(q, "addr="+m.Addr)
	}
	if len(q) > 0 {
		u = strings.TrimSuffix(u, "/0") + "?" + strings.Join(q, "&")
	}
	return u
}

// MasterOf returns the master that serves key's slot now: the one that
// answers for it instead of redirecting with MOVED.
func (cl *Cluster) MasterOf(t testing.TB, key string) *Server {
	t.Helper()
	for _, m := range cl.Masters {
		if r := m.Do(t, "EXISTS", key); !strings.HasPrefix(r, "-MOVED") {
			return m
		}
	}
	t.Fatalf("no master serves the key's slot")
	return nil
}
