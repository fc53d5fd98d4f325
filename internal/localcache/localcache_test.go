package localcache

import (
	"fmt"
	"testing"
	"time"
)

// The bookkeeping of the local cache, below the network: what the
// real-server tests of the root package (localcache_test.go) cannot make happen on cue.

func localForTest(maxBytes int64) *Cache {
	return New(maxBytes, time.Hour)
}

func (l *Cache) later() Expiry { return Expiry{mono: l.Now() + int64(time.Hour)} }

// TestLocalStaleFlightNotCached: an invalidation of the key, or a flush,
// that arrives while a read is in flight keeps the read's value out of the
// cache; the Gets that waited for the read still get its value.
func TestLocalStaleFlightNotCached(t *testing.T) {
	for name, invalidate := range map[string]func(l *Cache){
		"the key": func(l *Cache) { l.Drop("k") },
		"flush":   func(l *Cache) { l.Invalidate(nil) },
	} {
		l := localForTest(1 << 20)
		_, _, f, leader := l.Begin("k", 0)
		if !leader {
			t.Fatalf("%s: the first miss does not lead its read", name)
		}
		_, _, waiting, leads := l.Begin("k", 0)
		if leads || waiting != f {
			t.Fatalf("%s: a second miss did not wait for the first read", name)
		}
		invalidate(l)
		l.Finish("k", f, []byte("old"), l.later(), nil)
		if v, ok := l.Get("k", 0); ok {
			t.Errorf("%s: a value read across an invalidation was cached: %q", name, v)
		}
		if v, err := waiting.Result(); err != nil || string(v) != "old" {
			t.Errorf("%s: the waiting Get got %q, %v", name, v, err)
		}
		// With the flight gone, the next miss reads again.
		if _, _, _, leader := l.Begin("k", 0); !leader {
			t.Errorf("%s: the next miss waits for the invalidated read", name)
		}
	}
}

// TestLocalAbandonedLead: a Get waiting for a read whose leader gave up
// (its context ended, or it panicked) is told to read the key itself.
func TestLocalAbandonedLead(t *testing.T) {
	l := localForTest(1 << 20)
	_, _, f, _ := l.Begin("k", 0)
	_, _, waiting, _ := l.Begin("k", 0)
	l.Finish("k", f, nil, Expiry{}, ErrLeadAbandoned)
	if _, err := waiting.Result(); !LeaderGaveUp(err) {
		t.Fatalf("the waiter got %v, which it would return instead of reading the key", err)
	}
	if _, ok := l.Get("k", 0); ok {
		t.Fatal("an abandoned read cached something")
	}
}

// TestLocalSieve: eviction spares entries read since the hand last passed
// them, takes an unread one instead, and the hand stays where it stopped,
// so evictions do not rescan the hot entries from the oldest every time.
func TestLocalSieve(t *testing.T) {
	l := localForTest(1 << 20)
	s := &l.shards[0]
	value := make([]byte, 850) // about 1000 bytes an entry
	key := func(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }
	insert := func(k string) {
		s.mu.Lock()
		s.insert(l, k, append([]byte{}, value...), l.later())
		s.mu.Unlock()
	}
	insert(key("old", 0))
	n := int(l.shardBytes / s.bytes) // entries that fit, all of one size
	for i := 1; i < n; i++ {
		insert(key("old", i))
	}
	if l.evictions.Load() != 0 {
		t.Fatal("evictions before the shard was full")
	}
	for i := range 10 {
		l.Get(key("old", i), 0) // the ten oldest are hot
	}
	for i := range 5 {
		insert(key("new", i))
	}
	if l.evictions.Load() != 5 {
		t.Fatalf("%d evictions for 5 inserts into a full shard", l.evictions.Load())
	}
	for i := range 10 {
		if _, ok := l.Get(key("old", i), 0); !ok {
			t.Errorf("hot entry %s was evicted before unread ones", key("old", i))
		}
	}
	for i := 10; i < 15; i++ {
		if _, ok := l.Get(key("old", i), 0); ok {
			t.Errorf("%s, among the oldest unread entries, survived 5 evictions", key("old", i))
		}
	}
	if s.hand == nil {
		t.Fatal("the SIEVE hand was not kept: every eviction rescans from the oldest entry")
	}
	if s.bytes > l.shardBytes {
		t.Errorf("the shard holds %d bytes, over its bound of %d", s.bytes, l.shardBytes)
	}
}

// TestLocalValuesZeroedWhenDropped: a plaintext that leaves the cache, by
// invalidation, flush or eviction, is overwritten, not left in the heap.
func TestLocalValuesZeroedWhenDropped(t *testing.T) {
	l := localForTest(1 << 20)
	s := &l.shards[0]
	cached := func(k string) []byte {
		v := []byte("secret plaintext " + k)
		s.mu.Lock()
		s.insert(l, k, v, l.later())
		s.mu.Unlock()
		return v
	}
	zeroed := func(what string, v []byte) {
		for _, b := range v {
			if b != 0 {
				t.Errorf("%s: the dropped value still reads %q", what, v)
				return
			}
		}
	}
	v := cached("a")
	l.Drop("a")
	zeroed("invalidation", v)
	v = cached("b")
	l.Invalidate(nil)
	zeroed("flush", v)
	v = cached("c")
	big := make([]byte, 64<<10)
	for i := 0; l.evictions.Load() == 0 && i < 100; i++ {
		s.mu.Lock()
		s.insert(l, fmt.Sprint("filler", i), append([]byte{}, big...), l.later())
		s.mu.Unlock()
	}
	if _, ok := l.Get("c", 0); ok {
		t.Fatal("c survived the first eviction, which should take the oldest unread entry")
	}
	zeroed("eviction", v)
}
