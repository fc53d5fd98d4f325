package redisserver

import (
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/resp"
)

// A Sentinel deployment of TLS-only processes forms: the replica links to
// the master over TLS as the replication user, every Sentinel names the
// master and speaks TLS only, and a failover that one Sentinel starts
// moves the master role to the replica, which all of them then name.
func TestSentinelForms(t *testing.T) {
	t.Parallel()
	sn := StartSentinel(t, SentinelConfig{Users: []User{{Name: "admin", Password: randomHex(16), Rules: "~* &* +@all"}}})
	if len(sn.Replicas) != 1 || len(sn.Sentinels) != 3 {
		t.Fatalf("%d replicas, %d Sentinels", len(sn.Replicas), len(sn.Sentinels))
	}
	masterAddr := func(s *Server) string {
		r := s.Do(t, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterSetName)
		f := strings.Fields(r)
		if len(f) != 2 {
			t.Fatalf("GET-MASTER-ADDR-BY-NAME on %s: %q", s.Addr, r)
		}
		return f[0] + ":" + f[1]
	}
	for _, s := range sn.Sentinels {
		if got := masterAddr(s); got != sn.Master.Addr {
			t.Errorf("%s names %s as the master, want %s", s.Addr, got, sn.Master.Addr)
		}
		if resp.AnswersPlaintext(s.Addr, time.Second) {
			t.Errorf("Sentinel %s answers plaintext", s.Addr)
		}
	}
	if r := sn.Master.Do(t, "SET", "k", "v"); r != "+OK" {
		t.Fatal(r)
	}
	replica := sn.Replicas[0]
	deadline := time.Now().Add(10 * time.Second)
	for replica.Do(t, "GET", "k") != "v" {
		if time.Now().After(deadline) {
			t.Fatal("the write never reached the replica")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := sn.Sentinels[0].Do(t, "SENTINEL", "FAILOVER", MasterSetName); r != "+OK" {
		t.Fatalf("SENTINEL FAILOVER: %s", r)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		role, _ := replica.Ask("ROLE") // the Sentinels drop its clients as they promote it
		moved := strings.Contains(role, "master")
		for _, s := range sn.Sentinels {
			moved = moved && masterAddr(s) == replica.Addr
		}
		if moved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SENTINEL FAILOVER the replica is not master everywhere: ROLE %q", role)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// (The Sentinels make the old master a replica of the new one at their
	// next INFO of it, up to 10 s later: the library's failover tests wait
	// for that where they need it.)
}
