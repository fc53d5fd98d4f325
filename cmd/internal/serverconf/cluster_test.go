package serverconf

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestClusterOfRenderedNodes: three nodes running the redis.conf and ACL
// file serverconf renders for a cluster (TLS on clients, the bus and
// replication; the bus authenticated by client certificates) form a
// cluster, and the library, as the app user, reads and writes across its
// slots, finding the nodes itself.
func TestClusterOfRenderedNodes(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	users := NewUsers(redsafe.Production)
	repl := User{Name: ReplicationName, Password: redsafe.GeneratePassword(redsafe.Production)}
	spec := Spec{Environment: redsafe.Production, Cluster: &ClusterNode{Replication: repl}}
	var servers []*testServer
	var nodes []redisserver.Node
	for range 3 {
		s := startServerWith(t, spec, users, pki)
		servers = append(servers, s)
		nodes = append(nodes, redisserver.Node{Addr: s.Addr, BusPort: s.Spec.Cluster.BusPort, Do: s.adminDo})
	}
	if !hasLine(servers[0].Conf, "tls-cluster yes") || !hasLine(servers[0].Conf, "masteruser "+ReplicationName) {
		t.Fatalf("redis.conf of a node:\n%s", servers[0].Conf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := redisserver.FormCluster(ctx, nodes, 3); err != nil {
		t.Fatal(err)
	}

	o := opts(servers[0], seal.GenerateKey().Encode())
	c, err := redsafe.Open(testContext(t), o)
	if err != nil {
		t.Fatalf("Open as the app user on the cluster: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	served := map[string]bool{}
	for i := range 30 {
		k := fmt.Sprintf("order:%d", i)
		if err := c.Set(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatalf("Set %s: %v", k, err)
		}
		for _, s := range servers {
			if raw := s.admin(t, "GET", k); strings.HasPrefix(raw, "gAAAAA") {
				served[s.Addr] = true
			}
		}
	}
	if len(served) != 3 {
		t.Fatalf("the keys landed on %d of 3 masters", len(served))
	}
	// The replication user can replicate, not read.
	if reply := do(t, servers[1].login(t, repl), "GET", "order:1"); !strings.Contains(reply, "NOPERM") {
		t.Fatalf("the replication user's GET: %s", reply)
	}
}
