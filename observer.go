package redsafe

import (
	"crypto/tls"
	"time"
)

// Observer receives what a Cache does, for metrics: package redsafeprom
// implements it with Prometheus, so that the core library does not depend on
// any metrics system. Set it with Options.Observer; nil, the default,
// observes nothing and costs nothing (no clock reads, no allocations).
//
// Its methods are called synchronously, some on every operation and from
// many goroutines at once: they must be safe for concurrent use and quick.
// Nothing passed to them contains a cache key, a value, a password or an
// encryption key, so that no metric label can leak one or explode in
// cardinality. Embed NopObserver to stay compatible when methods are added.
type Observer interface {
	// Operation is called when a Cache method that reaches Redis returns
	// (or that Options.LocalCache answers), and for each health check: command is one of the Command constants,
	// d the time the whole call took (sealing and opening included), and
	// class is "" on success or the ErrorClass of its error. A miss
	// (ErrNotFound) is a success.
	Operation(command string, d time.Duration, class ErrorClass)

	// Encrypt is called after each value is sealed.
	Encrypt(d time.Duration)

	// Decrypt is called after each stored value is opened, whether it
	// authenticated or not.
	Decrypt(d time.Duration)

	// DecryptFailure is called for each stored value that is refused
	// (the *DecryptError path): tampered with, sealed with a key that is
	// not configured, malformed, or older than Options.TokenTTL. err is the
	// seal error (seal.ErrAuthentication, seal.ErrMalformed,
	// seal.ErrExpired, ...), which never names the key.
	DecryptFailure(err error)

	// PreviousKeyRead is called for each stored value that opened only with
	// one of PreviousEncryptionKeys: a value key rotation has not reached
	// yet. When it stops being called, the old key can be retired.
	PreviousKeyRead()

	// Validated is called once by every Open, before it refuses an unsafe
	// configuration, with the validation report and whether production runs
	// without TLS through the insecure override (AllowInsecurePlaintext,
	// REDIS_INSECURE_ALLOW_PLAINTEXT).
	Validated(r Report, insecureOverride bool)

	// TLSHandshake is called after each successful TLS handshake of a new
	// connection, with its duration and the state the server presented:
	// state.PeerCertificates[0] is the live server certificate.
	TLSHandshake(d time.Duration, state tls.ConnectionState)

	// Connect is called once per new connection, at Open and at each
	// reconnect. On success class is "" and d is the time to ready: dial,
	// TLS handshake, and HELLO with AUTH answered. When the dial or the
	// handshake fails, class says why and d is the time until then. A
	// connection the server refuses at AUTH is not reported here: the
	// command that needed it fails with ClassAuth.
	Connect(d time.Duration, class ErrorClass)

	// ReplyRefused is called when a connection is closed because the
	// server's reply crossed a reply limit (Options.MaxReplyBytes and the
	// fixed ones) or was not RESP: limit is one of the ReplyLimit*
	// constants. The commands waiting on the connection then fail with
	// ClassProtocol.
	ReplyRefused(limit string)
}

// The commands an Observer sees: the Cache methods, plus the health check's
// PING.
const (
	CommandGet     = "get"
	CommandSet     = "set"
	CommandDelete  = "delete"
	CommandExists  = "exists"
	CommandTTL     = "ttl"
	CommandGetMany = "get_many"
	CommandSetMany = "set_many"
	CommandPing    = "ping"
)

// NopObserver does nothing. Embed it in an Observer that implements only
// some methods, or that must keep compiling when methods are added.
type NopObserver struct{}

func (NopObserver) Operation(string, time.Duration, ErrorClass)     {}
func (NopObserver) Encrypt(time.Duration)                           {}
func (NopObserver) Decrypt(time.Duration)                           {}
func (NopObserver) DecryptFailure(error)                            {}
func (NopObserver) PreviousKeyRead()                                {}
func (NopObserver) Validated(Report, bool)                          {}
func (NopObserver) TLSHandshake(time.Duration, tls.ConnectionState) {}
func (NopObserver) Connect(time.Duration, ErrorClass)               {}
func (NopObserver) ReplyRefused(string)                             {}

// The Cache's side of Observer: every helper below checks for a nil Observer
// first, so that a Cache without one pays a nil check and nothing else: no
// clock read and no allocation on the hot path.

// begin starts timing an operation; the zero time when nothing observes.
func (c *Cache) begin() time.Time {
	if c.obs == nil {
		return time.Time{}
	}
	return time.Now()
}

// done reports an operation started by begin.
func (c *Cache) done(command string, start time.Time, err error) {
	if c.obs != nil {
		c.obs.Operation(command, time.Since(start), ClassifyError(err))
	}
}

// encrypted reports a seal started by begin.
func (c *Cache) encrypted(start time.Time) {
	if c.obs != nil {
		c.obs.Encrypt(time.Since(start))
	}
}

// decrypted reports an open started by begin, and its failure if any.
func (c *Cache) decrypted(start time.Time, err error) {
	if c.obs == nil {
		return
	}
	c.obs.Decrypt(time.Since(start))
	if err != nil {
		c.obs.DecryptFailure(err)
	}
}

// observeValidation reports the validation result of an Open.
func observeValidation(obs Observer, r Report) {
	if obs != nil {
		obs.Validated(r, r.OK() && r.has(insecureOverrideID))
	}
}
