package keyspacetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// Sentinel is a Sentinel deployment (redisserver.StartSentinel: TLS only,
// the default user off) with the users the jobs run as: on the data
// nodes an admin and the app user of `redsafe conf` with ROLE, which a
// job through Sentinels asks; on the Sentinels an admin and a client.
type Sentinel struct {
	*redisserver.Sentinel
	AdminPassword, AppPassword, ClientPassword string
}

// SentinelAppRules are the app user's rules: serverconf.AppRules and ROLE.
var SentinelAppRules = serverconf.AppRules("*") + " +role"

// StartSentinel starts a master, a replica and three Sentinels, stopped
// when the test ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	s := &Sentinel{AdminPassword: redsafe.GeneratePassword(redsafe.Production), AppPassword: redsafe.GeneratePassword(redsafe.Production),
		ClientPassword: redsafe.GeneratePassword(redsafe.Production)}
	s.Sentinel = redisserver.StartSentinel(t, redisserver.SentinelConfig{
		Users: []redisserver.User{
			{Name: "admin", Password: s.AdminPassword, Rules: "~* &* +@all"},
			{Name: serverconf.AppName, Password: s.AppPassword, Rules: SentinelAppRules},
		},
		SentinelUsers: []redisserver.User{
			{Name: "admin", Password: s.AdminPassword, Rules: "+@all"},
			{Name: "client", Password: s.ClientPassword, Rules: "+@all"},
		},
	})
	return s
}

// URL is a REDIS_URL naming the Sentinels, as user.
func (s *Sentinel) URL(user string) string {
	var q []string
	for _, n := range s.Sentinels[1:] {
		q = append(q, "addr="+n.Addr)
	}
	return fmt.Sprintf("rediss://%s@%s/0?master_set=%s&%s", user, s.Sentinels[0].Addr, s.MasterSet, strings.Join(q, "&"))
}

// Options are the app user's, through the Sentinels as the client user.
func (s *Sentinel) Options(key *seal.Key) redsafe.Options {
	return redsafe.Options{Environment: redsafe.Testing, URL: s.URL(serverconf.AppName), Password: s.AppPassword,
		EncryptionKey: key.Encode(), TLS: redsafe.TLSOptions{CAFile: s.CAFile},
		Sentinel:    redsafe.SentinelOptions{Username: "client", Password: s.ClientPassword},
		DialTimeout: 2 * time.Second}
}

// App is the app user's target through the Sentinels, as the jobs get it
// (keyspace.FromOptions): at the master now, and able to ask again.
func (s *Sentinel) App(t testing.TB) keyspace.Target {
	t.Helper()
	target, _, _, err := keyspace.FromOptions(Context(t), s.Options(seal.GenerateKey()), "test-app", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if target.Resolve == nil {
		t.Fatal("a target through Sentinels has no Resolve")
	}
	return target
}

// AdminAt is the data nodes' admin at addr, directly.
func (s *Sentinel) AdminAt(addr string) keyspace.Target {
	return keyspace.Target{Addr: addr, TLS: s.Master.TLSConfig(), Username: "admin", Password: s.AdminPassword, Name: "test-admin"}
}

// Node is the data node at addr.
func (s *Sentinel) Node(t testing.TB, addr string) *redisserver.Server {
	t.Helper()
	for _, n := range append([]*redisserver.Server{s.Master}, s.Replicas...) {
		if n.Addr == addr {
			return n
		}
	}
	t.Fatalf("no data node at %s", addr)
	return nil
}

// Synced waits until every replica has the master's keys (DBSIZE).
func (s *Sentinel) Synced(t testing.TB) {
	t.Helper()
	want := s.Master.Do(t, "DBSIZE")
	deadline := time.Now().Add(20 * time.Second)
	for _, r := range s.Replicas {
		for r.Do(t, "DBSIZE") != want {
			if time.Now().After(deadline) {
				t.Fatalf("replica %s never caught up with %s keys", r.Addr, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Failover has a Sentinel fail the master over (SENTINEL FAILOVER) and
// waits until every Sentinel names another master, which answers ROLE as
// one; it returns that master's address. Errors go to t.Error, so that it
// can run in a goroutine of its own.
func (s *Sentinel) Failover(t testing.TB, from string) string {
	if reply, err := s.Sentinels[0].Ask("SENTINEL", "FAILOVER", s.MasterSet); err != nil || reply != "+OK" {
		t.Errorf("SENTINEL FAILOVER: %q, %v", reply, err)
		return ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if to := s.named(from); to != "" {
			for _, n := range append([]*redisserver.Server{s.Master}, s.Replicas...) {
				if role, _ := n.Ask("ROLE"); n.Addr == to && strings.HasPrefix(role, "master") {
					return to
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the Sentinels never named a master other than %s", from)
	return ""
}

// named is the master every Sentinel names, when it is not from and they
// agree; "" otherwise.
func (s *Sentinel) named(from string) string {
	var addr string
	for _, n := range s.Sentinels {
		reply, err := n.Ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterSet)
		host, port, ok := strings.Cut(reply, "\n")
		a := host + ":" + port
		if err != nil || !ok || a == from || (addr != "" && a != addr) {
			return ""
		}
		addr = a
	}
	return addr
}

// FailoverAt returns a job's Progress function that, once the job has
// handled at least keys keys, starts Failover in a goroutine (mid-run),
// and the function that waits for it and returns the new master ("" when
// it did not happen).
func (s *Sentinel) FailoverAt(t testing.TB, keys int64) (func(progress.Report), func() string) {
	from := s.Master.Addr
	var once sync.Once
	var done sync.WaitGroup
	var to string
	report := func(p progress.Report) {
		if p.Keys >= keys {
			once.Do(func() {
				done.Add(1)
				go func() { defer done.Done(); to = s.Failover(t, from) }()
			})
		}
	}
	return report, func() string { done.Wait(); return to }
}

// Notes collects a job's notes (its Note function), from any goroutine.
type Notes struct {
	mu    sync.Mutex
	lines []string
}

// Add is a job's Note.
func (n *Notes) Add(s string) { n.mu.Lock(); n.lines = append(n.lines, s); n.mu.Unlock() }

// String is every note, one a line.
func (n *Notes) String() string { n.mu.Lock(); defer n.mu.Unlock(); return strings.Join(n.lines, "\n") }
