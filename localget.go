package redsafe

import (
	"context"
	"errors"

	"github.com/redis/rueidis"
)

// The Cache methods' paths through the local cache; see localcache.go.

// getLocal is Get with the local cache on.
func (c *Cache) getLocal(ctx context.Context, key string) ([]byte, error) {
	full := c.prefix + key
	wall := c.wallClock()
	if v, ok := c.local.get(full, wall); ok {
		return v, nil
	}
	for {
		v, hit, f, leader := c.local.begin(full, wall)
		switch {
		case hit:
			return v, nil
		case leader:
			return c.fill(ctx, key, f)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		v, err := f.result()
		if err != nil && ctx.Err() == nil && leaderGaveUp(err) {
			continue // the Get that led gave up; this one has time left
		}
		return v, err
	}
}

// fill reads key from Redis for the flight f that the caller leads.
func (c *Cache) fill(ctx context.Context, key string, f *localFlight) ([]byte, error) {
	full := c.prefix + key
	started := c.local.now()
	finished := false
	defer func() {
		if !finished { // a panic in a caller's Observer or log handler
			c.local.finish(full, f, nil, localExpiry{}, errLeadAbandoned)
		}
	}()
	r := c.doMulti(ctx, c.client.B().Pttl().Key(full).Build(), c.client.B().Get().Key(full).Build())
	v, x, err := c.fillResult(ctx, key, started, r[0], r[1])
	c.local.finish(full, f, v, x, err)
	finished = true
	return v, err
}

// fillResult opens the reply to PTTL and GET of key, and says until when
// the value may be cached.
func (c *Cache) fillResult(ctx context.Context, key string, started int64, pttl, get rueidis.RedisResult) ([]byte, localExpiry, error) {
	token, err := get.AsBytes()
	if err != nil {
		if rueidis.IsRedisNil(err) {
			return nil, localExpiry{}, ErrNotFound
		}
		return nil, localExpiry{}, err
	}
	ms, err := pttl.AsInt64()
	if err != nil {
		return nil, localExpiry{}, err
	}
	v, err := c.open(ctx, key, token)
	if err != nil {
		return nil, localExpiry{}, err
	}
	return v, c.local.expiry(started, ms, token, c.tokenTTL), nil
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
		f   *localFlight
	}
	values := make(map[string][]byte, len(keys))
	var lead, wait []miss
	wall := c.wallClock()
	for _, k := range keys {
		full := c.prefix + k
		if v, ok := c.local.get(full, wall); ok {
			values[k] = v
			continue
		}
		v, hit, f, leader := c.local.begin(full, wall)
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
			cmds = append(cmds, c.client.B().Pttl().Key(c.prefix+m.key).Build(), c.client.B().Get().Key(c.prefix+m.key).Build())
		}
		// Every flight led here is finished, whatever happens (a panic in
		// a caller's Observer or log handler included), or the Gets
		// waiting for it would wait until their contexts end.
		finished := 0
		defer func() {
			for _, m := range lead[finished:] {
				c.local.finish(c.prefix+m.key, m.f, nil, localExpiry{}, errLeadAbandoned)
			}
		}()
		started := c.local.now()
		r := c.doMulti(ctx, cmds...)
		for i, m := range lead {
			v, x, err := c.fillResult(ctx, m.key, started, r[2*i], r[2*i+1])
			c.local.finish(c.prefix+m.key, m.f, v, x, err)
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
		case <-m.f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		v, err := m.f.result()
		if err != nil && ctx.Err() == nil && leaderGaveUp(err) {
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
		c.local.drop(c.prefix + k)
	}
}

// errLeadAbandoned is what Gets waiting on a GetMany's read get when that
// GetMany panicked before it finished.
var errLeadAbandoned = errors.New("redsafe: the read this Get waited for was abandoned")

// leaderGaveUp reports whether a flight failed for a reason of the Get
// that led it rather than of the key: its context ended, or it panicked.
// A waiter with time left reads the key itself then.
func leaderGaveUp(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errLeadAbandoned)
}
