package redsafe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/redact"
)

// The one classifier. causeOf reads any error the library sees (rueidis,
// net, crypto/tls, the reply guard, the credentials policy) and names its
// cause, one of the sentinels of errors.go; classOf maps a cause to its
// ErrorClass and fixFor to its fix. Open (classify), every operation
// (Cache.opError) and ClassifyError all go through causeOf, so an error
// matches the same sentinel and class wherever it is returned. Only Open
// refines the cause further (refine), with what the dialer saw and one
// probe, because only there does one failure stand for the whole setup.

// ErrorClass is a short, fixed name for what kind of failure an error is.
// It is what metrics label errors with and what the health check answers
// with: unlike error messages, it can never carry a key, a password or a
// URL, and there are few of them.
type ErrorClass string

const (
	ClassTimeout       ErrorClass = "timeout"        // a deadline passed: the server is slow or silent
	ClassUnreachable   ErrorClass = "unreachable"    // the connection was refused, reset or closed
	ClassTLS           ErrorClass = "tls"            // the handshake failed: certificate, version, or not TLS
	ClassAuth          ErrorClass = "auth"           // the server refused the credentials, or wants some
	ClassPermission    ErrorClass = "permission"     // the ACL user may not run the command or touch the key
	ClassServer        ErrorClass = "server"         // any other error reply from Redis
	ClassUndecryptable ErrorClass = "undecryptable"  // a stored value failed authentication (a *DecryptError)
	ClassCanceled      ErrorClass = "canceled"       // the caller canceled its context
	ClassProtocol      ErrorClass = "protocol"       // the server's reply broke a reply limit or was not RESP (a *ReplyError)
	ClassNotReplicated ErrorClass = "not_replicated" // SetWait: fewer replicas acknowledged the write than asked (a *ReplicationError)
	ClassOther         ErrorClass = "other"          // anything else, such as an invalid argument
)

// ClassifyError returns the class of an error from a Cache method, Open or
// the health check: "" for nil and for ErrNotFound, which is not a failure.
// It only inspects err; unlike Open's diagnosis it never touches the
// network, so it is cheap enough for every failed operation.
func ClassifyError(err error) ErrorClass {
	// What a cache sees often is told apart without errors.Is, which
	// allocates for each DecryptError it unwraps, and before the errors.As
	// targets of causeOf, which escape to the heap.
	switch e := err.(type) {
	case nil:
		return ""
	case *DecryptError:
		return ClassUndecryptable
	case *ConnectError:
		return classOf(e.Cause)
	}
	if err == ErrNotFound {
		return ""
	}
	return classOf(causeOf(err))
}

// errConnectFailed is the cause of an Open failure causeOf cannot name,
// such as an error from Options.Credentials.
var errConnectFailed = errors.New("connection failed")

// causeOf names what err is: a cause sentinel of errors.go, ErrNotFound,
// ErrUndecryptable, ErrReplyRefused, ErrNotReplicated, context.Canceled, or nil for an error
// that is none of these (an invalid argument, a caller's own error). The
// checks run from the most specific evidence to the least: the library's
// own errors, then the caller's context, then TLS, then the server's
// reply, then the network; each kind of evidence is of its own type, so
// no two steps compete for one error.
func causeOf(err error) error {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce.Cause
	}
	for _, own := range [...]error{ErrNotFound, ErrUndecryptable, ErrReplyRefused, ErrNotReplicated, ErrCredentialsRejected, ErrUnreachable} {
		if errors.Is(err, own) {
			return own
		}
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	if cause := tlsCause(err); cause != nil {
		return cause
	}
	var redisErr *rueidis.RedisError
	if errors.As(err, &redisErr) {
		return replyCause(redisErr.Error())
	}
	// rueidis reports a refused CLIENT TRACKING of its handshake as text
	// that starts with the reply, not as a *RedisError.
	if cause := replyCause(err.Error()); cause != ErrServer {
		return cause
	}
	if isTimeout(err) {
		return ErrTimeout
	}
	var netErr net.Error
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, rueidis.ErrClosing) || errors.As(err, &netErr) {
		return ErrUnreachable
	}
	return nil
}

// tlsCause names a failed handshake, or returns nil.
func tlsCause(err error) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		alert     tls.AlertError
	)
	switch {
	case errors.As(err, &unknownCA):
		return ErrCertUntrusted
	case errors.As(err, &hostErr):
		return ErrCertHostname
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return ErrCertExpired
	case errors.As(err, &invalid), errors.As(err, &verify):
		return ErrCertInvalid
	case errors.As(err, &header):
		return ErrNotTLS
	}
	// The alerts a server sends have an unexported type: only their text
	// tells them apart.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tls: protocol version not supported"), strings.Contains(msg, "tls: insufficient security level"):
		return ErrTLSVersion
	case strings.Contains(msg, "tls: certificate required"):
		return ErrClientCertRequired
	case errors.As(err, &alert), strings.Contains(msg, "tls: "):
		return ErrTLS
	}
	return nil
}

// replyCause reads the error code Redis puts first in an error reply.
func replyCause(msg string) error {
	code, _, _ := strings.Cut(msg, " ")
	switch {
	case code == "NOAUTH":
		return ErrNoAuth
	case code == "WRONGPASS", strings.HasPrefix(msg, "ERR invalid password"): // the second: Redis before 6
		return ErrWrongPassword
	case code == "NOPERM":
		return ErrNoPermission
	}
	return ErrServer
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
}

// classOf is the class of a cause from causeOf.
func classOf(cause error) ErrorClass {
	switch cause {
	case ErrNotFound:
		return ""
	case ErrUndecryptable:
		return ClassUndecryptable
	case ErrReplyRefused:
		return ClassProtocol
	case ErrNotReplicated:
		return ClassNotReplicated
	case context.Canceled:
		return ClassCanceled
	case ErrTimeout:
		return ClassTimeout
	case ErrUnreachable:
		return ClassUnreachable
	case ErrCertUntrusted, ErrCertHostname, ErrCertExpired, ErrCertInvalid, ErrTLSVersion, ErrNotTLS, ErrTLSRequired, ErrClientCertRequired, ErrTLS:
		return ClassTLS
	case ErrNoAuth, ErrWrongPassword, ErrCredentialsRejected:
		return ClassAuth
	case ErrNoPermission:
		return ClassPermission
	case ErrServer:
		return ClassServer
	}
	return ClassOther
}

// fixFor says what to do about cause; err is the error it was read from,
// d the dialer of the connection (nil in tests of the classifier alone).
func fixFor(cause, err error, d *dialer) string {
	switch cause {
	case ErrReplyRefused:
		return "check that " + EnvURL + " names a Redis server you trust: no Redis sends such a reply; if it is Redis and its values are that large, raise Options.MaxReplyBytes"
	case ErrCredentialsRejected:
		return "make the credentials function return a password that meets the policy"
	case ErrCertUntrusted:
		return "set " + EnvTLSCACert + " to the CA certificate that signed the server's certificate"
	case ErrCertHostname:
		return "connect with a host name the certificate lists, set " + EnvTLSServerName + ", or reissue the certificate with `redsafe certs --hosts`"
	case ErrCertExpired:
		return "renew the server certificate under the same CA (`redsafe certs renew`) and load it without a restart (`redsafe certs reload`); check the clocks"
	case ErrCertInvalid:
		return "issue the server a certificate for TLS server use from your CA (`redsafe certs`)"
	case ErrNotTLS:
		return "point " + EnvURL + " at the server's TLS port (tls-port), or enable TLS on the server"
	case ErrTLSVersion:
		version := "1.3"
		if d != nil && d.tls != nil {
			version = tlsVersionName(d.tls.MinVersion)
		}
		return fmt.Sprintf("enable TLSv%s in the server's tls-protocols", version)
	case ErrClientCertRequired:
		return "set " + EnvTLSCert + " and " + EnvTLSKey + " to a client certificate signed by the server's CA (`redsafe certs --client NAME`)"
	case ErrTLSRequired:
		return "use a rediss:// URL"
	case ErrTLS:
		return "check the server's TLS settings (tls-port, certificates, tls-protocols) against " + EnvTLSCACert + " and the client certificate, if any"
	case ErrNoAuth:
		return "set " + EnvPassword + " (and " + EnvUsername + " for an ACL user)"
	case ErrWrongPassword:
		return "check " + EnvUsername + " and " + EnvPassword + " against the server's ACL users"
	case ErrNoPermission:
		if err != nil && strings.Contains(err.Error(), "TRACKING") {
			return "allow the user CLIENT TRACKING (+client, as the app user of `redsafe conf` has), which Options.LocalCache needs, or switch the local cache off"
		}
		if err != nil && strings.Contains(err.Error(), "'wait'") {
			return "allow the user WAIT (+wait), which SetWait needs, or use Set"
		}
		return "allow the user the commands of a cache: +@read +@write +@connection and its key pattern"
	case ErrUnreachable:
		if errors.Is(err, syscall.ECONNREFUSED) {
			return "start Redis (`redsafe up` runs a local one) or correct the host and port in " + EnvURL
		}
		return "check that the server is up, and the host and port in " + EnvURL
	case ErrTimeout:
		return "check that the server is up and reachable, and that " + EnvURL + " names its TLS port"
	}
	return ""
}

// classify turns an error from connecting, handshaking, authenticating or
// the first PING into the *ConnectError that Open returns.
func classify(err error, s *config, addr string, d *dialer) error {
	err = redact.WithoutSecrets(err, append(d.secrets(), s.password)...)
	addr = nodeOf(err, addr)
	cause := d.refine(causeOf(err), err, addr)
	if cause == nil || cause == ErrNotFound || cause == ErrUndecryptable {
		cause = errConnectFailed
	}
	fix := fixFor(cause, err, d)
	if s.sentinel != nil && (cause == ErrWrongPassword || cause == ErrNoAuth) && slices.Contains(s.topology.addrs, addr) {
		// The URL's addresses are Sentinels: their users are their own.
		fix = "check " + EnvSentinelUsername + " and " + EnvSentinelPassword + " (or " + EnvSentinelPasswordFile + ") against the Sentinels' users (the user lines of sentinel.conf); the Sentinels never get the application's credentials"
	}
	return &ConnectError{Addr: addr, Cause: cause, Fix: fix, Err: err}
}

// refine sharpens the cause of a failed Open with what only the dialer
// knows: TLS 1.3 lets a server refuse a client certificate after the
// handshake, by closing; a plaintext Redis given a ClientHello usually
// waits in silence; a TLS server given plaintext closes the connection.
func (d *dialer) refine(cause, err error, addr string) error {
	switch {
	case d.tls != nil && d.certRequested.Load() && len(d.tls.Certificates) == 0 && (cause == nil || cause == ErrUnreachable || cause == ErrTLS):
		return ErrClientCertRequired
	case d.tls != nil && cause == ErrTimeout && d.speaksPlaintextRESP(addr):
		return ErrNotTLS
	case d.tls == nil && cause == ErrUnreachable && !errors.Is(err, syscall.ECONNREFUSED) && !isDialError(err) &&
		(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)):
		return ErrTLSRequired
	}
	return cause
}

func isDialError(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

// opError is what every Cache operation returns for err: the password cut
// out of it (a connection lost during AUTH, or a server that echoes
// arguments, could put it there), and, when a server or connection caused
// it, wrapped in a *ConnectError with its cause and fix, so that it
// matches the sentinels Open's errors do. The errors of a cache's hot paths
// (nil, ErrNotFound, a *DecryptError) pass through without allocating.
func (c *Cache) opError(err error) error {
	switch err.(type) {
	case nil, *DecryptError, *ConnectError, *ReplyError, *ReplicationError:
		return err
	}
	if err == ErrNotFound {
		return err
	}
	var d *dialer
	if c.dialer != nil {
		d = c.dialer
		err = redact.WithoutSecrets(err, d.secrets()...)
	}
	cause := causeOf(err)
	switch cause {
	case nil, ErrNotFound, ErrUndecryptable, ErrReplyRefused, context.Canceled:
		return err // the library's own or the caller's: already what it says
	}
	addr := nodeOf(err, c.addr)
	var ne *nodeError
	if d != nil && errors.As(err, &ne) {
		// A connection to a node failed (a cluster node reached after Open):
		// sharpen the cause as Open does, a plaintext node included.
		cause = d.refine(cause, err, addr)
	}
	return &ConnectError{Addr: addr, Cause: cause, Fix: fixFor(cause, err, d), Err: err}
}

// nodeError is a failure to connect to one node: the server of a
// single-node setup, or a cluster node reached through the topology or a
// redirect. It reads as the error it wraps; it only carries the address,
// so that errors name the node that failed, not the seed.
type nodeError struct {
	addr string
	err  error
}

func (e *nodeError) Error() string { return e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

// nodeOf is the address of the node err is about, or addr when it names
// none.
func nodeOf(err error, addr string) string {
	var ne *nodeError
	if errors.As(err, &ne) {
		return ne.addr
	}
	return addr
}
