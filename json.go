package redsafe

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// GetJSON gets key and decodes its JSON value into a T.
func GetJSON[T any](ctx context.Context, c *Cache, key string) (T, error) {
	var v T
	data, err := c.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("redsafe: value of key sha256:%s is not JSON for %T: %w", keyDigest(c.prefix+key), v, err)
	}
	return v, nil
}

// SetJSON encodes v as JSON and stores it under key.
func SetJSON(ctx context.Context, c *Cache, key string, v any, ttl time.Duration) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redsafe: cannot encode value for key sha256:%s as JSON: %w", keyDigest(c.prefix+key), err)
	}
	return c.Set(ctx, key, data, ttl)
}
