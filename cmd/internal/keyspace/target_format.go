package keyspace

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/redsafe/redsafe/internal/redact"
)

// targetView is what a Target prints: never the password, and TLS as a
// summary (its configuration may hold a client certificate's private key).
type targetView struct {
	Addr        string `json:"addr"`
	TLS         string `json:"tls"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
	Name        string `json:"name,omitempty"`
	DialTimeout string `json:"dial_timeout,omitempty"`
	Sentinels   string `json:"sentinels,omitempty"`
}

func (t Target) view() targetView {
	v := targetView{Addr: t.Addr, TLS: redact.TLS(t.TLS), Username: t.Username, Password: redact.Secret(t.Password), Name: t.Name, Sentinels: t.Sentinels}
	if t.DialTimeout != 0 {
		v.DialTimeout = t.DialTimeout.String()
	}
	return v
}

// String shows the target without its password.
func (t Target) String() string { return redact.String("keyspace.Target", t.view()) }

// GoString is String, so that %#v shows no password either.
func (t Target) GoString() string { return t.String() }

// Format prints String under every verb.
func (t Target) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String()) }

// LogValue logs the safe fields.
func (t Target) LogValue() slog.Value { return redact.LogValue(t.view()) }

// MarshalJSON writes the safe fields only.
func (t Target) MarshalJSON() ([]byte, error) { return json.Marshal(t.view()) }
