package redsafe_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// The local cache is tested against real servers only, as an ACL user
// (cmd/internal/serverconf tests it as the app user that `redsafe conf` and
// `redsafe up` create, whose ACL must allow CLIENT TRACKING). Another
// client's writes go through a second Cache without a local cache, or as
// raw commands from the harness.

type localEnv struct {
	srv  *redisserver.Server
	opts redsafe.Options // as the app user; no local cache
}

func startLocalEnv(t *testing.T) localEnv {
	t.Helper()
	password := redsafe.GeneratePassword(redsafe.Production)
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{{Name: "app", Password: password, Rules: "~* +@all"}}})
	return localEnv{srv: s, opts: redsafe.Options{
		Environment:   redsafe.Production,
		URL:           s.URL("app", ""),
		Password:      password,
		EncryptionKey: seal.GenerateKey().Encode(),
		TLS:           redsafe.TLSOptions{CAFile: s.CAFile},
		DialTimeout:   2 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
}

func (e localEnv) open(t *testing.T, local redsafe.LocalCacheOptions) *redsafe.Cache {
	t.Helper()
	o := e.opts
	o.LocalCache = local
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open with LocalCache %+v as the app user: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls get until it returns want, for at most 2 s: the bound
// within which an invalidation must have arrived.
func eventually(t *testing.T, what string, get func() (string, error), want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := get()
		if err != nil {
			got = "error: " + err.Error()
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %q after 2 s, want %q", what, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func getString(ctx context.Context, c *redsafe.Cache, key string) func() (string, error) {
	return func() (string, error) {
		v, err := c.Get(ctx, key)
		return string(v), err
	}
}

// TestLocalCacheCoherent: a second client's write, delete or expire
// invalidates the first client's copy; a raw write of garbage is refused,
// never masked by the copy.
func TestLocalCacheCoherent(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	c := e.open(t, redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour})
	other := e.open(t, redsafe.LocalCacheOptions{})
	ctx := ctxFor(t)

	if err := c.Set(ctx, "k", []byte("v1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v1" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	st := c.LocalCacheStats()
	if st.Hits != 2 || st.Misses != 1 || st.Entries != 1 {
		t.Fatalf("after one miss and two hits: %+v", st)
	}
	// A hit returns a copy: changing it changes nothing cached.
	v, _ := c.Get(ctx, "k")
	v[0] = 'X'
	if v, _ := c.Get(ctx, "k"); string(v) != "v1" {
		t.Fatalf("the cached value changed with the caller's copy: %q", v)
	}

	if err := other.Set(ctx, "k", []byte("v2"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "after another client's Set", getString(ctx, c, "k"), "v2")
	if st := c.LocalCacheStats(); st.Invalidations == 0 {
		t.Fatalf("no invalidation counted: %+v", st)
	}

	// A raw write that is not a token: the reader must see the refusal,
	// not its cached copy of v2.
	getString(ctx, c, "k")() // cached again
	if r := e.srv.Do(t, "SET", "k", "not a token"); r != "+OK" {
		t.Fatal(r)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := c.Get(ctx, "k")
		if errors.Is(err, redsafe.ErrUndecryptable) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get still returns %v 2 s after a raw write", err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Delete and expire from elsewhere.
	if err := other.Set(ctx, "k", []byte("v3"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "after another Set", getString(ctx, c, "k"), "v3")
	if n, err := other.Delete(ctx, "k"); n != 1 || err != nil {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	eventually(t, "after another client's Delete", getString(ctx, c, "k"), "error: "+redsafe.ErrNotFound.Error())

	if err := other.Set(ctx, "e", []byte("short-lived"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "read e", getString(ctx, c, "e"), "short-lived")
	if r := e.srv.Do(t, "PEXPIRE", "e", "1"); r != ":1" {
		t.Fatal(r)
	}
	eventually(t, "after PEXPIRE from elsewhere", getString(ctx, c, "e"), "error: "+redsafe.ErrNotFound.Error())

	// FLUSHALL (by an admin) drops everything.
	if err := other.Set(ctx, "f", []byte("before flush"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "read f", getString(ctx, c, "f"), "before flush")
	e.srv.Do(t, "FLUSHALL")
	eventually(t, "after FLUSHALL", getString(ctx, c, "f"), "error: "+redsafe.ErrNotFound.Error())
}

// TestLocalCacheExpiry: no entry outlives its Redis TTL, LocalCache.TTL or
// the age TokenTTL allows.
func TestLocalCacheExpiry(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	ctx := ctxFor(t)

	c := e.open(t, redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour})
	if err := c.Set(ctx, "brief", []byte("v"), 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v, err := c.Get(ctx, "brief"); err != nil || string(v) != "v" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if st := c.LocalCacheStats(); st.Hits != 1 {
		t.Fatalf("the second Get was not a hit: %+v", st)
	}
	time.Sleep(200 * time.Millisecond)
	if v, err := c.Get(ctx, "brief"); !errors.Is(err, redsafe.ErrNotFound) {
		t.Fatalf("Get after the Redis TTL = %q, %v; want ErrNotFound", v, err)
	}

	// LocalCache.TTL bounds a key without expiry.
	short := e.open(t, redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: 100 * time.Millisecond})
	if err := short.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	short.Get(ctx, "forever")
	short.Get(ctx, "forever")
	if st := short.LocalCacheStats(); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("before the local TTL: %+v", st)
	}
	time.Sleep(150 * time.Millisecond)
	short.Get(ctx, "forever")
	if st := short.LocalCacheStats(); st.Misses != 2 {
		t.Fatalf("a Get after the local TTL was answered from memory: %+v", st)
	}

	// TokenTTL: once the token is too old, Get refuses it even though a
	// copy is cached, exactly as without the cache; in both formats (the
	// local cache reads the age of the token it keeps).
	for _, format := range []redsafe.Format{redsafe.FormatFernet, redsafe.FormatSealed} {
		var mu sync.Mutex
		now := time.Now()
		o := e.opts
		o.ValueFormat = format
		o.TokenTTL = 10 * time.Second
		o.LocalCache = redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour}
		o.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		tc, err := redsafe.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		key := "aging:" + format.String()
		if err := tc.Set(ctx, key, []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		tc.Get(ctx, key)
		if v, err := tc.Get(ctx, key); err != nil || string(v) != "v" || tc.LocalCacheStats().Hits != 1 {
			t.Fatalf("%v: Get within TokenTTL = %q, %v, %+v", format, v, err, tc.LocalCacheStats())
		}
		mu.Lock()
		now = now.Add(12 * time.Second)
		mu.Unlock()
		if _, err := tc.Get(ctx, key); !errors.Is(err, seal.ErrExpired) {
			t.Fatalf("%v: Get of a token older than TokenTTL = %v; want ErrExpired", format, err)
		}
	}
}

// TestLocalCacheReconnect: the server forgets a connection's tracking when
// it closes, so the cache must be flushed then; after a reconnect a key
// changed while the client was away reads as changed.
func TestLocalCacheReconnect(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	c := e.open(t, redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour})
	ctx := ctxFor(t)
	if err := c.Set(ctx, "k", []byte("before"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "read k", getString(ctx, c, "k"), "before")
	c.Get(ctx, "k")
	if st := c.LocalCacheStats(); st.Entries != 1 || st.Hits == 0 {
		t.Fatalf("k is not cached: %+v", st)
	}
	flushes := c.LocalCacheStats().Flushes
	// Every connection of the app user; the harness connects as default.
	if r := e.srv.Do(t, "CLIENT", "KILL", "USER", "app"); strings.HasPrefix(r, "-") {
		t.Fatal(r)
	}
	deadline := time.Now().Add(2 * time.Second)
	for c.LocalCacheStats().Flushes == flushes {
		if time.Now().After(deadline) {
			t.Fatalf("the cache was not flushed within 2 s of losing its connection: %+v", c.LocalCacheStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := c.LocalCacheStats(); st.Entries != 0 || st.Bytes != 0 {
		t.Fatalf("entries survived the flush: %+v", st)
	}
	// Written while c holds no connection, so no invalidation can reach
	// it: only the flush makes the next read see it.
	if r := e.srv.Do(t, "DEL", "k"); r != ":1" {
		t.Fatal(r)
	}
	other := e.open(t, redsafe.LocalCacheOptions{})
	if err := other.Set(ctx, "k", []byte("after"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "after" {
		t.Fatalf("Get after a reconnect = %q, %v; want the value written meanwhile", v, err)
	}
	// Tracking works on the new connection too.
	c.Get(ctx, "k")
	if err := other.Set(ctx, "k", []byte("again"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "after a Set on the new connection", getString(ctx, c, "k"), "again")
}

// TestLocalCacheBounded: memory stays within MaxBytes, evicting, and every
// read is still right.
func TestLocalCacheBounded(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	const maxBytes = 1 << 20
	c := e.open(t, redsafe.LocalCacheOptions{MaxBytes: maxBytes, TTL: time.Hour})
	ctx := ctxFor(t)
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 50_000) }
	items := map[string][]byte{}
	for i := range 60 {
		items[fmt.Sprint("big:", i)] = value(i)
	}
	if err := c.SetMany(ctx, items, time.Hour); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for i := range 60 {
			v, err := c.Get(ctx, fmt.Sprint("big:", i))
			if err != nil || !bytes.Equal(v, value(i)) {
				t.Fatalf("round %d, big:%d: %d bytes, %v", round, i, len(v), err)
			}
			if st := c.LocalCacheStats(); st.Bytes > maxBytes {
				t.Fatalf("the cache holds %d bytes, over MaxBytes %d", st.Bytes, maxBytes)
			}
		}
	}
	st := c.LocalCacheStats()
	if st.Evictions == 0 || st.Entries == 0 || st.Entries >= 60 {
		t.Fatalf("3 MB of values in a 1 MiB cache: %+v", st)
	}
	// A value over a quarter of the cache is served but not kept.
	huge := bytes.Repeat([]byte("h"), maxBytes/4)
	if err := c.Set(ctx, "huge", huge, time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v, err := c.Get(ctx, "huge"); err != nil || !bytes.Equal(v, huge) {
			t.Fatalf("Get(huge): %d bytes, %v", len(v), err)
		}
	}
	if after := c.LocalCacheStats(); after.Hits != st.Hits {
		t.Fatalf("a value over a quarter of MaxBytes was cached: %+v", after)
	}
}

// TestLocalCacheGetMany: hits and misses in one call, missing keys,
// duplicates, and invalidation of what GetMany cached.
func TestLocalCacheGetMany(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	o := e.opts
	o.KeyPrefix = "svc:"
	o.LocalCache = redsafe.LocalCacheOptions{MaxBytes: 1 << 20}
	ctx := ctxFor(t)
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o.LocalCache = redsafe.LocalCacheOptions{}
	other, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	if err := c.SetMany(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": []byte("3")}, time.Hour); err != nil {
		t.Fatal(err)
	}
	c.Get(ctx, "a") // a is cached, b and c are not
	keys := []string{"a", "b", "missing", "c", "b"}
	for range 2 {
		m, err := c.GetMany(ctx, keys)
		if err != nil || len(m) != 3 || string(m["a"]) != "1" || string(m["b"]) != "2" || string(m["c"]) != "3" {
			t.Fatalf("GetMany = %q, %v", m, err)
		}
	}
	if st := c.LocalCacheStats(); st.Entries != 3 {
		t.Fatalf("GetMany did not cache what it read: %+v", st)
	}
	if err := other.Set(ctx, "b", []byte("two"), time.Hour); err != nil {
		t.Fatal(err)
	}
	eventually(t, "GetMany after another client's Set", func() (string, error) {
		m, err := c.GetMany(ctx, keys)
		return string(m["b"]), err
	}, "two")
	// A value that fails authentication is reported, the others returned.
	e.srv.Do(t, "SET", "svc:c", "gAAAAAnot-a-token")
	eventually(t, "GetMany after a raw write", func() (string, error) {
		m, err := c.GetMany(ctx, keys)
		if !errors.Is(err, redsafe.ErrUndecryptable) {
			return fmt.Sprint(err), nil
		}
		return string(m["a"]) + string(m["b"]) + fmt.Sprint(len(m)), nil
	}, "1two2")
}

// TestLocalCacheReadsOwnWrites: in one process, a Get that follows a Set
// never returns the value from before it, while other goroutines read and
// write the same keys; and once writes stop, every reader converges.
func TestLocalCacheReadsOwnWrites(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	c := e.open(t, redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour})
	other := e.open(t, redsafe.LocalCacheOptions{})
	ctx := ctxFor(t)
	keys := []string{"h1", "h2", "h3"}
	for _, k := range keys {
		if err := c.Set(ctx, k, []byte("0"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				k := keys[(w+i)%len(keys)]
				want := fmt.Sprintf("w%d-%d", w, i)
				if err := c.Set(ctx, k, []byte(want), time.Hour); err != nil {
					errs <- err
					return
				}
				got, err := c.Get(ctx, k)
				if err != nil {
					errs <- err
					return
				}
				// Another writer may have written k since; but never may
				// the value from before this Set come back to this goroutine.
				if string(got) != want && strings.HasPrefix(string(got), fmt.Sprintf("w%d-", w)) {
					errs <- fmt.Errorf("Get after Set(%q) returned this goroutine's older %q", want, got)
					return
				}
				if i%10 == 0 {
					c.GetMany(ctx, keys)
				}
			}
		}()
	}
	for range 4 { // readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				if _, err := c.Get(ctx, keys[0]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // another process's writes
		defer wg.Done()
		for i := range 100 {
			if err := other.Set(ctx, keys[i%len(keys)], []byte(fmt.Sprint("other-", i)), time.Hour); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, k := range keys {
		final := fmt.Sprint("final-", i)
		if err := other.Set(ctx, k, []byte(final), time.Hour); err != nil {
			t.Fatal(err)
		}
		eventually(t, "converge "+k, getString(ctx, c, k), final)
	}
}

// TestLocalCacheNeedsTracking: a user that may not run CLIENT cannot open
// a Cache with a local cache, and is told why.
func TestLocalCacheNeedsTracking(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	password := redsafe.GeneratePassword(redsafe.Production)
	e.srv.Do(t, "ACL", "SETUSER", "notrack", "on", ">"+password, "~*", "+@all", "-client")
	o := e.opts
	o.URL = e.srv.URL("notrack", "")
	o.Password = password
	o.LocalCache = redsafe.LocalCacheOptions{MaxBytes: 1 << 20}
	c, err := redsafe.Open(ctxFor(t), o)
	if err == nil {
		c.Close()
		t.Fatal("Open with a local cache succeeded for a user without CLIENT TRACKING")
	}
	if !errors.Is(err, redsafe.ErrNoPermission) || !strings.Contains(err.Error(), "TRACKING") {
		t.Fatalf("Open = %v; want ErrNoPermission naming CLIENT TRACKING", err)
	}
	o.LocalCache = redsafe.LocalCacheOptions{}
	c, err = redsafe.Open(ctxFor(t), o)
	if err != nil {
		t.Fatalf("the same user without a local cache: %v", err)
	}
	c.Close()

	for _, bad := range []redsafe.LocalCacheOptions{{MaxBytes: -1}, {MaxBytes: 1, TTL: -time.Second}} {
		o := e.opts
		o.LocalCache = bad
		if r := redsafe.Validate(o); r.OK() || !strings.Contains(fmt.Sprint(r.Errors()), "localcache.") {
			t.Errorf("Validate(%+v) = %v", bad, r.Errors())
		}
	}
}

// TestLocalCachePTTLBound: with Redis's active expiry slowed down (hz 1),
// no invalidation announces an expiry in time: only the PTTL read with the
// value keeps the expired value from being served from memory.
func TestLocalCachePTTLBound(t *testing.T) {
	t.Parallel()
	e := startLocalEnv(t)
	if r := e.srv.Do(t, "CONFIG", "SET", "hz", "1"); r != "+OK" {
		t.Fatal(r)
	}
	c := e.open(t, redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour})
	ctx := ctxFor(t)
	for i := range 5 {
		if err := c.Set(ctx, "brief", []byte("v"), 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		c.Get(ctx, "brief")
		if v, err := c.Get(ctx, "brief"); err != nil || string(v) != "v" {
			t.Fatalf("round %d: Get within the TTL = %q, %v", i, v, err)
		}
		time.Sleep(130 * time.Millisecond)
		if v, err := c.Get(ctx, "brief"); !errors.Is(err, redsafe.ErrNotFound) {
			t.Fatalf("round %d: Get 30 ms after the Redis TTL = %q, %v; want ErrNotFound", i, v, err)
		}
	}
}
