package redsafe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/rueidis"
)

// NoExpiry is what TTL returns for a key that never expires.
const NoExpiry time.Duration = -1

// Get returns the value of key. It returns ErrNotFound when the key does not
// exist, and a *DecryptError (matching ErrUndecryptable) when the stored
// value fails authentication; such a value is neither returned nor deleted.
func (c *Cache) Get(ctx context.Context, key string) (_ []byte, err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandGet, start, err) }()
	if c.local != nil {
		return c.getLocal(ctx, key)
	}
	token, err := c.do(ctx, c.client.B().Get().Key(c.name(key)).Build()).AsBytes()
	if err != nil {
		if rueidis.IsRedisNil(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return c.open(ctx, key, token)
}

// Set seals value and stores it under key. A positive ttl sets an expiry
// (rounded up to a millisecond); zero means no expiry.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) (err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandSet, start, err) }()
	buf := tokenBuffer(c.sealer.SealedLenFor(len(value)))
	cmd, err := c.sealCommand(key, value, ttl, *buf)
	if err != nil {
		releaseToken(buf)
		return err
	}
	if c.local != nil {
		c.local.Drop(c.name(key))
		defer c.local.Drop(c.name(key))
	}
	res := c.do(ctx, cmd)
	if res.NonRedisError() == nil {
		releaseToken(buf) // see tokenBuffers: the command is done with it
	}
	return res.Error()
}

// Delete removes keys and returns how many existed. On one server it is
// one DEL, atomic. On a Redis Cluster it is one DEL per hash slot, sent
// together: the keys of one slot (which hash tags such as {user42}:...
// keep together) go atomically, the slots independently. On an error the
// keys of some slots may be deleted; deleting again is safe.
func (c *Cache) Delete(ctx context.Context, keys ...string) (_ int64, err error) {
	if len(keys) == 0 {
		return 0, nil
	}
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandDelete, start, err) }()
	if c.local != nil {
		c.dropLocal(keys)
		defer c.dropLocal(keys)
	}
	full := c.names(keys)
	if c.client.Mode() != rueidis.ClientModeCluster || len(full) == 1 {
		return c.do(ctx, c.client.B().Del().Key(full...).Build()).AsInt64()
	}
	var n int64
	for _, r := range c.doMulti(ctx, delPerSlot(c.client, full)...) {
		deleted, err := r.AsInt64()
		if err != nil {
			return n, err
		}
		n += deleted
	}
	return n, nil
}

// delPerSlot groups keys by hash slot into one DEL each: a cluster refuses
// a command whose keys are in different slots (CROSSSLOT).
func delPerSlot(client rueidis.Client, keys []string) rueidis.Commands {
	var order []uint16
	bySlot := map[uint16][]string{}
	for _, k := range keys {
		probe := client.B().Del().Key(k).Build()
		slot := probe.Slot()
		if _, seen := bySlot[slot]; !seen {
			order = append(order, slot)
		}
		bySlot[slot] = append(bySlot[slot], k)
	}
	cmds := make(rueidis.Commands, 0, len(order))
	for _, slot := range order {
		cmds = append(cmds, client.B().Del().Key(bySlot[slot]...).Build())
	}
	return cmds
}

// Exists reports whether key exists. It does not open the value.
func (c *Cache) Exists(ctx context.Context, key string) (_ bool, err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandExists, start, err) }()
	n, err := c.do(ctx, c.client.B().Exists().Key(c.name(key)).Build()).AsInt64()
	return n > 0, err
}

// TTL returns the time key has left, NoExpiry when it never expires, and
// ErrNotFound when it does not exist.
func (c *Cache) TTL(ctx context.Context, key string) (_ time.Duration, err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandTTL, start, err) }()
	ms, err := c.do(ctx, c.client.B().Pttl().Key(c.name(key)).Build()).AsInt64()
	switch {
	case err != nil:
		return 0, err
	case ms == -2:
		return 0, ErrNotFound
	case ms == -1:
		return NoExpiry, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// GetMany fetches keys in one pipelined round trip. Keys that do not exist
// are absent from the map. Values that fail authentication are absent too,
// and the returned error (matching ErrUndecryptable) names each of them;
// the other values are still returned.
func (c *Cache) GetMany(ctx context.Context, keys []string) (_ map[string][]byte, err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandGetMany, start, err) }()
	if c.local != nil {
		return c.getManyLocal(ctx, keys)
	}
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = c.client.B().Get().Key(c.name(k)).Build()
	}
	values := make(map[string][]byte, len(keys))
	var errs []error
	for i, resp := range c.doMulti(ctx, cmds...) {
		token, err := resp.AsBytes()
		if rueidis.IsRedisNil(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := c.open(ctx, keys[i], token)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		values[keys[i]] = v
	}
	return values, errors.Join(errs...)
}

// SetMany seals and stores every item with the same ttl in one pipelined
// round trip, one SET per item: the items are not stored atomically
// together. When it returns nil, every item is stored. When it returns an
// error (the first one met, of one item or of the connection; it does not
// say which items were stored), a caller can rely on this:
//   - any subset of the items may be stored, from none to all;
//   - each item that is stored is stored whole: sealed, with ttl;
//   - each item that is not stored keeps its previous value, or stays absent;
//   - a negative ttl is refused before anything is sent: nothing is stored;
//   - calling SetMany again with the same items is safe, and is the way to
//     have them all stored.
//
// With Options.LocalCache, every item's local copy is dropped either way.
func (c *Cache) SetMany(ctx context.Context, items map[string][]byte, ttl time.Duration) (err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandSetMany, start, err) }()
	cmds := make(rueidis.Commands, 0, len(items))
	for k, v := range items {
		cmd, err := c.setCommand(k, v, ttl)
		if err != nil {
			return err
		}
		cmds = append(cmds, cmd)
	}
	if c.local != nil {
		for k := range items {
			c.local.Drop(c.name(k))
		}
		defer func() {
			for k := range items {
				c.local.Drop(c.name(k))
			}
		}()
	}
	for _, resp := range c.doMulti(ctx, cmds...) {
		if err := resp.Error(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cache) setCommand(key string, value []byte, ttl time.Duration) (rueidis.Completed, error) {
	return c.sealCommand(key, value, ttl, make([]byte, 0, c.sealer.SealedLenFor(len(value))))
}

// sealCommand is setCommand sealing into buf's capacity, which the command
// then points into until it is done.
func (c *Cache) sealCommand(key string, value []byte, ttl time.Duration, buf []byte) (rueidis.Completed, error) {
	if ttl < 0 {
		return rueidis.Completed{}, fmt.Errorf("redsafe: negative ttl %v for Set; use 0 for no expiry", ttl)
	}
	start := c.begin()
	name := c.name(key)
	token := c.sealer.SealFor(buf[:0], name, value)
	c.encrypted(start)
	set := c.client.B().Set().Key(name).Value(rueidis.BinaryString(token))
	if ttl == 0 {
		return set.Build(), nil
	}
	return set.Px(max(ttl, time.Millisecond)).Build(), nil
}

// open authenticates and decrypts a stored token, counting and logging the
// failures. It never falls back to treating the bytes as plaintext.
func (c *Cache) open(ctx context.Context, key string, token []byte) ([]byte, error) {
	start := c.begin()
	name := c.name(key)
	v, keyIndex, err := c.sealer.OpenKeyFor(nil, name, token, c.tokenTTL)
	c.decrypted(start, err)
	if err != nil {
		c.decryptFailures.Add(1)
		digest := keyDigest(name)
		c.log.LogAttrs(ctx, slog.LevelWarn, "redsafe: stored value refused",
			slog.String("key_sha256", digest), slog.String("reason", err.Error()))
		return nil, &DecryptError{Err: err, digest: digest, key: &key}
	}
	if keyIndex > 0 {
		c.previousKeyRead(ctx, key)
	}
	return v, nil
}

// previousKeyRead counts a value that opened only with a previous key, and
// says so in the log the first time, so that operators see from the service
// side when `redsafe rotate-key` has more to do; later reads are logged at
// debug level only, to keep a busy service's log readable.
func (c *Cache) previousKeyRead(ctx context.Context, key string) {
	level := slog.LevelDebug
	if c.previousKeyReads.Add(1) == 1 {
		level = slog.LevelInfo
	}
	c.log.LogAttrs(ctx, level, "redsafe: value opened with a previous encryption key; run `redsafe rotate-key` to re-encrypt",
		slog.String("key_sha256", keyDigest(c.name(key))))
	if c.obs != nil {
		c.obs.PreviousKeyRead()
	}
}
