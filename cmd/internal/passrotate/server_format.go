package passrotate

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/redsafe/redsafe/internal/redact"
)

// serverView is what a Server prints: never the admin password, and TLS as
// a summary (its configuration may hold a client certificate's private key).
type serverView struct {
	Addr          string `json:"addr"`
	TLS           string `json:"tls"`
	AdminUser     string `json:"admin_user,omitempty"`
	AdminPassword string `json:"admin_password,omitempty"`
	Timeout       string `json:"timeout,omitempty"`
}

func (s Server) view() serverView {
	v := serverView{Addr: s.Addr, TLS: redact.TLS(s.TLS), AdminUser: s.AdminUser, AdminPassword: redact.Secret(s.AdminPassword)}
	if s.Timeout != 0 {
		v.Timeout = s.Timeout.String()
	}
	return v
}

// String shows the server without the admin password.
func (s Server) String() string { return redact.String("passrotate.Server", s.view()) }

// GoString is String, so that %#v shows no password either.
func (s Server) GoString() string { return s.String() }

// Format prints String under every verb.
func (s Server) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String()) }

// LogValue logs the safe fields.
func (s Server) LogValue() slog.Value { return redact.LogValue(s.view()) }

// MarshalJSON writes the safe fields only.
func (s Server) MarshalJSON() ([]byte, error) { return json.Marshal(s.view()) }
