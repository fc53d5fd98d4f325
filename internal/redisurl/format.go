package redisurl

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/redsafe/redsafe/internal/redact"
)

// String is the URL with its password replaced by "xxxxx", as Redact
// writes it; a user name without a password is hidden whole, since some
// clients read it as a password. Every fmt verb, slog and JSON print it, so
// that a URL never shows its Password field.
func (u URL) String() string {
	if u.Host == "" {
		return "" // the zero URL: nothing parsed
	}
	s := "redis://"
	if u.TLS {
		s = "rediss://"
	}
	switch {
	case u.HasPassword:
		s += u.Username + ":" + redact.Hidden + "@"
	case u.Username != "":
		s += redact.Hidden + "@"
	}
	return s + u.Addr() + "/" + strconv.Itoa(u.DB)
}

// GoString is String, so that %#v shows no password either.
func (u URL) GoString() string { return u.String() }

// Format prints String under every verb.
func (u URL) Format(f fmt.State, verb rune) { redact.Format(f, verb, u.String()) }

// LogValue logs String.
func (u URL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalJSON writes String as a JSON string.
func (u URL) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }
