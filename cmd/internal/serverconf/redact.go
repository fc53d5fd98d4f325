package serverconf

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/redsafe/redsafe/internal/redact"
)

// A User and a secret File hold plaintext passwords; they print without
// them under every fmt verb, in slog and in JSON.

type userView struct {
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
}

func (u User) view() userView { return userView{Name: u.Name, Password: redact.Secret(u.Password)} }

// String shows the name and whether a password is set.
func (u User) String() string { return redact.String("serverconf.User", u.view()) }

// GoString is String, so that %#v shows no password either.
func (u User) GoString() string { return u.String() }

// Format prints String under every verb.
func (u User) Format(f fmt.State, verb rune) { redact.Format(f, verb, u.String()) }

// LogValue logs the name and whether a password is set.
func (u User) LogValue() slog.Value { return redact.LogValue(u.view()) }

// MarshalJSON writes the name and "xxxxx" for a password.
func (u User) MarshalJSON() ([]byte, error) { return json.Marshal(u.view()) }

// fileView shows a file's content only when it is not secret.
type fileView struct {
	Name   string `json:"name"`
	Secret bool   `json:"secret,omitempty"`
	Bytes  int    `json:"bytes"`
	Data   string `json:"data,omitempty"`
}

func (f File) view() fileView {
	v := fileView{Name: f.Name, Secret: f.Secret, Bytes: len(f.Data)}
	if !f.Secret {
		v.Data = string(f.Data)
	}
	return v
}

// String shows the file, its content only when it is not secret.
func (f File) String() string { return redact.String("serverconf.File", f.view()) }

// GoString is String, so that %#v shows no secret content either.
func (f File) GoString() string { return f.String() }

// Format prints String under every verb.
func (f File) Format(s fmt.State, verb rune) { redact.Format(s, verb, f.String()) }

// LogValue logs the file, its content only when it is not secret.
func (f File) LogValue() slog.Value { return redact.LogValue(f.view()) }

// MarshalJSON writes the file, its content only when it is not secret.
func (f File) MarshalJSON() ([]byte, error) { return json.Marshal(f.view()) }
