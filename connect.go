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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/connhook"
	"github.com/redsafe/redsafe/internal/redact"
	"github.com/redsafe/redsafe/internal/resp"
)

// dialer makes the connections rueidis uses. It dials and handshakes itself
// so that TLS failures keep their types for classification, and it notes
// what the server asked for, which TLS 1.3 reveals only by closing the
// connection later.
type dialer struct {
	tls           *tls.Config // nil: plaintext
	timeout       time.Duration
	certRequested atomic.Bool // the server asked for a client certificate
	state         atomic.Pointer[tls.ConnectionState]
	obs           Observer    // nil: nothing observes
	limits        resp.Limits // of every reply, checked on the plaintext stream (guard)

	// password is the one rueidis authenticates with (the last one a
	// Credentials function gave), cut out of the server's words in errors.
	password atomic.Pointer[string]
}

func (d *dialer) dial(ctx context.Context, addr string, nd *net.Dialer, _ *tls.Config) (net.Conn, error) {
	start := time.Now()
	conn, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		d.failed(start, err)
		return nil, err
	}
	conn = connhook.Wrap(conn)
	if d.tls == nil {
		return d.watch(d.guard(conn, addr), start), nil
	}
	cfg := d.tls
	if len(cfg.Certificates) == 0 {
		cfg = cfg.Clone() // shares the session cache
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			d.certRequested.Store(true)
			return &tls.Certificate{}, nil // none: the server decides whether that is fatal
		}
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	handshake := time.Now()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		d.failed(start, err)
		return nil, err
	}
	st := tc.ConnectionState()
	d.state.Store(&st)
	if d.obs != nil {
		d.obs.TLSHandshake(time.Since(handshake), st)
	}
	return d.watch(d.guard(tc, addr), start), nil
}

// failed reports a connection that could not be dialed or handshaken.
func (d *dialer) failed(start time.Time, err error) {
	if d.obs != nil {
		d.obs.Connect(time.Since(start), ClassifyError(err))
	}
}

// speaksPlaintextRESP reports whether addr answers a plaintext PING. A
// plaintext Redis given a TLS ClientHello usually waits for the end of a
// line that never comes, so a TLS timeout alone cannot tell it from a dead
// server; this probe, run only after a failure, can.
func speaksPlaintextRESP(addr string, timeout time.Duration) bool {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return false
	}
	return buf[0] == '+' || buf[0] == '-'
}

// classify turns an error from connecting, handshaking, authenticating or
// the first PING into a *ConnectError that names the cause and the fix.
func classify(err error, s settings, addr string, d *dialer) error {
	ce := &ConnectError{Addr: addr, Err: redact.WithoutSecrets(err, s.password, d.sentPassword())}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		header    tls.RecordHeaderError
		netErr    net.Error
		redisErr  *rueidis.RedisError
	)
	msg := err.Error()
	switch {
	case errors.Is(err, ErrReplyRefused):
		ce.Cause, ce.Fix = ErrReplyRefused, "check that "+EnvURL+" names a Redis server you trust: no Redis sends such a reply; if it is Redis and its values are that large, raise Options.MaxReplyBytes"
	case errors.Is(err, ErrCredentialsRejected):
		ce.Cause, ce.Fix = ErrCredentialsRejected, "make the credentials function return a password that meets the policy"
	case errors.As(err, &unknownCA):
		ce.Cause, ce.Fix = ErrCertUntrusted, "set "+EnvTLSCACert+" to the CA certificate that signed the server's certificate"
	case errors.As(err, &hostErr):
		ce.Cause, ce.Fix = ErrCertHostname, "connect with a host name the certificate lists, set "+EnvTLSServerName+", or reissue the certificate with `redsafe certs --hosts`"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		ce.Cause, ce.Fix = ErrCertExpired, "renew the server certificate under the same CA (`redsafe certs --renew`) and restart Redis; check the clocks"
	case errors.As(err, &invalid):
		ce.Cause, ce.Fix = ErrCertInvalid, "issue the server a certificate for TLS server use from your CA (`redsafe certs`)"
	case errors.As(err, &header):
		ce.Cause, ce.Fix = ErrNotTLS, "point "+EnvURL+" at the server's TLS port (tls-port), or enable TLS on the server"
	case strings.Contains(msg, "tls: protocol version not supported") || strings.Contains(msg, "tls: insufficient security level"):
		ce.Cause, ce.Fix = ErrTLSVersion, fmt.Sprintf("enable TLSv%s in the server's tls-protocols", tlsVersionName(s.tlsConfig.MinVersion))
	case strings.Contains(msg, "tls: certificate required") || d.certRequested.Load() && len(s.tlsConfig.Certificates) == 0:
		ce.Cause, ce.Fix = ErrClientCertRequired, "set "+EnvTLSCert+" and "+EnvTLSKey+" to a client certificate signed by the server's CA (`redsafe certs --client NAME`)"
	case strings.Contains(msg, "NOAUTH"):
		ce.Cause, ce.Fix = ErrNoAuth, "set "+EnvPassword+" (and "+EnvUsername+" for an ACL user)"
	case strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "invalid password"):
		ce.Cause, ce.Fix = ErrWrongPassword, "check "+EnvUsername+" and "+EnvPassword+" against the server's ACL users"
	case strings.Contains(msg, "NOPERM") && strings.Contains(msg, "TRACKING"):
		ce.Cause, ce.Fix = ErrNoPermission, "allow the user CLIENT TRACKING (+client, as the app user of `redsafe conf` has), which Options.LocalCache needs, or switch the local cache off"
	case strings.Contains(msg, "NOPERM"):
		ce.Cause, ce.Fix = ErrNoPermission, "allow the user the commands of a cache: +@read +@write +@connection and its key pattern"
	case errors.As(err, &redisErr):
		ce.Cause = errors.New("server refused the connection")
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Cause, ce.Fix = ErrUnreachable, "start Redis (`redsafe up` runs a local one) or correct the host and port in "+EnvURL
	case isTimeout(err) && s.useTLS && speaksPlaintextRESP(addr, d.timeout):
		ce.Cause, ce.Fix = ErrNotTLS, "point "+EnvURL+" at the server's TLS port (tls-port), or enable TLS on the server"
	case isTimeout(err):
		ce.Cause, ce.Fix = ErrTimeout, "check that the server is up and reachable, and that "+EnvURL+" names its TLS port"
	case s.tlsConfig == nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)):
		ce.Cause, ce.Fix = ErrTLSRequired, "use a rediss:// URL"
	case errors.As(err, &netErr):
		ce.Cause, ce.Fix = ErrUnreachable, "check the host and port in "+EnvURL
	default:
		ce.Cause = errors.New("connection failed")
	}
	return ce
}

func (d *dialer) sentPassword() string {
	if p := d.password.Load(); p != nil {
		return *p
	}
	return ""
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
}
