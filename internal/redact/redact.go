// Package redact is how a type that holds a secret (a password, an
// encryption key, a TLS configuration with a private key) prints itself:
// under every fmt verb, as a slog.LogValuer and as JSON, it shows a view of
// its fields that are safe, never the secret. It works as seal.Key does:
// Format answers every verb, so that %x, %d and %#v cannot reach the fields.
//
// Each such type builds one view, a struct of the fields worth showing, and
// derives the three forms from it:
//
//	func (o T) String() string               { return redact.String("pkg.T", o.view()) }
//	func (o T) GoString() string             { return o.String() }
//	func (o T) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String()) }
//	func (o T) LogValue() slog.Value         { return redact.LogValue(o.view()) }
//	func (o T) MarshalJSON() ([]byte, error) { return json.Marshal(o.view()) }
//
// The view lists what is shown, so a field added to T later is not printed
// until someone decides it is safe. Two paths are beyond any method: fmt
// cannot call methods on unexported fields of another struct (a type that
// keeps such a value in an unexported field formats itself too, or holds
// the secret behind a pointer), and %p of a value that is not a pointer
// dumps its fields (go vet reports that call). One pointer is not always
// enough: under a verb that does not fit a pointer (%s, %q, %e, %t, ...)
// fmt prints what a pointer to a struct, array, slice or map points to, so
// the secret must sit behind a pointer to a string (DecryptError's key) or
// two pointers deep (a *seal.Key; a seal.Key copied by value into an
// unexported field shows its bytes under %s).
package redact

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/redsafe/redsafe/seal"
)

// Hidden stands for a secret that is set, as in redisurl.Redact.
const Hidden = "xxxxx"

// Secret is how a secret is shown: Hidden when it is set, "" when not.
func Secret(s string) string {
	if s == "" {
		return ""
	}
	return Hidden
}

// KeyID shows an encryption key's text as seal.Key does, by its ID:
// "seal.Key(id=1a2b3c4d)", "seal.Key(id=invalid)" for text that is not a
// key, and "" when there is none.
func KeyID(text string) string {
	if text == "" {
		return ""
	}
	k, _ := seal.ParsePreviousKey(text) // any well-formed key; nil on error: ID says "invalid"
	return "seal.Key(id=" + k.ID() + ")"
}

// KeyIDs is KeyID of each text.
func KeyIDs(texts []string) []string {
	if len(texts) == 0 {
		return nil
	}
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = KeyID(t)
	}
	return out
}

// TLS summarises a TLS configuration without descending into it (its
// Certificates hold the client's private key): "off" for nil, else what
// is set, e.g. "on (min TLS 1.3, server name redis, custom CA, client
// certificate)".
func TLS(c *tls.Config) string {
	if c == nil {
		return "off"
	}
	var parts []string
	if c.MinVersion != 0 {
		parts = append(parts, "min "+tls.VersionName(c.MinVersion))
	}
	if c.ServerName != "" {
		parts = append(parts, "server name "+c.ServerName)
	}
	if c.InsecureSkipVerify {
		parts = append(parts, "no built-in verification")
	}
	if c.RootCAs != nil {
		parts = append(parts, "custom CA")
	}
	if len(c.Certificates) > 0 || c.GetClientCertificate != nil {
		parts = append(parts, "client certificate")
	}
	if len(parts) == 0 {
		return "on"
	}
	return "on (" + strings.Join(parts, ", ") + ")"
}

// Format writes s, the redacted form, for every verb; %q quotes it.
func Format(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s)
		return
	}
	f.Write([]byte(s))
}

// String is name followed by view as %+v prints it:
// "redsafe.Credentials{Username:app Password:xxxxx}".
func String(name string, view any) string {
	return name + fmt.Sprintf("%+v", view)
}

// LogValue is view, a struct, as a slog group: one attribute per field,
// named by its json tag, skipping empty ",omitempty" fields as JSON does;
// nested structs are groups.
func LogValue(view any) slog.Value {
	v := reflect.ValueOf(view)
	t := v.Type()
	attrs := make([]slog.Attr, 0, t.NumField())
	for i := range t.NumField() {
		sf, fv := t.Field(i), v.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if opts == "omitempty" && fv.IsZero() {
			continue
		}
		if fv.Kind() == reflect.Struct {
			attrs = append(attrs, slog.Attr{Key: name, Value: LogValue(fv.Interface())})
			continue
		}
		attrs = append(attrs, slog.Any(name, fv.Interface()))
	}
	return slog.GroupValue(attrs...)
}

// WithoutSecrets is err with each secret cut out of its text, replaced by
// Hidden. A server may quote a command's arguments in its error reply
// (Redis's "unknown command ..., with args beginning with:" quotes HELLO's
// and AUTH's, password included), and that text goes into errors and logs.
// Redis cuts what it quotes at 128 characters, so a run that begins as a
// secret does, for 4 characters or more, is cut as far as it matches.
// errors.Is and errors.As still reach err; what they return is the
// server's text as it was.
func WithoutSecrets(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	cut := text
	for _, s := range secrets {
		cut = cutSecret(cut, s)
	}
	if cut == text {
		return err
	}
	return &secretsCut{text: cut, err: err}
}

func cutSecret(text, secret string) string {
	start := secret[:min(len(secret), 4)]
	if start == "" {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, start)
		if i < 0 {
			break
		}
		n := len(start)
		for n < len(secret) && i+n < len(text) && text[i+n] == secret[n] {
			n++
		}
		b.WriteString(text[:i] + Hidden)
		text = text[i+n:]
	}
	if b.Len() == 0 {
		return text
	}
	return b.String() + text
}

// secretsCut is an error whose text had a secret cut out. The original is
// unexported, so that fmt does not call its Error from inside this one.
type secretsCut struct {
	text string
	err  error
}

func (e *secretsCut) Error() string { return e.text }
func (e *secretsCut) Unwrap() error { return e.err }
