// Package localcache is the in-process cache behind redsafe's
// Options.LocalCache: a bounded, sharded map of decrypted values kept
// coherent with Redis by RESP3 client tracking, and the flights that let
// concurrent misses of one key share one read. It knows nothing of
// sealing or of the redsafe.Cache; the root package reads Redis, opens the
// tokens and hands the values here.
//
// Design. rueidis has client-side caching of its own (DoCache), but it keeps
// the raw reply: here that is the sealed token, so every hit would decrypt
// it again, and the issue this answers asks for the decrypted value to be
// the cached form. So redsafe keeps its own bounded map of plaintext values
// and uses rueidis only for the protocol: every connection runs CLIENT
// TRACKING ON (the default mode, so every read is tracked, with no CLIENT
// CACHING round trip), rueidis's own cache store is replaced by one that
// never stores anything (no token is kept twice), and rueidis's
// OnInvalidations callback drops keys as the server names them, and drops
// everything when a connection closes, since the server forgets a closed
// connection's tracking.
//
// A value read from Redis is cached only if no invalidation for its key
// arrived while it was being read: a read registers a flight under the
// shard lock before it is sent, invalidations mark the flights of their
// keys stale, and a stale flight's value is returned to its caller but not
// cached. rueidis spreads commands over a few connections, each tracking
// what it read; the server sends the invalidation of a write that follows
// a read on the connection that read, after the read's reply, and rueidis
// handles both on that connection's reader in order, so an invalidation
// can never be missed between the reply and the insert. Invalidation is
// asynchronous, as in all of Redis's client-side caching: another
// process's write becomes visible here when its invalidation arrives, a
// fraction of a millisecond later on a local network, so a read racing
// with it may still return the value before it. SWAPDB sends no
// invalidation (the app user of `redsafe conf` may not run it). A value is read with
// PTTL in the same pipeline (PTTL first, so a write between the two is
// tracked by the PTTL read), and cached no longer than its Redis TTL from
// the moment the request was sent, nor than LocalCacheOptions.TTL, nor past
// the age Options.TokenTTL allows its token.
//
// Writes through this Cache drop the key before they are sent and again
// when they are answered, so a Get that follows a Set in this process never
// sees the old value, whichever connection either used.
//
// Concurrent misses for one key share one read (a flight). Eviction is
// SIEVE: an entry that was read since the hand last passed it gets a second
// chance, which keeps hot keys without moving them on every hit, so a hit
// takes only a read lock. Security trade-off: a cached value is plaintext in
// the heap until it is invalidated, expires or is evicted (it is then
// overwritten with zeros); without the cache it is plaintext there only
// while the caller holds it. The encryption key is in the same memory, so
// anyone able to read the heap could decrypt the tokens anyway.

package localcache

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

const (
	localMaxShards     = 64
	localMinShardBytes = 4 << 20
	// localEntryOverhead is what an entry costs besides its key and value:
	// the entry, its map slot and its share of the map's buckets.
	localEntryOverhead = 150
)

// Cache is the local cache: safe for concurrent use.
type Cache struct {
	ttl        time.Duration
	shards     []shard
	mask       uint64
	seed       maphash.Seed
	base       time.Time // the origin of the monotonic times in entries
	shardBytes int64
	maxEntry   int64

	hits, misses, invalidations, flushes, evictions atomic.Uint64
}

type shard struct {
	mu      sync.RWMutex
	entries map[string]*entry
	flights map[string]*Flight
	bytes   int64
	// The SIEVE queue: head is the newest entry, prev points toward it.
	head, tail, hand *entry
	_                [56]byte // keeps neighbouring shards' locks off one cache line
}

type entry struct {
	key   string
	value []byte
	Expiry
	size       int64
	visited    atomic.Bool
	prev, next *entry
}

// Expiry is when an entry must leave the cache.
type Expiry struct {
	mono int64 // nanoseconds since Cache.base: the Redis TTL and LocalCacheOptions.TTL
	// wall is the Unix time in nanoseconds, by Options.Clock, at which the
	// token becomes older than Options.TokenTTL; 0 without TokenTTL.
	wall int64
}

// fresh reports whether an entry with expiry x may be served at monotonic
// time mono and wall time wall (0 when no TokenTTL applies).
func (x Expiry) fresh(mono, wall int64) bool {
	return mono < x.mono && (x.wall == 0 || wall < x.wall)
}

// Flight is one read of a key from Redis, shared by every Get that
// misses the key while it is under way.
type Flight struct {
	done    chan struct{}
	value   []byte // for waiters; never modified once done is closed
	err     error
	waiters int  // Gets waiting for it; under the shard lock
	stale   bool // an invalidation arrived: the value is not cached
}

// New returns a cache that holds at most maxBytes (values, keys and
// about 150 bytes of bookkeeping each) and keeps nothing longer than ttl, which must be
// positive: the caller applies its default.
func New(maxBytes int64, ttl time.Duration) *Cache {
	n := int64(1)
	for n < localMaxShards && maxBytes/(2*n) >= localMinShardBytes {
		n *= 2
	}
	l := &Cache{
		ttl:        ttl,
		shards:     make([]shard, n),
		mask:       uint64(n - 1),
		seed:       maphash.MakeSeed(),
		base:       time.Now(),
		shardBytes: maxBytes / n,
	}
	l.maxEntry = l.shardBytes / 4
	for i := range l.shards {
		l.shards[i].entries = map[string]*entry{}
		l.shards[i].flights = map[string]*Flight{}
	}
	return l
}

// ClientOption makes rueidis track every read and tell l about
// invalidations, without caching anything itself.
func (l *Cache) ClientOption(opt *rueidis.ClientOption) {
	opt.DisableCache = false
	// Not nil: nil means OPTIN, which needs CLIENT CACHING YES before every
	// read. Empty means the default mode, where every read is tracked.
	// (rueidis would treat it as OPTIN for DoCache, which Cache never
	// calls; connections send a plain CLIENT TRACKING ON.)
	opt.ClientTrackingOptions = []string{}
	opt.NewCacheStoreFn = func(rueidis.CacheStoreOption) rueidis.CacheStore { return noStore{} }
	opt.OnInvalidations = l.Invalidate
}

// Now is the monotonic time of the cache, for Until's started.
func (l *Cache) Now() int64 { return int64(time.Since(l.base)) }

func (l *Cache) shard(key string) *shard {
	return &l.shards[maphash.String(l.seed, key)&l.mask]
}

// Get returns a copy of key's value if it is cached and fresh at wall,
// the Unix time in nanoseconds by Options.Clock (0 without TokenTTL).
func (l *Cache) Get(key string, wall int64) ([]byte, bool) {
	s := l.shard(key)
	now := l.Now()
	s.mu.RLock()
	e := s.entries[key]
	if e == nil || !e.fresh(now, wall) {
		s.mu.RUnlock()
		return nil, false
	}
	if !e.visited.Load() {
		e.visited.Store(true)
	}
	v := append([]byte{}, e.value...)
	s.mu.RUnlock()
	l.hits.Add(1)
	return v, true
}

// Begin is for a Get that missed: it returns the value if it was cached
// meanwhile, or the flight to wait for, or a new flight that the caller
// leads: it reads the key and must pass the result to Finish.
func (l *Cache) Begin(key string, wall int64) (v []byte, hit bool, f *Flight, leader bool) {
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[key]; e != nil && e.fresh(l.Now(), wall) {
		e.visited.Store(true)
		l.hits.Add(1)
		return append([]byte{}, e.value...), true, nil, false
	}
	l.misses.Add(1)
	if f = s.flights[key]; f != nil { // never stale: invalidation removes it
		f.waiters++
		return nil, false, f, false
	}
	f = &Flight{done: make(chan struct{})}
	s.flights[key] = f
	return nil, false, f, true
}

// Finish ends a flight: it caches value until x, unless the flight went
// stale or x.mono is 0, and wakes the flight's waiters.
func (l *Cache) Finish(key string, f *Flight, value []byte, x Expiry, err error) {
	s := l.shard(key)
	s.mu.Lock()
	if s.flights[key] == f {
		delete(s.flights, key)
	}
	f.err = err
	if err == nil {
		if f.waiters > 0 {
			f.value = append([]byte{}, value...)
		}
		if !f.stale && x.mono > l.Now() {
			s.insert(l, key, append([]byte{}, value...), x)
		}
	}
	s.mu.Unlock()
	close(f.done)
}

// Result is a copy of the result of a finished flight, for a waiter.
func (f *Flight) Result() ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	return append([]byte{}, f.value...), nil
}

// insert adds an entry; the caller holds the lock.
func (s *shard) insert(l *Cache, key string, value []byte, x Expiry) {
	size := int64(len(key)+cap(value)) + localEntryOverhead
	if size > l.maxEntry {
		clear(value)
		return
	}
	if old := s.entries[key]; old != nil {
		s.remove(old)
	}
	for s.bytes+size > l.shardBytes && s.tail != nil {
		s.remove(s.victim(l.Now()))
		l.evictions.Add(1)
	}
	e := &entry{key: key, value: value, Expiry: x, size: size, next: s.head}
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
	s.entries[key] = e
	s.bytes += size
}

// victim moves the SIEVE hand from the oldest entry toward the newest,
// clearing the visited marks it passes, to the first entry not visited
// since, or already expired.
func (s *shard) victim(now int64) *entry {
	e := s.hand
	if e == nil {
		e = s.tail
	}
	for e.visited.Load() && now < e.mono {
		e.visited.Store(false)
		if e = e.prev; e == nil {
			e = s.tail
		}
	}
	// The hand stays here, so the next eviction goes on from this point
	// (remove moves it to the next newer entry) instead of scanning the
	// old, hot entries again from the tail.
	s.hand = e
	return e
}

// remove unlinks an entry and overwrites its value; the caller holds the
// lock.
func (s *shard) remove(e *entry) {
	if s.hand == e {
		s.hand = e.prev
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
	delete(s.entries, e.key)
	s.bytes -= e.size
	clear(e.value)
}

// Drop forgets key: its entry, and any read of it under way.
func (l *Cache) Drop(key string) {
	s := l.shard(key)
	s.mu.Lock()
	if e := s.entries[key]; e != nil {
		s.remove(e)
	}
	if f := s.flights[key]; f != nil {
		f.stale = true
		delete(s.flights, key)
	}
	s.mu.Unlock()
}

// Flush forgets everything.
func (l *Cache) Flush() {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for _, e := range s.entries {
			clear(e.value)
		}
		for _, f := range s.flights {
			f.stale = true
		}
		s.entries = map[string]*entry{}
		s.flights = map[string]*Flight{}
		s.head, s.tail, s.hand, s.bytes = nil, nil, nil, 0
		s.mu.Unlock()
	}
	l.flushes.Add(1)
}

// Invalidate is rueidis's OnInvalidations: nil means everything (a
// connection closed, or FLUSHDB/FLUSHALL on the server).
func (l *Cache) Invalidate(keys []rueidis.RedisMessage) {
	if keys == nil {
		l.Flush()
		return
	}
	for _, k := range keys {
		if key, err := k.ToString(); err == nil {
			l.Drop(key)
			l.invalidations.Add(1)
		}
	}
}

// Until is when a value read with the given PTTL (ms; -1 none, -2 gone)
// by a request sent at started must leave the cache; mono 0: do not cache
// it. The token's age limit is kept in wall time, by Options.Clock, as
// Open checks it.
func (l *Cache) Until(started, pttl int64, token []byte, tokenTTL time.Duration) Expiry {
	d := l.ttl
	switch {
	case pttl >= 0:
		d = min(d, time.Duration(pttl)*time.Millisecond)
	case pttl != -1:
		return Expiry{}
	}
	if d <= 0 {
		return Expiry{}
	}
	x := Expiry{mono: started + int64(d)}
	if tokenTTL > 0 {
		ts, ok := tokenTimestamp(token)
		if !ok {
			return Expiry{}
		}
		// Open refuses a token once now - ts > tokenTTL, with now in whole
		// seconds: it is accepted until ts + 1 + tokenTTL's whole seconds.
		x.wall = time.Unix(ts+1+int64(tokenTTL/time.Second), 0).UnixNano()
	}
	return x
}

// tokenTimestamp reads the timestamp of a token that has been
// authenticated: the 8 bytes after the version byte of a Fernet token,
// bytes 6 to 13 of a sealed one.
func tokenTimestamp(token []byte) (int64, bool) {
	var head [9]byte
	if len(token) >= 14 && token[0] == 0x91 {
		copy(head[1:], token[6:14]) // binary, after version, key ID and flags
	} else if len(token) < 12 {
		return 0, false
	} else if _, err := base64.URLEncoding.Decode(head[:], token[:12]); err != nil {
		return 0, false
	}
	ts := binary.BigEndian.Uint64(head[1:])
	if ts > 1<<62 {
		return 0, false
	}
	return int64(ts), true
}

// noStore is the rueidis cache store of a Cache with a local cache: it
// never stores a reply, so no token is cached twice. rueidis asks it only
// for DoCache, which the Cache never calls.
type noStore struct{}

func (noStore) Flight(string, string, time.Duration, time.Time) (rueidis.RedisMessage, rueidis.CacheEntry) {
	return rueidis.RedisMessage{}, nil
}
func (noStore) Update(string, string, rueidis.RedisMessage) int64 { return 0 }
func (noStore) Cancel(string, string, error)                      {}
func (noStore) Delete([]rueidis.RedisMessage)                     {}
func (noStore) Close(error)                                       {}

// Done is closed when the flight has finished; Result is valid then.
func (f *Flight) Done() <-chan struct{} { return f.done }

// ErrLeadAbandoned is what reads waiting on a flight get when the read
// that led it panicked before it finished.
var ErrLeadAbandoned = errors.New("redsafe: the read this Get waited for was abandoned")

// LeaderGaveUp reports whether a flight failed for a reason of the read
// that led it rather than of the key: its context ended, or it panicked.
// A waiter with time left reads the key itself then.
func LeaderGaveUp(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrLeadAbandoned)
}

// Stats are the cache's counters and size.
type Stats struct {
	Hits, Misses, Invalidations, Flushes, Evictions uint64
	Entries                                         int
	Bytes                                           int64
}

// Stats returns the counters, and the entries and bytes held now.
func (l *Cache) Stats() Stats {
	st := Stats{
		Hits: l.hits.Load(), Misses: l.misses.Load(), Invalidations: l.invalidations.Load(),
		Flushes: l.flushes.Load(), Evictions: l.evictions.Load(),
	}
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.RLock()
		st.Entries += len(s.entries)
		st.Bytes += s.bytes
		s.mu.RUnlock()
	}
	return st
}
