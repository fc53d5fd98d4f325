package redsafe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// GetJSON gets key and decodes its JSON value into a T. It is the reading
// half of SetJSON, and fails as Get does, or with an error (keeping
// encoding/json's for errors.As) when the value is not a JSON T.
func GetJSON[T any](ctx context.Context, c *Cache, key string) (T, error) {
	data, err := c.Get(ctx, key)
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeJSON[T](c, key, data)
}

// SetJSON encodes v as JSON and stores it under key, as Set does: the
// writing half of GetJSON.
func SetJSON[T any](ctx context.Context, c *Cache, key string, v T, ttl time.Duration) error {
	data, err := encodeJSON(c, key, v)
	if err != nil {
		return err
	}
	return c.Set(ctx, key, data, ttl)
}

// FetchJSON is Fetch for a value stored as JSON: it returns key's value
// decoded into a T, or calls load, stores its result encoded as JSON with
// ttl and returns it. Concurrent calls for one key share one load, and
// every case (load's errors, refused values, Redis errors) is as Fetch
// describes. A result load returns that cannot be encoded is an error and
// is not stored; a stored value that is not a JSON T is an error, as in
// GetJSON, and load is not called, so that a change of T does not
// overwrite values other versions of the service still read.
func FetchJSON[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	data, err := c.Fetch(ctx, key, ttl, func(ctx context.Context) ([]byte, error) {
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return encodeJSON(c, key, v)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeJSON[T](c, key, data)
}

func encodeJSON[T any](c *Cache, key string, v T) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("redsafe: cannot encode value for key sha256:%s as JSON: %w", keyDigest(c.name(key)), err)
	}
	return data, nil
}

func decodeJSON[T any](c *Cache, key string, data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		var zero T // Unmarshal may have filled part of v
		return zero, &jsonError{
			msg: fmt.Sprintf("redsafe: value of key sha256:%s is not JSON for %T: %s", keyDigest(c.name(key)), v, jsonProblem(err)),
			err: err,
		}
	}
	return v, nil
}

// jsonError keeps encoding/json's error for errors.As (*json.SyntaxError,
// *json.UnmarshalTypeError) while its text leaves the value out.
type jsonError struct {
	msg string
	err error
}

func (e *jsonError) Error() string { return e.msg }
func (e *jsonError) Unwrap() error { return e.err }

// jsonProblem describes a decoding error without the decrypted value:
// encoding/json quotes the offending character or literal ("invalid
// character 'x'", "cannot unmarshal number 300"), and a value may hold
// health data or a token. It keeps where and what kind.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		kind, _, _ := strings.Cut(typ.Value, " ") // "number 300" -> "number"
		where := typ.Field
		if where == "" {
			where = "the value"
		}
		return fmt.Sprintf("a JSON %s at byte %d cannot be stored in %s (%s)", kind, typ.Offset, where, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	return "cannot decode it" // e.g. an UnmarshalJSON method's own error, which may quote anything
}
