package passrotate

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestRotateOnEveryNode: on a cluster of three masters with a replica
// each, the rotation finds all six nodes, adds the new password on every
// one, and removes the old one only once the new one logs in everywhere:
// with one node missing it, nothing is removed on any node.
func TestRotateOnEveryNode(t *testing.T) {
	t.Parallel()
	adminPW := redsafe.GeneratePassword(redsafe.Production)
	oldPW, newPW := redsafe.GeneratePassword(redsafe.Production), redsafe.GeneratePassword(redsafe.Production)
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 3, Replicas: 1, Users: []redisserver.User{
		{Name: "admin", Password: adminPW, Rules: "~* &* +@all"},
		{Name: "app", Password: oldPW, Rules: "~* +@all -@dangerous"},
	}})
	seed := Server{Addr: cl.Masters[1].Addr, TLS: cl.Masters[1].TLSConfig(), AdminUser: "admin", AdminPassword: adminPW}
	nodes, err := seed.Nodes()
	if err != nil || len(nodes) != 6 {
		t.Fatalf("Nodes = %d, %v; want the 6 nodes", len(nodes), err)
	}
	if _, err := AddAll(nodes, "app", oldPW, newPW); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		for _, pw := range []string{oldPW, newPW} {
			if err := n.Login("app", pw); err != nil {
				t.Fatalf("%s after AddAll: %v", n.Addr, err)
			}
		}
	}

	// One node loses the new password (an ACL change made by hand, a node
	// restarted from an old file): --remove-old must touch no node.
	lagging := cl.Replicas[2]
	if r := lagging.Do(t, "ACL", "SETUSER", "app", "<"+newPW); r != "+OK" {
		t.Fatal(r)
	}
	_, err = RemoveOthersAll(nodes, "app", newPW)
	if err == nil || !strings.Contains(err.Error(), lagging.Addr) {
		t.Fatalf("RemoveOthersAll with %s lacking the new password: %v", lagging.Addr, err)
	}
	for _, n := range nodes {
		if err := n.Login("app", oldPW); err != nil {
			t.Fatalf("the old password was removed on %s although a node lacked the new one: %v", n.Addr, err)
		}
	}

	if r := lagging.Do(t, "ACL", "SETUSER", "app", ">"+newPW); r != "+OK" {
		t.Fatal(r)
	}
	res, err := RemoveOthersAll(nodes, "app", newPW)
	if err != nil || res.Removed != 6 {
		t.Fatalf("RemoveOthersAll = %+v, %v", res, err)
	}
	for _, n := range nodes {
		if n.Login("app", oldPW) == nil {
			t.Fatalf("the old password still logs in on %s", n.Addr)
		}
		if err := n.Login("app", newPW); err != nil {
			t.Fatalf("%s: %v", n.Addr, err)
		}
	}
	if strings.Contains(res.SaveNote, newPW) || strings.Contains(res.SaveNote, oldPW) {
		t.Fatal("a note holds a password")
	}
}
