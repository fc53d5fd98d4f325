package redsafe

import (
	"strings"
	"testing"
	"time"
)

// A slot moved without MIGRATE: the node taking it claims it (SETSLOT
// IMPORTING, then SETSLOT NODE itself, which bumps its epoch) and the old
// owner drops the slot's keys. The new owner never tracked the reader's
// reads, and Redis 7.0 sends no invalidation for keys dropped that way, so
// only the reader's own check of the slot map can tell it: its local copy
// is flushed, and a write made on the new owner is seen within the check's
// interval, not after the hour the copy could live.
func TestClusterSlotMovedWithoutMigrate(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, nil)
	from, to := cl.Masters[0], cl.Masters[1]
	key := keysOnEveryMaster(t, cl, 1)[from][0]
	slot := strings.TrimPrefix(from.Do(t, "CLUSTER", "KEYSLOT", key), ":")
	o := clusterOptions(cl, cl.URL("app"))
	writer := openCache(t, o)
	o.LocalCache = LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour, TopologyCheck: 100 * time.Millisecond}
	reader := openCache(t, o)
	ctx := testContext(t)

	if err := writer.Set(ctx, key, []byte("before"), time.Minute); err != nil {
		t.Fatal(err)
	}
	// rueidis settles its connections just after Open (a closed one drops
	// everything): wait until a local copy stays, then check that the
	// topology checks drop nothing while the slot map stays as it is.
	var st LocalCacheStats
	waitUntil(t, 10*time.Second, "a local copy that stays", func() bool {
		for range 2 {
			if got, err := reader.Get(ctx, key); err != nil || string(got) != "before" {
				t.Fatalf("Get = %q, %v", got, err)
			}
		}
		st = reader.LocalCacheStats()
		time.Sleep(300 * time.Millisecond)
		now := reader.LocalCacheStats()
		return now.Flushes == st.Flushes && now.Entries == 1
	})
	time.Sleep(500 * time.Millisecond)
	if now := reader.LocalCacheStats(); now.Flushes != st.Flushes || now.Entries != 1 {
		t.Fatalf("the local cache was flushed with no change of topology: %+v, before %+v", now, st)
	}

	fromID := strings.TrimPrefix(from.Do(t, "CLUSTER", "MYID"), "+")
	toID := strings.TrimPrefix(to.Do(t, "CLUSTER", "MYID"), "+")
	for _, args := range [][]string{{"CLUSTER", "SETSLOT", slot, "IMPORTING", fromID}, {"CLUSTER", "SETSLOT", slot, "NODE", toID}} {
		if r := to.Do(t, args...); r != "+OK" {
			t.Fatalf("%v on %s: %s", args, to.Addr, r)
		}
	}
	waitUntil(t, 15*time.Second, "the old owner to give the slot up", func() bool {
		return strings.HasPrefix(from.Do(t, "EXISTS", key), "-MOVED")
	})
	if err := writer.Set(ctx, key, []byte("after"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if raw := to.Do(t, "GET", key); !strings.HasPrefix(raw, "gAAAAA") {
		t.Fatalf("the new owner holds %q", raw)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		got, err := reader.Get(ctx, key)
		if err == nil && string(got) == "after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader still sees %q, %v 3 s after the write on the slot's new owner (stats %+v)", got, err, reader.LocalCacheStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after := reader.LocalCacheStats(); after.Flushes <= st.Flushes {
		t.Errorf("the slot map changed and the local cache was not flushed: %+v", after)
	}
}
