package redsafe

import (
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/seal"
)

// TestSentinelFailoverWithLocalCache: a local copy read from the master
// before a failover follows a write made on the new master after it: the
// client drops its connection to the old master, whose tracking knew the
// read, when it moves, and the local cache with it (every copy goes when a
// tracking connection closes).
func TestSentinelFailoverWithLocalCache(t *testing.T) {
	t.Parallel()
	sn := startSentinel(t)
	ctx := testContext(t)
	writer := openCache(t, sentinelOptions(sn))
	o := sentinelOptions(sn)
	o.LocalCache = LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour}
	reader := openCache(t, o)
	if err := writer.Set(ctx, "lc", []byte("before"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := reader.Get(ctx, "lc"); err != nil || string(got) != "before" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	}
	if st := reader.LocalCacheStats(); st.Hits == 0 {
		t.Fatalf("no local hit before the failover: %+v", st)
	}
	if r := sn.Sentinels[0].Do(t, "SENTINEL", "FAILOVER", sn.MasterSet); r != "+OK" {
		t.Fatalf("SENTINEL FAILOVER: %s", r)
	}
	replica := sn.Replicas[0]
	waitUntil(t, 30*time.Second, "the replica to be master", func() bool {
		role, _ := replica.Ask("ROLE") // the Sentinels drop its clients as they promote it
		return strings.Contains(role, "master")
	})
	// Written on the new master itself, which never saw the reader's read:
	// only the client moving off the old master can drop the copy.
	k, _ := seal.ParseKey(testKey)
	if r := replica.Do(t, "SET", "lc", string(seal.New(k).Seal(nil, []byte("after")))); r != "+OK" {
		t.Fatalf("SET on the new master: %s", r)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := reader.Get(ctx, "lc")
		if err == nil && string(got) == "after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the local copy still holds %q, %v 5 s after a write on the new master (stats %+v)", got, err, reader.LocalCacheStats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It reads the new master now, not the old one caught up by
	// replication.
	if _, ok := reader.client.Nodes()[replica.Addr]; !ok {
		t.Errorf("the reader's client is on %v, not the new master %s", reader.client.Nodes(), replica.Addr)
	}
}
