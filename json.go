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

// GetJSON gets key and decodes its JSON value into a T.
func GetJSON[T any](ctx context.Context, c *Cache, key string) (T, error) {
	var v T
	data, err := c.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, &jsonError{
			msg: fmt.Sprintf("redsafe: value of key sha256:%s is not JSON for %T: %s", keyDigest(c.prefix+key), v, jsonProblem(err)),
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

// SetJSON encodes v as JSON and stores it under key.
func SetJSON(ctx context.Context, c *Cache, key string, v any, ttl time.Duration) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redsafe: cannot encode value for key sha256:%s as JSON: %w", keyDigest(c.prefix+key), err)
	}
	return c.Set(ctx, key, data, ttl)
}
