package redsafe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redsafe/redsafe/internal/redact"
)

// ErrNotFound is returned when a key does not exist. It is never returned
// for any other failure.
var ErrNotFound = errors.New("redsafe: key not found")

// ErrUndecryptable matches every *DecryptError: a stored value that failed
// authentication (tampered with, or sealed with a key that is not
// configured) or is older than Options.TokenTTL. Such a value is never
// returned and never deleted.
var ErrUndecryptable = errors.New("redsafe: stored value failed authentication")

// DecryptError reports a stored value that could not be opened. Err is a
// seal error: errors.Is(err, seal.ErrAuthentication), seal.ErrExpired, ...
//
// Keys often embed session ids, so the error names the key by KeyDigest,
// as the log does, under every fmt verb. Key returns the key itself for
// code that must act on the value, such as a caller of GetMany that deletes
// what was refused; do not log what it returns.
type DecryptError struct {
	Err    error
	digest string // keyDigest of the Redis key, prefix included
	// key is the key as the caller gave it, behind a pointer as seal.Key's
	// bytes are: inside another value fmt prints a pointer as an address,
	// even where it cannot call Format (GetMany's errors.Join under %e).
	key *string
}

// Key returns the key the caller asked for, without Options.KeyPrefix.
func (e *DecryptError) Key() string {
	if e.key == nil {
		return ""
	}
	return *e.key
}

// KeyDigest identifies the Redis key (Options.KeyPrefix included) as the
// log's key_sha256 attribute does, so that the error and the log line of
// one refused value can be matched.
func (e *DecryptError) KeyDigest() string { return e.digest }

func (e *DecryptError) Error() string {
	return "redsafe: value of key sha256:" + e.digest + " refused: " + e.Err.Error()
}

// Format prints Error under every verb, so that neither %#v nor %d shows
// the key.
func (e *DecryptError) Format(f fmt.State, verb rune) { redact.Format(f, verb, e.Error()) }

func (e *DecryptError) Unwrap() []error { return []error{ErrUndecryptable, e.Err} }

// Causes: what went wrong between the library and the server, matched
// with errors.Is. Open's *ConnectError carries one, and so does every
// error an operation returns for a reason other than the caller's own (a
// canceled context, an invalid argument), ErrNotFound or a refused value:
// once the server dies, errors.Is(err, ErrUnreachable) holds for Get as it
// does for Open. The classifier (classify.go) picks the cause and the
// ErrorClass that ClassifyError returns for it.
var (
	ErrUnreachable         = errors.New("server unreachable")
	ErrTimeout             = errors.New("timed out")
	ErrCertUntrusted       = errors.New("server certificate signed by an unknown authority")
	ErrCertHostname        = errors.New("server certificate does not cover the host name")
	ErrCertExpired         = errors.New("server certificate expired or not yet valid")
	ErrCertInvalid         = errors.New("server certificate rejected")
	ErrTLSVersion          = errors.New("server does not offer the required TLS version")
	ErrNotTLS              = errors.New("server answered in plaintext, not TLS")
	ErrTLSRequired         = errors.New("server closed a plaintext connection: it probably requires TLS")
	ErrClientCertRequired  = errors.New("server requires a client certificate")
	ErrTLS                 = errors.New("TLS handshake failed") // none of the TLS causes above
	ErrNoAuth              = errors.New("server requires authentication")
	ErrWrongPassword       = errors.New("authentication failed: wrong user name or password")
	ErrNoPermission        = errors.New("the user lacks a permission redsafe needs")
	ErrCredentialsRejected = errors.New("credentials refused by the policy")
	ErrServer              = errors.New("server answered with an error") // any other error reply
)

// ConnectError reports a server the library could not use: Open returns
// it when it cannot connect, and operations return it when the connection
// or the server failed them. Error is one line; Fix, when not empty, says
// what to do, for the caller to print on a line of its own or in a field
// of a structured log.
type ConnectError struct {
	Addr  string // host:port; never credentials
	Cause error  // one of the causes above (ErrUnreachable, ErrCertExpired, ...)
	Fix   string // what to do about it; "" when there is nothing to say
	Err   error  // the underlying error, without the password
}

func (e *ConnectError) Error() string {
	msg := "redsafe: cannot use Redis at " + e.Addr + ": " + e.Cause.Error()
	if e.Err != nil && e.Err.Error() != e.Cause.Error() {
		msg += " (" + oneLine(e.Err.Error()) + ")"
	}
	return msg
}

func (e *ConnectError) Unwrap() []error { return []error{e.Cause, e.Err} }

// ConfigError is returned by Open when the configuration is unsafe for its
// environment. It names every problem, not only the first, in one line;
// Report holds each of them with its Fix.
type ConfigError struct {
	Report Report
}

func (e *ConfigError) Error() string {
	errs := e.Report.Errors()
	var b strings.Builder
	fmt.Fprintf(&b, "redsafe: refusing to connect: %d configuration problem", len(errs))
	if len(errs) != 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " for %s", e.Report.Environment)
	for i, f := range errs {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s[%s] %s", sep, f.ID, oneLine(f.Message))
	}
	return b.String()
}

// oneLine joins the lines of text, which may come from a server or another
// library, so that Error stays one line in any log.
func oneLine(text string) string {
	if !strings.ContainsAny(text, "\r\n") {
		return text
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(text)
}
