package redsafe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

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
	// netDial is Options.Dial; nil: rueidis's net.Dialer with the timeout.
	netDial func(ctx context.Context, network, addr string) (net.Conn, error)

	// fixedName: TLS.ServerName names the one name every node's
	// certificate must carry; otherwise each node is verified against the
	// host it is reached by.
	fixedName bool
	seeds     map[string]bool // the configured addresses
	// base is the TLS settings and the per-node configs made from them,
	// replaced whole when files replaces them (tlsreload.go).
	base  atomic.Pointer[tlsBase]
	files *tlsFiles // nil: no file to watch
	// loopbackOnly: plaintext, allowed to this machine only (development):
	// a node the topology names elsewhere is refused, not sent a password.
	loopbackOnly bool

	sentinelPassword string // "" without Sentinels
	// password is the one rueidis authenticates with (the last one a
	// Credentials function gave), cut out of the server's words in errors.
	password atomic.Pointer[string]
}

func (d *dialer) dial(ctx context.Context, addr string, nd *net.Dialer, _ *tls.Config) (net.Conn, error) {
	conn, err := d.connect(ctx, addr, nd)
	if err != nil {
		return nil, &nodeError{addr: addr, err: err}
	}
	if nd != nil && nd.FallbackDelay == sentinelDialMark {
		return sentinelConn{conn}, nil
	}
	return conn, nil
}

// connect dials addr and, with TLS, handshakes, verifying the node against
// the name it is reached by (see tlsFor).
func (d *dialer) connect(ctx context.Context, addr string, nd *net.Dialer) (net.Conn, error) {
	start := time.Now()
	if host, _, err := net.SplitHostPort(addr); d.loopbackOnly && (err != nil || !isLoopback(host)) {
		err := fmt.Errorf("%w: redsafe refuses plaintext to %s, which is not this machine: the policy allows plaintext to loopback only, and a password must not cross the network in clear", ErrUnreachable, addr)
		d.failed(start, err)
		return nil, err
	}
	conn, err := d.open(ctx, addr, nd)
	if err != nil {
		d.failed(start, err)
		return nil, err
	}
	if d.tls == nil {
		return d.watch(d.guard(conn, addr), start), nil
	}
	cfg := d.tlsFor(addr)
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

// newDialer is the dialer of the connections Open makes for s.
func newDialer(s *config) *dialer {
	d := &dialer{timeout: s.dialTimeout, obs: s.obs, limits: s.limits, netDial: s.dial, fixedName: s.tlsServerName != "",
		seeds: map[string]bool{}, files: s.tlsFiles}
	for _, a := range s.topology.addrs {
		d.seeds[a] = true
	}
	if s.sentinel != nil {
		d.sentinelPassword = s.sentinel.password
	}
	if s.useTLS {
		d.tls = s.tlsConfig
		d.base.Store(&tlsBase{cfg: s.tlsConfig, ownCA: s.tlsOwnCA})
	} else {
		d.loopbackOnly = s.policy.PlaintextLoopbackAllowed
	}
	return d
}

// maxNodeConfigs bounds the per-node TLS configs kept: the addresses come
// from the servers' topology replies, and a hostile one could name
// endless nodes. Past it, a node's config is made for each dial.
const maxNodeConfigs = 1024

// tlsFor is the TLS config of the node at addr. Each node is verified
// against the name it is reached by, its host name or IP as the seed list,
// CLUSTER SLOTS or a MOVED redirect gives it, unless TLS.ServerName names
// one for all; and each keeps its own session cache, since a ticket of one
// node means nothing to another.
func (d *dialer) tlsFor(addr string) *tls.Config {
	b := d.refreshTLS()
	if v, ok := b.nodes.Load(addr); ok {
		return v.(*tls.Config)
	}
	cfg := b.cfg.Clone()
	if !d.fixedName {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	if !d.seeds[addr] && b.ownCA != nil {
		// A node only the topology names (CLUSTER SLOTS, MOVED) must carry
		// a certificate of the deployment's own CA: with the system roots
		// too, one node announcing another host with a public certificate
		// would receive the password.
		cfg.RootCAs = b.ownCA
	}
	if b.nodeCount.Add(1) <= maxNodeConfigs {
		if v, loaded := b.nodes.LoadOrStore(addr, cfg); loaded {
			return v.(*tls.Config)
		}
	}
	return cfg
}

// open opens the network connection, with Options.Dial when it is set.
// Whatever Options.Dial fails with is ErrUnreachable, unless it is a
// timeout or a cancellation the classifier knows by itself.
func (d *dialer) open(ctx context.Context, addr string, nd *net.Dialer) (net.Conn, error) {
	if d.netDial == nil {
		return nd.DialContext(ctx, "tcp", addr)
	}
	dctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	conn, err := d.netDial(dctx, "tcp", addr)
	switch {
	case err == nil && conn == nil:
		err = errors.New("Options.Dial returned no connection and no error")
	case err == nil:
		return conn, nil
	case conn != nil:
		conn.Close()
	}
	if cause := causeOf(err); cause == ErrTimeout || cause == context.Canceled {
		return nil, err
	}
	return nil, &dialError{addr: addr, err: err}
}

// dialError is a failure of Options.Dial: ErrUnreachable, whatever the
// caller's function returned.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string   { return "Options.Dial " + e.addr + ": " + e.err.Error() }
func (e *dialError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// failed reports a connection that could not be dialed or handshaken.
func (d *dialer) failed(start time.Time, err error) {
	if d.obs != nil {
		d.obs.Connect(time.Since(start), ClassifyError(err))
	}
}

// speaksPlaintextRESP reports whether addr answers a plaintext PING. A
// plaintext Redis given a TLS ClientHello usually waits for the end of a
// line that never comes, so a TLS timeout alone cannot tell it from a dead
// server; this probe, run only after a failure, can. It connects as every
// connection does (d.open: Options.Dial when set), so it asks the server
// the application reaches, through the same tunnel or proxy.
func (d *dialer) speaksPlaintextRESP(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	conn, err := d.open(ctx, addr, &net.Dialer{Timeout: d.timeout})
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(d.timeout))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return false
	}
	return buf[0] == '+' || buf[0] == '-'
}

// secrets are the passwords the dialer's connections authenticate with:
// the application's last one and the Sentinels', cut out of the servers'
// words in errors.
func (d *dialer) secrets() []string {
	out := []string{d.sentinelPassword}
	if p := d.password.Load(); p != nil {
		out = append(out, *p)
	}
	return out
}
