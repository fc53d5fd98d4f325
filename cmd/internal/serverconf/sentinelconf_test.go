package serverconf

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
)

func sentinelSpec() SentinelSpec {
	pw := func() string { return redsafe.GeneratePassword(redsafe.Production) }
	return SentinelSpec{
		Environment: redsafe.Production, Port: 26380, TLSDir: "/tls", DataDir: "/data", Master: "127.0.0.1:6380",
		Monitor: User{SentinelMonitorName, pw()}, Peer: User{SentinelPeerName, pw()},
		Admin: User{AdminName, pw()}, Client: User{SentinelClientName, pw()},
	}
}

// TestSentinelConf: TLS only, on the Sentinel's port and its links; the
// default user off; passwords only as hashes except the monitor user's
// auth-pass and the peer's sentinel-pass, which Redis needs in plaintext;
// the client user may not change the deployment.
func TestSentinelConf(t *testing.T) {
	s := sentinelSpec()
	b, err := SentinelConf(s)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	for _, want := range []string{"port 0\n", "tls-port 26380\n", "tls-replication yes\n", `tls-protocols "TLSv1.3"`,
		"sentinel monitor redsafe 127.0.0.1 6380 2\n", "sentinel down-after-milliseconds redsafe 2000\n",
		"sentinel auth-user redsafe sentinel\n", "user default off resetpass", "user sentinel-peer on #"} {
		if !strings.Contains(conf, want) {
			t.Errorf("sentinel.conf lacks %q", want)
		}
	}
	for _, u := range []User{s.Admin, s.Client} {
		if strings.Contains(conf, u.Password) {
			t.Errorf("the password of %s is in the file in plaintext", u.Name)
		}
	}
	for _, forbidden := range []string{"+sentinel|set", "+sentinel|failover", "+sentinel|reset", "+sentinel|config", "+@all", "allchannels"} {
		if strings.Contains(SentinelClientRules, forbidden) {
			t.Errorf("the client user's rules hold %s", forbidden)
		}
	}
}

// TestSentinelConfRefuses: what would not be what it looks like in the
// file is refused, each naming the field.
func TestSentinelConfRefuses(t *testing.T) {
	for name, change := range map[string]func(*SentinelSpec){
		"master not IP:port":        func(s *SentinelSpec) { s.Master = "redis.example:6380" },
		"master with a newline":     func(s *SentinelSpec) { s.Master = "127.0.0.1:6380\nsentinel monitor x 1.2.3.4 1 1" },
		"a weak password":           func(s *SentinelSpec) { s.Client.Password = "password123" },
		"a shared password":         func(s *SentinelSpec) { s.Client.Password = s.Admin.Password },
		"a name with a space":       func(s *SentinelSpec) { s.Client.Name = "client +@all" },
		"the default user":          func(s *SentinelSpec) { s.Admin.Name = "default" },
		"a master set with a space": func(s *SentinelSpec) { s.MasterSet = "a b" },
		"a relative directory":      func(s *SentinelSpec) { s.DataDir = "data" },
	} {
		s := sentinelSpec()
		change(&s)
		if _, err := SentinelConf(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMonitoredNode: a Sentinel deployment's data node replicates over
// TLS as the replication user, on the master too; the replica names its
// master; the ACL file adds the replication and monitor users, and ROLE
// for the app user after its deny list.
func TestMonitoredNode(t *testing.T) {
	pw := func() string { return redsafe.GeneratePassword(redsafe.Production) }
	m := &MonitoredNode{Replication: User{ReplicationName, pw()}, Monitor: User{SentinelMonitorName, pw()}, ReplicaOf: "127.0.0.1:6380"}
	s := Spec{Environment: redsafe.Production, Port: 6381, TLSDir: "/tls", ACLFile: "/acl", DataDir: "/data", Monitored: m}
	conf, err := RedisConf(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replicaof 127.0.0.1 6380\n", "masteruser replication\n", "tls-replication yes\n", "repl-diskless-load swapdb\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("redis.conf lacks %q", want)
		}
	}
	acl, err := ACL(s, NewUsers(redsafe.Production))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(acl), "-shutdown -migrate +role\n") || !strings.Contains(string(acl), "user sentinel on #") || !strings.Contains(string(acl), "&__sentinel__:hello") {
		t.Errorf("ACL file:\n%s", acl)
	}
	m.ReplicaOf = "127.0.0.1:6380\nreplicaof 10.0.0.1 6379"
	if _, err := RedisConf(s); err == nil {
		t.Error("a ReplicaOf with a line break was accepted")
	}
	m.ReplicaOf, m.Monitor.Password = "", m.Replication.Password
	if _, err := ACL(s, NewUsers(redsafe.Production)); err == nil {
		t.Error("the monitor user sharing the replication password was accepted")
	}
}
