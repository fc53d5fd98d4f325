package redsafe

import (
	"context"
	"errors"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/localcache"
)

// The glue between Cache and its local cache (Options.LocalCache), whose
// design is in package internal/localcache: this file reads Redis and opens
// the tokens for it, and exposes its counters.

// localCache is a Cache's local cache.
type localCache struct{ *localcache.Cache }

func newLocalCache(o LocalCacheOptions) *localCache {
	ttl := o.TTL
	if ttl <= 0 {
		ttl = DefaultLocalCacheTTL
	}
	return &localCache{localcache.New(o.MaxBytes, ttl)}
}

// clientOption makes rueidis track every read and tell l about
// invalidations, without caching anything itself.
func (l *localCache) clientOption(opt *rueidis.ClientOption) { l.ClientOption(opt) }

// getLocal is Get with the local cache on.
func (c *Cache) getLocal(ctx context.Context, key string) ([]byte, error) {
	full := c.name(key)
	wall := c.wallClock()
	if v, ok := c.local.Get(full, wall); ok {
		return v, nil
	}
	for {
		v, hit, f, leader := c.local.Begin(full, wall)
		switch {
		case hit:
			return v, nil
		case leader:
			return c.fill(ctx, key, f)
		}
		select {
		case <-f.Done():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		v, err := f.Result()
		if err != nil && ctx.Err() == nil && localcache.LeaderGaveUp(err) {
			continue // the Get that led gave up; this one has time left
		}
		return v, err
	}
}

// fill reads key from Redis for the flight f that the caller leads.
func (c *Cache) fill(ctx context.Context, key string, f *localcache.Flight) ([]byte, error) {
	full := c.name(key)
	started := c.local.Now()
	finished := false
	defer func() {
		if !finished { // a panic in a caller's Observer or log handler
			c.local.Finish(full, f, nil, localcache.Expiry{}, localcache.ErrLeadAbandoned)
		}
	}()
	r := c.doMulti(ctx, c.client.B().Pttl().Key(full).Build(), c.client.B().Get().Key(full).Build())
	v, x, err := c.fillResult(ctx, key, started, r[0], r[1])
	c.local.Finish(full, f, v, x, err)
	finished = true
	return v, err
}

// fillResult opens the reply to PTTL and GET of key, and says until when
// the value may be cached.
func (c *Cache) fillResult(ctx context.Context, key string, started int64, pttl, get rueidis.RedisResult) ([]byte, localcache.Expiry, error) {
	token, err := get.AsBytes()
	if err != nil {
		if rueidis.IsRedisNil(err) {
			return nil, localcache.Expiry{}, ErrNotFound
		}
		return nil, localcache.Expiry{}, err
	}
	ms, err := pttl.AsInt64()
	if err != nil {
		return nil, localcache.Expiry{}, err
	}
	v, err := c.open(ctx, key, token)
	if err != nil {
		return nil, localcache.Expiry{}, err
	}
	return v, c.local.Until(started, ms, token, c.tokenTTL), nil
}

// wallClock is the time by Options.Clock in Unix nanoseconds, for the
// TokenTTL bound of local cache entries; 0 without TokenTTL.
func (c *Cache) wallClock() int64 {
	if c.tokenTTL <= 0 {
		return 0
	}
	return c.clock().UnixNano()
}

// getManyLocal is GetMany with the local cache on: hits from memory, the
// misses in one pipeline, and keys that other Gets are reading already
// from their reads.
func (c *Cache) getManyLocal(ctx context.Context, keys []string) (map[string][]byte, error) {
	type miss struct {
		key string
		f   *localcache.Flight
	}
	values := make(map[string][]byte, len(keys))
	var lead, wait []miss
	wall := c.wallClock()
	for _, k := range keys {
		full := c.name(k)
		if v, ok := c.local.Get(full, wall); ok {
			values[k] = v
			continue
		}
		v, hit, f, leader := c.local.Begin(full, wall)
		switch {
		case hit:
			values[k] = v
		case leader:
			lead = append(lead, miss{k, f})
		default:
			wait = append(wait, miss{k, f})
		}
	}
	var errs []error
	var failed error // a failure of the read itself, not of one value
	if len(lead) > 0 {
		cmds := make(rueidis.Commands, 0, 2*len(lead))
		for _, m := range lead {
			cmds = append(cmds, c.client.B().Pttl().Key(c.name(m.key)).Build(), c.client.B().Get().Key(c.name(m.key)).Build())
		}
		// Every flight led here is finished, whatever happens (a panic in
		// a caller's Observer or log handler included), or the Gets
		// waiting for it would wait until their contexts end.
		finished := 0
		defer func() {
			for _, m := range lead[finished:] {
				c.local.Finish(c.name(m.key), m.f, nil, localcache.Expiry{}, localcache.ErrLeadAbandoned)
			}
		}()
		started := c.local.Now()
		r := c.doMulti(ctx, cmds...)
		for i, m := range lead {
			v, x, err := c.fillResult(ctx, m.key, started, r[2*i], r[2*i+1])
			c.local.Finish(c.name(m.key), m.f, v, x, err)
			finished++
			switch {
			case err == nil:
				values[m.key] = v
			case errors.Is(err, ErrNotFound):
			case errors.Is(err, ErrUndecryptable):
				errs = append(errs, err)
			case failed == nil:
				failed = err
			}
		}
	}
	if failed != nil {
		return nil, failed
	}
	for _, m := range wait {
		select {
		case <-m.f.Done():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		v, err := m.f.Result()
		if err != nil && ctx.Err() == nil && localcache.LeaderGaveUp(err) {
			v, err = c.getLocal(ctx, m.key) // the Get that led gave up
		}
		switch {
		case err == nil:
			values[m.key] = v
		case errors.Is(err, ErrNotFound):
		case errors.Is(err, ErrUndecryptable):
			errs = append(errs, err)
		default:
			return nil, err
		}
	}
	return values, errors.Join(errs...)
}

// dropLocal drops keys from the local cache, for a write.
func (c *Cache) dropLocal(keys []string) {
	for _, k := range keys {
		c.local.Drop(c.name(k))
	}
}

// LocalCacheStats are the counters of Options.LocalCache since Open.
type LocalCacheStats struct {
	Hits   uint64 // Gets answered from process memory
	Misses uint64 // Gets that had to read Redis (or wait for a read of the same key)
	// Invalidations counts the keys the server said were changed, by
	// another client or by this one, while tracked.
	Invalidations uint64
	// Flushes counts drops of everything: a connection closed, the
	// server was flushed, or a cluster's slot map changed.
	Flushes   uint64
	Evictions uint64 // entries dropped to stay within MaxBytes
	Entries   int
	Bytes     int64 // what the entries take, as counted against MaxBytes
}

// LocalCacheStats returns the counters of the local cache; all zero when
// Options.LocalCache is off.
func (c *Cache) LocalCacheStats() LocalCacheStats {
	if c.local == nil {
		return LocalCacheStats{}
	}
	st := c.local.Stats()
	return LocalCacheStats{
		Hits: st.Hits, Misses: st.Misses, Invalidations: st.Invalidations,
		Flushes: st.Flushes, Evictions: st.Evictions, Entries: st.Entries, Bytes: st.Bytes,
	}
}
