package redsafe

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// Fetch and FetchJSON against a real server, with and without the local
// cache.

var localModes = map[string]LocalCacheOptions{
	"remote only": {},
	"LocalCache":  {MaxBytes: 1 << 20, TTL: time.Minute},
}

func openWithLocal(t *testing.T, s *redisserver.Server, local LocalCacheOptions) *Cache {
	t.Helper()
	o := serverOptions(s)
	o.LocalCache = local
	return openCache(t, o)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fetchAll runs n concurrent Fetches of key whose load blocks until all n
// are in: one loading and n-1 waiting for it. Only then does load return
// result, so a test cannot pass because the Fetches happened not to
// overlap. It returns what each Fetch returned and how many loads ran.
func fetchAll(t *testing.T, c *Cache, key string, n int, result func() ([]byte, error)) ([][]byte, []error, int64) {
	t.Helper()
	ctx := testContext(t)
	var loads atomic.Int64
	release := make(chan struct{})
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		<-release
		return result()
	}
	values, errs := make([][]byte, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { values[i], errs[i] = c.Fetch(ctx, key, time.Minute, load) })
	}
	waitFor(t, "one load runs and every other Fetch waits for it", func() bool {
		return loads.Load() >= 1 && fetches.waiting(c, key) == n-1
	})
	close(release)
	wg.Wait()
	return values, errs, loads.Load()
}

// TestFetchOneLoad: 50 concurrent Fetches of a missing key lead to exactly
// one load, each gets the value, and it is stored for the next Fetch.
func TestFetchOneLoad(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	for name, local := range localModes {
		t.Run(name, func(t *testing.T) {
			c := openWithLocal(t, s, local)
			key := "one-load:" + name
			values, errs, loads := fetchAll(t, c, key, 50, func() ([]byte, error) { return []byte("computed"), nil })
			if loads != 1 {
				t.Fatalf("%d loads for 50 concurrent Fetches of one key, want 1", loads)
			}
			for i := range values {
				if errs[i] != nil || string(values[i]) != "computed" {
					t.Fatalf("Fetch %d = %q, %v", i, values[i], errs[i])
				}
			}
			values[0][0] = 'X' // each caller has its own copy
			if string(values[1]) != "computed" {
				t.Fatal("two Fetches share one slice")
			}
			v, err := c.Fetch(testContext(t), key, time.Minute, func(context.Context) ([]byte, error) {
				t.Error("load called for a stored key")
				return nil, nil
			})
			if err != nil || string(v) != "computed" {
				t.Fatalf("the next Fetch = %q, %v", v, err)
			}
			if ttl, err := c.TTL(testContext(t), key); err != nil || ttl <= 0 || ttl > time.Minute {
				t.Fatalf("the loaded value's TTL = %v, %v; want the minute Fetch was given", ttl, err)
			}
		})
	}
}

// TestFetchLoadError: load's error reaches every Fetch that waited for it,
// unchanged, and is not cached: the next Fetch loads again.
func TestFetchLoadError(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	errBoom := errors.New("backend down")
	for name, local := range localModes {
		t.Run(name, func(t *testing.T) {
			c := openWithLocal(t, s, local)
			key := "load-error:" + name
			_, errs, loads := fetchAll(t, c, key, 5, func() ([]byte, error) { return nil, errBoom })
			if loads != 1 {
				t.Fatalf("%d loads, want 1", loads)
			}
			for i, err := range errs {
				if err != errBoom {
					t.Fatalf("Fetch %d returned %v, want load's error unchanged", i, err)
				}
			}
			if ok, err := c.Exists(testContext(t), key); ok || err != nil {
				t.Fatalf("after a failed load the key exists (%v, %v)", ok, err)
			}
			called := false
			v, err := c.Fetch(testContext(t), key, 0, func(context.Context) ([]byte, error) {
				called = true
				return []byte("second try"), nil
			})
			if !called || err != nil || string(v) != "second try" {
				t.Fatalf("the Fetch after a failed load: load called %v, got %q, %v", called, v, err)
			}
		})
	}
}

// TestFetchOtherClient: a value another client stored is returned without
// load; with the local cache, a later write by that client is seen once
// its invalidation arrives, still without load.
func TestFetchOtherClient(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	other := openCache(t, serverOptions(s))
	noLoad := func(context.Context) ([]byte, error) {
		t.Error("load called for a key another client stored")
		return []byte("loaded"), nil
	}
	for name, local := range localModes {
		t.Run(name, func(t *testing.T) {
			c := openWithLocal(t, s, local)
			ctx := testContext(t)
			key := "other:" + name
			if err := other.Set(ctx, key, []byte("theirs"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Fetch(ctx, key, time.Minute, noLoad); err != nil || string(v) != "theirs" {
				t.Fatalf("Fetch = %q, %v; want the other client's value", v, err)
			}
			if err := other.Set(ctx, key, []byte("newer"), time.Minute); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "Fetch returns the other client's newer value", func() bool {
				v, err := c.Fetch(ctx, key, time.Minute, noLoad)
				return err == nil && string(v) == "newer"
			})
			if local.MaxBytes > 0 {
				before := c.LocalCacheStats().Hits
				if v, err := c.Fetch(ctx, key, time.Minute, noLoad); err != nil || string(v) != "newer" {
					t.Fatalf("Fetch = %q, %v", v, err)
				}
				if c.LocalCacheStats().Hits == before {
					t.Error("a Fetch of a key just read was not answered from the local cache")
				}
			}
		})
	}
}

// TestFetchRefusedValue: a stored value that fails authentication is
// returned as its DecryptError, load is not called, and the value stays.
func TestFetchRefusedValue(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	for name, local := range localModes {
		t.Run(name, func(t *testing.T) {
			c := openWithLocal(t, s, local)
			key := "refused:" + name
			s.Do(t, "SET", key, "gAAAAAforged")
			v, err := c.Fetch(testContext(t), key, time.Minute, func(context.Context) ([]byte, error) {
				t.Error("load called for a refused value, which would overwrite it")
				return []byte("replacement"), nil
			})
			var de *DecryptError
			if !errors.As(err, &de) || !errors.Is(err, ErrUndecryptable) || v != nil {
				t.Fatalf("Fetch of a forged value = %q, %v; want a *DecryptError", v, err)
			}
			if de.Key() != key {
				t.Errorf("DecryptError.Key() = %q", de.Key())
			}
			if raw := s.Do(t, "GET", key); raw != "gAAAAAforged" {
				t.Fatalf("the refused value was replaced: %q", raw)
			}
			_, err = FetchJSON(testContext(t), c, key, time.Minute, func(context.Context) (int, error) {
				t.Error("FetchJSON called load for a refused value")
				return 0, nil
			})
			if !errors.As(err, &de) {
				t.Fatalf("FetchJSON of a forged value: %v", err)
			}
		})
	}
}

// TestFetchLeaderGivesUp: when the leading Fetch's context ends, a waiting
// Fetch with time left loads instead of taking the leader's error; a
// waiter whose own context ends returns at once.
func TestFetchLeaderGivesUp(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	var loads atomic.Int64
	load := func(ctx context.Context) ([]byte, error) {
		if loads.Add(1) == 1 {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return []byte("by the waiter"), nil
	}
	leaderCtx, cancel := context.WithCancel(testContext(t))
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Fetch(leaderCtx, "k", time.Minute, load)
		leaderErr <- err
	}()
	waitFor(t, "the leader loads", func() bool { return loads.Load() == 1 })

	shortCtx, cancelShort := context.WithCancel(testContext(t))
	shortErr := make(chan error, 1)
	go func() {
		_, err := c.Fetch(shortCtx, "k", time.Minute, load)
		shortErr <- err
	}()
	type result struct {
		v   []byte
		err error
	}
	waiter := make(chan result, 1)
	go func() {
		v, err := c.Fetch(testContext(t), "k", time.Minute, load)
		waiter <- result{v, err}
	}()
	waitFor(t, "two Fetches wait", func() bool { return fetches.waiting(c, "k") == 2 })
	cancelShort()
	if err := <-shortErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiter whose context ended returned %v", err)
	}
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the leader returned %v, want its context's error", err)
	}
	if r := <-waiter; r.err != nil || string(r.v) != "by the waiter" {
		t.Fatalf("the waiter returned %q, %v; want it to load itself", r.v, r.err)
	}
	if n := loads.Load(); n != 2 {
		t.Fatalf("%d loads, want 2", n)
	}
}

// TestFetchPanic: a load that panics does not leave the Fetches waiting
// for it stuck; they load themselves.
func TestFetchPanic(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	var loads atomic.Int64
	release := make(chan struct{})
	load := func(context.Context) ([]byte, error) {
		if loads.Add(1) == 1 {
			<-release
			panic("load failed hard")
		}
		return []byte("ok"), nil
	}
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		c.Fetch(testContext(t), "k", 0, load)
	}()
	waitFor(t, "the leader loads", func() bool { return loads.Load() == 1 })
	done := make(chan error, 1)
	go func() {
		v, err := c.Fetch(testContext(t), "k", 0, load)
		if err == nil && string(v) != "ok" {
			err = errors.New("got " + string(v))
		}
		done <- err
	}()
	waitFor(t, "a Fetch waits", func() bool { return fetches.waiting(c, "k") == 1 })
	close(release)
	if p := <-panicked; p != "load failed hard" {
		t.Fatalf("the leader's panic was %v, want load's own", p)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiter after a panicking load: %v", err)
	}
}

// TestFetchNegativeTTL: refused before anything is read or loaded.
func TestFetchNegativeTTL(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	if _, err := c.Fetch(testContext(t), "k", -time.Second, func(context.Context) ([]byte, error) {
		t.Error("load called with a negative ttl")
		return nil, nil
	}); err == nil {
		t.Fatal("Fetch accepted a negative ttl")
	}
}

// TestFetchJSON: a round trip of a typed value; the next call, and GetJSON,
// read what the first stored; a value of another type is an error, not a
// reason to load and overwrite.
func TestFetchJSON(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	type profile struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	want := profile{Name: "ada", Roles: []string{"admin"}}
	for name, local := range localModes {
		t.Run(name, func(t *testing.T) {
			c := openWithLocal(t, s, local)
			ctx := testContext(t)
			key := "profile:" + name
			loads := 0
			load := func(context.Context) (profile, error) {
				loads++
				return want, nil
			}
			for i := range 2 {
				got, err := FetchJSON(ctx, c, key, time.Minute, load)
				if err != nil || got.Name != want.Name || len(got.Roles) != 1 || got.Roles[0] != "admin" {
					t.Fatalf("FetchJSON %d = %+v, %v", i, got, err)
				}
			}
			if loads != 1 {
				t.Fatalf("%d loads for two FetchJSONs, want 1", loads)
			}
			if got, err := GetJSON[profile](ctx, c, key); err != nil || got.Name != "ada" {
				t.Fatalf("GetJSON of what FetchJSON stored = %+v, %v", got, err)
			}
			if raw := s.Do(t, "GET", key); strings.Contains(raw, "ada") {
				t.Fatal("FetchJSON stored JSON in clear")
			}
			if _, err := FetchJSON(ctx, c, key, time.Minute, func(context.Context) (int, error) {
				t.Error("load called for a value of another type")
				return 0, nil
			}); err == nil {
				t.Fatal("FetchJSON[int] decoded an object")
			}
			// A result that cannot be encoded is load's failure: not stored.
			_, err := FetchJSON(ctx, c, key+":chan", time.Minute, func(context.Context) (chan int, error) { return make(chan int), nil })
			if err == nil {
				t.Fatal("FetchJSON stored a channel")
			}
			if ok, _ := c.Exists(ctx, key+":chan"); ok {
				t.Fatal("a value that failed to encode was stored")
			}
		})
	}
}

// TestSetManyPartialFailure checks what SetMany's documentation promises
// when some items fail: here the ACL lets the user write only "ok:*", so
// the others fail. The allowed items are stored whole and readable, the
// refused ones keep their previous state, a retry is harmless, and a
// negative ttl stores nothing.
func TestSetManyPartialFailure(t *testing.T) {
	t.Parallel()
	password := GeneratePassword(Production)
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{{Name: "part", Password: password, Rules: "~ok:* +@all"}}})
	o := serverOptions(s)
	o.URL, o.Password = s.URL("part", ""), password
	c := openCache(t, o)
	ctx := testContext(t)
	s.Do(t, "SET", "no:1", "previous")
	items := map[string][]byte{"ok:1": []byte("one"), "ok:2": []byte("two"), "no:1": []byte("refused"), "no:2": []byte("refused")}
	for attempt := range 2 {
		if err := c.SetMany(ctx, items, time.Minute); err == nil {
			t.Fatalf("attempt %d: SetMany returned nil though two items were refused", attempt)
		}
		got, err := c.GetMany(ctx, []string{"ok:1", "ok:2"})
		if err != nil || string(got["ok:1"]) != "one" || string(got["ok:2"]) != "two" {
			t.Fatalf("attempt %d: the allowed items read back as %q, %v", attempt, got, err)
		}
		if ttl, err := c.TTL(ctx, "ok:1"); err != nil || ttl <= 0 {
			t.Fatalf("attempt %d: a stored item has TTL %v, %v", attempt, ttl, err)
		}
		if raw := s.Do(t, "GET", "no:1"); raw != "previous" {
			t.Fatalf("attempt %d: a refused item's previous value became %q", attempt, raw)
		}
		if raw := s.Do(t, "EXISTS", "no:2"); strings.TrimPrefix(raw, ":") != "0" {
			t.Fatalf("attempt %d: a refused item exists: %q", attempt, raw)
		}
	}
	if err := c.SetMany(ctx, map[string][]byte{"ok:3": []byte("x")}, -time.Second); err == nil {
		t.Fatal("SetMany accepted a negative ttl")
	}
	if ok, err := c.Exists(ctx, "ok:3"); ok || err != nil {
		t.Fatalf("SetMany with a negative ttl stored something (%v, %v)", ok, err)
	}
}
