package redsafe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// The library on a real Redis Cluster: three TLS-only masters sharing one
// CA, the same ACL users on each.

const clusterAppRules = "~* +@all"

var (
	clusterAdminPassword = GeneratePassword(Production)
	clusterAppPassword   = GeneratePassword(Production)
)

func startCluster(t *testing.T, node func(i int, c *redisserver.Config)) *redisserver.Cluster {
	t.Helper()
	return redisserver.StartCluster(t, redisserver.ClusterConfig{
		Masters: 3,
		Users: []redisserver.User{
			{Name: "admin", Password: clusterAdminPassword, Rules: "~* &* +@all"},
			{Name: "app", Password: clusterAppPassword, Rules: clusterAppRules},
		},
		Node: node,
	})
}

func clusterOptions(cl *redisserver.Cluster, url string) Options {
	return Options{
		Environment:   Production,
		URL:           url,
		Password:      clusterAppPassword,
		EncryptionKey: testKey,
		TLS:           TLSOptions{CAFile: cl.CAFile},
		DialTimeout:   2 * time.Second,
		Logger:        discardLogger,
	}
}

// keysOnEveryMaster returns n keys per master, so that a test covers every
// slot range.
func keysOnEveryMaster(t *testing.T, cl *redisserver.Cluster, n int) map[*redisserver.Server][]string {
	t.Helper()
	got := map[*redisserver.Server][]string{}
	for i := 0; len(got) < len(cl.Masters) || minLen(got) < n; i++ {
		k := fmt.Sprintf("user:%d", i)
		m := cl.MasterOf(t, k)
		if len(got[m]) < n {
			got[m] = append(got[m], k)
		}
	}
	return got
}

func minLen(m map[*redisserver.Server][]string) int {
	least := -1
	for _, v := range m {
		if least < 0 || len(v) < least {
			least = len(v)
		}
	}
	return least
}

func TestCluster(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, nil)
	byMaster := keysOnEveryMaster(t, cl, 4)
	var keys []string
	for _, ks := range byMaster {
		keys = append(keys, ks...)
	}

	// Every master named as a seed, or only one: rueidis finds the rest
	// either way, so a URL naming one node is never MOVED chaos.
	for name, url := range map[string]string{
		"seeds":    cl.URL("app"),
		"one node": cl.Masters[2].URL("app", ""),
	} {
		t.Run(name, func(t *testing.T) {
			c := openCache(t, clusterOptions(cl, url))
			ctx := testContext(t)
			for _, k := range keys {
				if err := c.Set(ctx, k, []byte("v:"+k), time.Minute); err != nil {
					t.Fatalf("Set %s: %v", k, err)
				}
			}
			for _, k := range keys {
				if v, err := c.Get(ctx, k); err != nil || string(v) != "v:"+k {
					t.Fatalf("Get %s = %q, %v", k, v, err)
				}
				if ttl, err := c.TTL(ctx, k); err != nil || ttl <= 0 || ttl > time.Minute {
					t.Fatalf("TTL %s = %v, %v", k, ttl, err)
				}
			}
			// What each master holds is a Fernet token, never the value.
			for m, ks := range byMaster {
				raw := m.Do(t, "GET", ks[0])
				if strings.Contains(raw, "v:") || !strings.HasPrefix(raw, "gAAAAA") {
					t.Fatalf("%s holds %q for %s", m.Addr, raw, ks[0])
				}
			}
			// Across slots: GetMany, SetMany and Delete; Exists on each.
			many := map[string][]byte{}
			for _, k := range keys {
				many[k] = []byte("m:" + k)
			}
			if err := c.SetMany(ctx, many, time.Minute); err != nil {
				t.Fatalf("SetMany across slots: %v", err)
			}
			got, err := c.GetMany(ctx, append([]string{"missing:1"}, keys...))
			if err != nil || len(got) != len(keys) {
				t.Fatalf("GetMany across slots = %d values, %v", len(got), err)
			}
			for _, k := range keys {
				if string(got[k]) != "m:"+k {
					t.Fatalf("GetMany[%s] = %q", k, got[k])
				}
			}
			for _, k := range keys {
				if ok, err := c.Exists(ctx, k); err != nil || !ok {
					t.Fatalf("Exists %s = %v, %v", k, ok, err)
				}
			}
			if n, err := c.Delete(ctx, keys...); err != nil || n != int64(len(keys)) {
				t.Fatalf("Delete across slots = %d, %v", n, err)
			}
			// Fetch: one load for concurrent callers, on whichever node.
			var loads atomic.Int32
			k := keys[len(keys)-1]
			errs := make(chan error, 20)
			for range 20 {
				go func() {
					v, err := c.Fetch(ctx, k, time.Minute, func(context.Context) ([]byte, error) {
						loads.Add(1)
						time.Sleep(50 * time.Millisecond)
						return []byte("loaded"), nil
					})
					if err == nil && string(v) != "loaded" {
						err = fmt.Errorf("Fetch = %q", v)
					}
					errs <- err
				}()
			}
			for range 20 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if n := loads.Load(); n != 1 {
				t.Fatalf("20 concurrent Fetch calls ran load %d times", n)
			}
		})
	}
}

// A cluster has database 0 only: a URL that names more nodes and another
// database is refused before connecting.
func TestClusterURLWithDatabaseIsRefused(t *testing.T) {
	o := Options{Environment: Testing, URL: "rediss://n1:7000/2?addr=n2:7001", EncryptionKey: testKey}
	r := Validate(o)
	if !r.has("url.cluster-db") {
		t.Fatalf("findings %v, want url.cluster-db", r.Findings)
	}
}

// Each node is verified against the name it is reached by: a node whose
// certificate does not cover its own address is refused, and the error
// names that node, not the seed.
func TestClusterNodeWithWrongHostCertificate(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, func(i int, c *redisserver.Config) {
		if i == 2 {
			c.Hosts = []string{"elsewhere.example"}
		}
	})
	bad := cl.Masters[2]
	o := clusterOptions(cl, cl.Masters[0].URL("app", "")) // seeded by a good node
	c, err := Open(testContext(t), o)
	if err != nil {
		// Open's PING may have gone to the bad node.
		assertNodeRefused(t, err, ErrCertHostname, bad.Addr)
		return
	}
	t.Cleanup(func() { c.Close() })
	k := keysOnEveryMaster(t, cl, 1)[bad][0]
	err = c.Set(testContext(t), k, []byte("v"), time.Minute)
	assertNodeRefused(t, err, ErrCertHostname, bad.Addr)
	// The good nodes still serve their keys.
	good := keysOnEveryMaster(t, cl, 1)[cl.Masters[1]][0]
	if err := c.Set(testContext(t), good, []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set on a good node: %v", err)
	}
}

// A cluster that announces plaintext ports (tls-cluster no) is not used in
// plaintext: every node reached through the topology must speak TLS, and
// the error names the node.
func TestClusterAnnouncingPlaintextPorts(t *testing.T) {
	t.Parallel()
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{
		Masters:      3,
		PlaintextBus: true,
		Users: []redisserver.User{
			{Name: "admin", Password: clusterAdminPassword, Rules: "~* &* +@all"},
			{Name: "app", Password: clusterAppPassword, Rules: clusterAppRules},
		},
		Node: func(i int, c *redisserver.Config) { c.ExtraPlaintextPort = true },
	})
	o := clusterOptions(cl, cl.Masters[0].URL("app", ""))
	o.DialTimeout = time.Second
	c, err := Open(testContext(t), o)
	if err == nil {
		t.Cleanup(func() { c.Close() })
		k := keysOnEveryMaster(t, cl, 1)[cl.Masters[1]][0]
		err = c.Set(testContext(t), k, []byte("v"), time.Minute)
	}
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(err, ErrNotTLS) {
		t.Fatalf("a node announced on its plaintext port: %v, want ErrNotTLS", err)
	}
	t.Logf("refused: %v", err)
	if !isPlaintextAddrOf(cl, ce.Addr) {
		t.Fatalf("the error names %s, not a node's plaintext port", ce.Addr)
	}
}

func isPlaintextAddrOf(cl *redisserver.Cluster, addr string) bool {
	for _, n := range cl.Nodes {
		if n.PlaintextAddr == addr {
			return true
		}
	}
	return false
}

func assertNodeRefused(t *testing.T, err, cause error, addr string) {
	t.Helper()
	t.Logf("refused: %v", err)
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(err, cause) {
		t.Fatalf("err = %v, want %v", err, cause)
	}
	if ce.Addr != addr {
		t.Fatalf("the error names %s, want the node %s", ce.Addr, addr)
	}
}

// A manual failover (CLUSTER FAILOVER on a replica) while a client writes
// and reads: calls go on against the new master, no error reaches the
// caller, and the longest pause a call saw is measured and logged.
func TestClusterManualFailover(t *testing.T) {
	t.Parallel()
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{
		Masters: 3, Replicas: 1,
		Users: []redisserver.User{
			{Name: "admin", Password: clusterAdminPassword, Rules: "~* &* +@all"},
			{Name: "app", Password: clusterAppPassword, Rules: clusterAppRules},
		},
	})
	old := cl.Masters[0]
	replica := cl.Replicas[0] // the replicas follow the masters in order
	keys := keysOnEveryMaster(t, cl, 3)[old]
	c := openCache(t, clusterOptions(cl, cl.URL("app")))
	ctx := testContext(t)

	// SetWait's WAIT goes to the key's master, on the SET's connection,
	// and counts that master's replica.
	if n, err := c.SetWait(ctx, keys[0], []byte("acknowledged"), time.Minute, 1, time.Second); err != nil || n != 1 {
		t.Fatalf("SetWait on the cluster = %d, %v; want 1 replica", n, err)
	}
	if n := replica.Do(t, "DBSIZE"); n != ":1" { // a cluster replica redirects a GET
		t.Fatalf("right after SetWait the key's replica holds %s keys, want the 1 written", n)
	}

	stop := startCalls(t, ctx, c, keys)
	time.Sleep(200 * time.Millisecond)
	failoverAt := time.Now()
	if r := replica.Do(t, "CLUSTER", "FAILOVER"); r != "+OK" {
		t.Fatalf("CLUSTER FAILOVER: %s", r)
	}
	// Wait until the roles have swapped, then let the client run on.
	for !strings.Contains(replica.Do(t, "INFO", "replication"), "role:master") {
		if time.Since(failoverAt) > 15*time.Second {
			t.Fatal("the replica did not become master within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	promoted := time.Since(failoverAt)
	time.Sleep(500 * time.Millisecond)
	o := stop()
	t.Logf("failover: replica promoted after %v; %v", promoted.Round(time.Millisecond), o)
	// CLUSTER FAILOVER waits for the replica to catch up and the old
	// master stops taking writes first: nothing fails, nothing is lost.
	if o.failed > 0 || o.stale > 0 {
		t.Fatalf("during the failover: %v", o)
	}
	// The writes now land on the new master.
	if raw := replica.Do(t, "GET", keys[0]); !strings.HasPrefix(raw, "gAAAAA") {
		t.Fatalf("the new master holds %q", raw)
	}
	// A local copy taken before the failover follows a write made after
	// it, on the new master.
	lo := clusterOptions(cl, cl.URL("app"))
	lo.LocalCache = LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour}
	local := openCache(t, lo)
	if _, err := local.Get(ctx, keys[1]); err != nil {
		t.Fatal(err)
	}
	// And back: once the old master, now a replica, has caught up.
	waitUntil(t, 15*time.Second, "the old master to sync as a replica", func() bool {
		return strings.Contains(old.Do(t, "INFO", "replication"), "master_link_status:up")
	})
	// A manual failover gives up after a while when the cluster is slow to
	// agree (a loaded CI machine): ask again.
	waitUntil(t, 30*time.Second, "the old master to be master again", func() bool {
		if strings.Contains(old.Do(t, "INFO", "replication"), "role:master") {
			return true
		}
		if r := old.Do(t, "CLUSTER", "FAILOVER"); r != "+OK" && !strings.Contains(r, "already") {
			t.Logf("CLUSTER FAILOVER back: %s", r)
		}
		time.Sleep(time.Second)
		return strings.Contains(old.Do(t, "INFO", "replication"), "role:master")
	})
	if err := c.Set(ctx, keys[1], []byte("after failover"), time.Minute); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := local.Get(ctx, keys[1])
		if err == nil && string(got) == "after failover" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the local copy still holds %q, %v 2 s after a write on the new master", got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A resharding move (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE)
// while a client with LocalCache reads and another writes: no redirect
// reaches either caller as an error, and the local copy follows every
// write, during the move and after it, within the invalidation bound.
func TestClusterReshardWithLocalCache(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, nil)
	from, to := cl.Masters[0], cl.Masters[1]
	key := keysOnEveryMaster(t, cl, 1)[from][0]
	slot := strings.TrimPrefix(from.Do(t, "CLUSTER", "KEYSLOT", key), ":")
	o := clusterOptions(cl, cl.URL("app"))
	writer := openCache(t, o)
	o.LocalCache = LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour}
	reader := openCache(t, o)
	ctx := testContext(t)

	var lastWritten atomic.Int64
	stop := make(chan struct{})
	errs := make(chan error, 100)
	go func() {
		defer close(errs)
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := writer.Set(ctx, key, []byte(fmt.Sprint(i)), time.Minute); err != nil {
				errs <- fmt.Errorf("writer: %w", err)
				return
			}
			lastWritten.Store(i)
			if _, err := reader.Get(ctx, key); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	fromID := strings.TrimPrefix(from.Do(t, "CLUSTER", "MYID"), "+")
	toID := strings.TrimPrefix(to.Do(t, "CLUSTER", "MYID"), "+")
	for _, step := range []struct {
		node *redisserver.Server
		args []string
	}{
		{to, []string{"CLUSTER", "SETSLOT", slot, "IMPORTING", fromID}},
		{from, []string{"CLUSTER", "SETSLOT", slot, "MIGRATING", toID}},
		{from, []string{"MIGRATE", "127.0.0.1", fmt.Sprint(to.Port), "", "0", "5000", "AUTH2", "admin", clusterAdminPassword, "KEYS", key}},
	} {
		if r := step.node.Do(t, step.args...); r != "+OK" && r != "+NOKEY" {
			t.Fatalf("%v on %s: %s", step.args[:2], step.node.Addr, r)
		}
	}
	for _, m := range cl.Masters {
		if r := m.Do(t, "CLUSTER", "SETSLOT", slot, "NODE", toID); r != "+OK" {
			t.Fatalf("SETSLOT NODE on %s: %s", m.Addr, r)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	for err := range errs {
		t.Fatal(err)
	}
	if raw := to.Do(t, "GET", key); !strings.HasPrefix(raw, "gAAAAA") {
		t.Fatalf("after the move %s holds %q", to.Addr, raw)
	}
	// Once the slot lives on the other node, a write there still reaches
	// the reader's local copy.
	for _, v := range []string{"after-move-1", "after-move-2"} {
		if err := writer.Set(ctx, key, []byte(v), time.Minute); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			got, err := reader.Get(ctx, key)
			if err == nil && string(got) == v {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reader still sees %q, %v 2 s after %q was written on the new node", got, err, v)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// waitUntil polls ok every 20 ms, failing the test after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
