package redsafe

import (
	"strings"

	"github.com/redsafe/redsafe/seal"
)

// name is the Redis key that key is stored under: KeyPrefix and key, or,
// when key starts with one of Options.HashedKeyPrefixes, KeyPrefix, that
// prefix and a keyed hash of the whole name (docs/FORMAT.md, "Key
// names"), so that a secret in the name never reaches the server.
func (c *Cache) name(key string) string {
	if len(c.hashed) == 0 {
		return c.prefix + key
	}
	best, found := "", false
	for _, p := range c.hashed {
		if strings.HasPrefix(key, p) && (!found || len(p) > len(best)) {
			best, found = p, true
		}
	}
	if !found {
		return c.prefix + key
	}
	return seal.HashedName(c.hashNameKey, c.prefix, best, key)
}

// names is name of each key.
func (c *Cache) names(keys []string) []string {
	if c.prefix == "" && len(c.hashed) == 0 {
		return keys
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = c.name(k)
	}
	return out
}

// StoredKey returns the Redis key that key is stored under with o:
// KeyPrefix, then key, or with HashedKeyPrefixes its keyed hash (the name
// the library reads and writes, and seals a value for). For tools that
// reach the raw value; it reads the key files o names.
func (o Options) StoredKey(key string) (string, error) {
	s, r := newConfig(o)
	if err := r.Err(); err != nil {
		return "", err
	}
	c := &Cache{prefix: s.prefix, hashed: s.hashed, hashNameKey: s.hashNameKey}
	return c.name(key), nil
}
