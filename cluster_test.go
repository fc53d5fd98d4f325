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
