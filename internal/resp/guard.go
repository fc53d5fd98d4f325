package resp

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
)

// Guard is a connection whose incoming bytes a Framer checks as the client
// library reads them. When a reply crosses a limit, Read returns the bytes
// before the refused one with the error, closes the connection, and fails
// every later Read: the library never sees the header it would have acted
// on (an allocation for a claimed count, one more level of recursion), and
// fails its pending commands with the error instead. It sits above TLS,
// on the plaintext RESP stream.
//
// It also counts the commands written, and refuses a reply when no
// command awaits one: rueidis panics on such a reply, which would let any
// server crash the process.
type Guard struct {
	net.Conn
	f       *Framer
	err     error
	refused func(error) error

	wmu     sync.Mutex
	w       *Framer // follows the commands written; nil once they cannot be followed
	pending atomic.Int64
}

// commandLimits frame the commands a client writes, only to count them:
// anything a client may send to Redis passes.
var commandLimits = Limits{MaxDepth: 4, MaxLine: 64 << 10, MaxAggregate: 1 << 40, MaxElements: 1 << 40, MaxBulk: RedisMaxBulk, MaxBytes: 1 << 62}

// NewGuard returns conn guarded by l. refused, when not nil, is called
// once with the Framer's error when the connection is refused, and returns
// the error Read reports (so a library can give it its own type and tell
// its observer).
func NewGuard(conn net.Conn, l Limits, refused func(error) error) *Guard {
	g := &Guard{Conn: conn, f: NewFramer(l), refused: refused, w: NewFramer(commandLimits)}
	g.f.pending = &g.pending
	return g
}

// Write counts the commands in p before they leave, so that the count is
// up to date before the server can answer them.
func (g *Guard) Write(p []byte) (int, error) {
	g.wmu.Lock()
	if g.w != nil {
		before := g.w.values
		if _, err := g.w.Scan(p); err != nil {
			// Not commands this guard can follow: stop refusing replies
			// for want of one.
			g.w = nil
			g.pending.Add(1 << 62)
		} else {
			g.pending.Add(g.w.values - before)
		}
	}
	g.wmu.Unlock()
	return g.Conn.Write(p)
}

// Read reads from the connection and lets through only what the Framer
// accepts. Like any net.Conn's, it is meant for one reader at a time.
func (g *Guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	if n > 0 {
		if k, ferr := g.f.Scan(p[:n]); ferr != nil {
			if g.refused != nil {
				ferr = g.refused(ferr)
			}
			g.err = ferr
			g.Conn.Close()
			return k, ferr
		}
	}
	return n, err
}

// DialGuarded dials addr with nd, completes the TLS handshake when cfg is
// not nil (deriving ServerName from addr when cfg has none, as
// tls.DialWithDialer does), and returns the connection guarded by l. It
// fits rueidis.ClientOption.DialCtxFn for clients that do no TLS of their
// own.
func DialGuarded(ctx context.Context, addr string, nd *net.Dialer, cfg *tls.Config, l Limits) (net.Conn, error) {
	conn, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		hctx := ctx
		if nd.Timeout > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, nd.Timeout)
			defer cancel()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	return NewGuard(conn, l, nil), nil
}
