package redsafe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Fetch returns the value of key, or, when the key does not exist, calls
// load, stores what it returns under key with ttl (as Set does) and returns
// it: the cache-aside pattern.
//
// Concurrent Fetches of one key in this process share one load: the first
// to miss calls it, with its own context, and the others wait for its
// result (each gets its own copy). A waiter whose context ends returns its
// context's error; if the leading Fetch's context ends, or load panics, a
// waiter with time left takes over and loads itself. With
// Options.LocalCache on, a Fetch of a key cached in process memory is
// answered from there, and concurrent misses share one read of Redis as
// Get's do. Fetches in other processes are not coordinated: each process
// loads at most once at a time for a key.
//
// What Fetch returns in each case:
//   - a value that is stored, however it got there (this Cache, another
//     Cache, another process): that value, and load is not called;
//   - load's error, unchanged and uncached, to the leading Fetch and every
//     Fetch that waited for it; the next Fetch calls load again;
//   - a stored value that fails authentication: its *DecryptError
//     (matching ErrUndecryptable), and load is not called. The value is
//     evidence of tampering or of a missing key in Options.PreviousKeys;
//     replacing it silently would hide both, so it is left in place, as
//     Get leaves it; delete it to have Fetch load again;
//   - an error reading Redis (unreachable, timed out): that error, and
//     load is not called, so that a cache outage does not become a
//     stampede on whatever load calls; a service that prefers to serve
//     without the cache calls load itself on an error that is not load's;
//   - a loaded value that could not be stored: the value, with a nil
//     error, since the caller has what it asked for. The failed write is
//     logged at warn level with the key's digest and observed as a failed
//     Set; the next Fetch loads again.
//
// A negative ttl is an error before anything is read; zero means no expiry.
// Fetch makes a Get, and on a miss another Get (a Fetch that finished in
// between may have stored the key) and a Set; the Observer sees each.
func (c *Cache) Fetch(ctx context.Context, key string, ttl time.Duration, load func(context.Context) ([]byte, error)) ([]byte, error) {
	if ttl < 0 {
		return nil, fmt.Errorf("redsafe: negative ttl %v for Fetch; use 0 for no expiry", ttl)
	}
	if v, err := c.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		return v, err
	}
	for {
		call, leader := fetches.join(c, key)
		if leader {
			return c.leadFetch(ctx, key, ttl, load, call)
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			fetches.leave(call)
			return nil, c.opError(ctx.Err())
		}
		if call.abandoned && ctx.Err() == nil {
			continue // the Fetch that led gave up; this one has time left
		}
		if call.err != nil {
			return nil, call.err
		}
		return append([]byte{}, call.value...), nil
	}
}

// leadFetch reads key again, and loads and stores it on a miss, for the
// fetchCall that the caller leads.
func (c *Cache) leadFetch(ctx context.Context, key string, ttl time.Duration, load func(context.Context) ([]byte, error), call *fetchCall) ([]byte, error) {
	finished := false
	defer func() {
		if !finished { // load panicked: the waiters must not wait forever
			fetches.finish(c, key, call, nil, errFetchAbandoned, true)
		}
	}()
	v, err := c.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		v, err = load(ctx)
		if err == nil {
			if v == nil {
				v = []byte{} // stored as an empty value, returned as one
			}
			if serr := c.Set(ctx, key, v, ttl); serr != nil {
				c.log.LogAttrs(ctx, slog.LevelWarn, "redsafe: Fetch could not store the loaded value",
					slog.String("key_sha256", keyDigest(c.name(key))),
					slog.String("class", string(ClassifyError(serr))), slog.String("error", serr.Error()))
			}
		}
	}
	// A leader whose own context ended failed for its own reason, not the
	// key's: the waiters with time left try again rather than take it.
	fetches.finish(c, key, call, v, err, err != nil && ctx.Err() != nil)
	finished = true
	return v, err
}

// errFetchAbandoned is what a leading Fetch's call ends with when load
// panicked; only waiters whose contexts have ended see it.
var errFetchAbandoned = errors.New("redsafe: the Fetch this one waited for was abandoned")

// fetchGroup is the single flight of Fetch: at most one call in flight per
// Cache and key. It holds only calls in flight, so it is one group for the
// process, keyed by the Cache, rather than a field of each Cache: a closed
// Cache leaves nothing behind in it.
type fetchGroup struct {
	mu    sync.Mutex
	calls map[fetchKey]*fetchCall
}

type fetchKey struct {
	c   *Cache
	key string
}

// fetchCall is one Fetch's read and load of a key, shared by the Fetches
// of the same key that miss while it is under way.
type fetchCall struct {
	done      chan struct{}
	value     []byte // for waiters; never modified once done is closed
	err       error
	abandoned bool // the leader's context ended or load panicked
	waiters   int  // under fetchGroup.mu
}

var fetches = fetchGroup{calls: map[fetchKey]*fetchCall{}}

// join returns the call in flight for key, or a new one the caller leads.
func (g *fetchGroup) join(c *Cache, key string) (*fetchCall, bool) {
	k := fetchKey{c, key}
	g.mu.Lock()
	defer g.mu.Unlock()
	if call := g.calls[k]; call != nil {
		call.waiters++
		return call, false
	}
	call := &fetchCall{done: make(chan struct{})}
	g.calls[k] = call
	return call, true
}

// leave is for a waiter that stops waiting.
func (g *fetchGroup) leave(call *fetchCall) {
	g.mu.Lock()
	call.waiters--
	g.mu.Unlock()
}

// finish ends call and wakes its waiters.
func (g *fetchGroup) finish(c *Cache, key string, call *fetchCall, value []byte, err error, abandoned bool) {
	k := fetchKey{c, key}
	g.mu.Lock()
	if g.calls[k] == call {
		delete(g.calls, k)
	}
	call.err, call.abandoned = err, abandoned
	if err == nil && call.waiters > 0 {
		// A copy: the leader's caller owns value and may change it.
		call.value = append([]byte{}, value...)
	}
	g.mu.Unlock()
	close(call.done)
}

// waiting is how many Fetches wait for the call in flight for key, for
// tests that must know every caller is waiting before load returns.
func (g *fetchGroup) waiting(c *Cache, key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if call := g.calls[fetchKey{c, key}]; call != nil {
		return call.waiters
	}
	return 0
}
