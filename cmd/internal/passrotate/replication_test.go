package passrotate

import (
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestRotateReplicationUserCluster: on a cluster (one master, one
// replica), the replication user is found (the nodes' masteruser) and the
// application's is not; the rotation makes the new password every node's
// masterauth, and after the old one is removed a replica whose link is
// cut logs in again. Given the master alone, as for a single server whose
// replicas nothing finds, the rotation is refused naming the replica.
func TestRotateReplicationUserCluster(t *testing.T) {
	t.Parallel()
	adminPW := redsafe.GeneratePassword(redsafe.Production)
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 1, Replicas: 1, Users: []redisserver.User{
		{Name: "admin", Password: adminPW, Rules: "~* &* +@all"},
		{Name: "app", Password: redsafe.GeneratePassword(redsafe.Production), Rules: "~* +@all -@dangerous"},
	}})
	seed := Server{Addr: cl.Masters[0].Addr, TLS: cl.Masters[0].TLSConfig(), AdminUser: "admin", AdminPassword: adminPW}
	nodes, err := seed.Nodes()
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Nodes = %d, %v", len(nodes), err)
	}
	const user = "replication"
	for u, want := range map[string]bool{user: true, "app": false} {
		if got, err := ReplicatesAs(nodes, u); err != nil || got != want {
			t.Fatalf("ReplicatesAs(%s) = %v, %v; want %v", u, got, err, want)
		}
	}
	if _, err := ReplicatesAs([]Server{seed}, user); err == nil || !strings.Contains(err.Error(), cl.Replicas[0].Addr) {
		t.Fatalf("ReplicatesAs on the master alone: %v, want a refusal naming %s", err, cl.Replicas[0].Addr)
	}

	oldPW := strings.Split(cl.Masters[0].Do(t, "CONFIG", "GET", "masterauth"), "\n")[1]
	newPW := redsafe.GeneratePassword(redsafe.Production)
	if _, err := AddReplication(nodes, user, oldPW, newPW); err != nil {
		t.Fatal(err)
	}
	res, err := RemoveOthersReplication(nodes, user, newPW)
	if err != nil || res.Removed != 2 {
		t.Fatalf("RemoveOthersReplication = %+v, %v", res, err)
	}
	for _, n := range cl.Nodes {
		if got := strings.Split(n.Do(t, "CONFIG", "GET", "masterauth"), "\n")[1]; got != newPW {
			t.Fatalf("%s: masterauth is not the new password", n.Addr)
		}
	}
	for _, n := range nodes {
		if n.Login(user, oldPW) == nil {
			t.Fatalf("the old password still logs in on %s", n.Addr)
		}
	}
	redisserver.CutReplicaLinks(t, 10*time.Second, cl.Masters[0], cl.Replicas[0])
	if strings.Contains(res.SaveNote, newPW) || strings.Contains(res.SaveNote, oldPW) {
		t.Fatal("a note holds a password")
	}
}
