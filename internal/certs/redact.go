package certs

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/redsafe/redsafe/internal/redact"
)

// An Authority and a Pair hold a private key (Key, and KeyPEM); they print
// the certificate's subject and expiry only, under every fmt verb, in slog
// and in JSON (where an *ecdsa.PrivateKey would write its D).

type certView struct {
	Subject  string `json:"subject"`
	NotAfter string `json:"not_after,omitempty"`
	Key      string `json:"key"`
}

func viewOf(c *x509.Certificate) certView {
	v := certView{Key: redact.Hidden}
	if c != nil {
		v.Subject, v.NotAfter = c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339)
	}
	return v
}

// String shows the CA's subject and expiry, never its key.
func (a Authority) String() string { return redact.String("certs.Authority", viewOf(a.Cert)) }

// GoString is String, so that %#v shows no key either.
func (a Authority) GoString() string { return a.String() }

// Format prints String under every verb.
func (a Authority) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String()) }

// LogValue logs the subject and expiry.
func (a Authority) LogValue() slog.Value { return redact.LogValue(viewOf(a.Cert)) }

// MarshalJSON writes the subject and expiry only.
func (a Authority) MarshalJSON() ([]byte, error) { return json.Marshal(viewOf(a.Cert)) }

// String shows the certificate's subject and expiry, never its key.
func (p Pair) String() string { return redact.String("certs.Pair", viewOf(p.Cert)) }

// GoString is String, so that %#v shows no key either.
func (p Pair) GoString() string { return p.String() }

// Format prints String under every verb.
func (p Pair) Format(f fmt.State, verb rune) { redact.Format(f, verb, p.String()) }

// LogValue logs the subject and expiry.
func (p Pair) LogValue() slog.Value { return redact.LogValue(viewOf(p.Cert)) }

// MarshalJSON writes the subject and expiry only.
func (p Pair) MarshalJSON() ([]byte, error) { return json.Marshal(viewOf(p.Cert)) }
