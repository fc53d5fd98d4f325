package redsafe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// countingConn counts the bytes a connection carries both ways.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestOptionsDial: TLS and the reply guard run over what Options.Dial
// returns, so it sees the TLS records of every command.
func TestOptionsDial(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	var bytes, dials atomic.Int64
	var network string
	o := serverOptions(s)
	o.Dial = func(ctx context.Context, nw, addr string) (net.Conn, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("Options.Dial got a context without a deadline")
		}
		dials.Add(1)
		network = nw
		var d net.Dialer
		conn, err := d.DialContext(ctx, nw, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{conn, &bytes}, nil
	}
	c := openCache(t, o)
	ctx := testContext(t)
	before := bytes.Load()
	if before == 0 || dials.Load() == 0 {
		t.Fatalf("Open through Options.Dial: %d dials, %d bytes", dials.Load(), before)
	}
	if network != "tcp" {
		t.Errorf("network = %q, want tcp", network)
	}
	if c.TLSVersion() == 0 {
		t.Error("no TLS over the connection Options.Dial returned")
	}
	value := []byte(strings.Repeat("v", 1000))
	if err := c.Set(ctx, "dial:1", value, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "dial:1"); err != nil || string(got) != string(value) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// Sealed (Fernet is base64, a third larger) and in TLS records, the
	// value crosses the counted connection twice.
	if moved := bytes.Load() - before; moved < 2*int64(len(value)) {
		t.Errorf("%d bytes counted for a Set and a Get of %d bytes", moved, len(value))
	}
}

// TestOptionsDialFailure: whatever Options.Dial fails with, Open reports
// the server unreachable, with a fix, in one line.
func TestOptionsDialFailure(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	o := serverOptions(s)
	o.Dial = func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("proxy: no route to the cache")
	}
	c, err := Open(testContext(t), o)
	if err == nil {
		c.Close()
		t.Fatal("Open succeeded without a connection")
	}
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(err, ErrUnreachable) || ClassifyError(err) != ClassUnreachable {
		t.Fatalf("Open = %v (%T, class %q), want ErrUnreachable", err, err, ClassifyError(err))
	}
	if ce.Fix == "" || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "proxy: no route") {
		t.Errorf("error %q, fix %q: want one line naming Dial's error, and a fix", err, ce.Fix)
	}

	// A Dial that returns neither is a failure too, not a panic.
	o.Dial = func(context.Context, string, string) (net.Conn, error) { return nil, nil }
	if c, err := Open(testContext(t), o); !errors.Is(err, ErrUnreachable) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("Open with a Dial returning nil, nil = %v, want ErrUnreachable", err)
	}
}

// A node only the topology names is verified against the deployment's own
// CA alone, not the system roots too: one node announcing another host
// with a public certificate must not receive the password. The seeds keep
// the roots the configuration gives them.
func TestTopologyNodesTrustTheCAFileOnly(t *testing.T) {
	own := x509.NewCertPool()
	system := x509.NewCertPool()
	d := &dialer{tls: &tls.Config{RootCAs: system}, seeds: map[string]bool{"seed.example:6380": true}}
	d.base.Store(&tlsBase{cfg: d.tls, ownCA: own})
	if got := d.tlsFor("seed.example:6380").RootCAs; got != system {
		t.Fatal("a seed lost the configured roots")
	}
	cfg := d.tlsFor("10.0.0.7:6380")
	if cfg.RootCAs != own || cfg.ServerName != "10.0.0.7" {
		t.Fatalf("a node the topology named: roots %p (own %p), name %q", cfg.RootCAs, own, cfg.ServerName)
	}
	// Without a CA file there is nothing narrower than the system roots.
	d = &dialer{tls: &tls.Config{RootCAs: system}, seeds: map[string]bool{}}
	d.base.Store(&tlsBase{cfg: d.tls})
	if d.tlsFor("10.0.0.7:6380").RootCAs != system {
		t.Fatal("no CA file: the system roots must stay")
	}
}

// Where plaintext is allowed to this machine only, a node elsewhere that
// the topology names is refused before any byte (or password) is sent.
func TestPlaintextNodeElsewhereRefused(t *testing.T) {
	d := &dialer{loopbackOnly: true, timeout: time.Second}
	start := time.Now()
	_, err := d.dial(context.Background(), "10.255.255.1:6379", &net.Dialer{Timeout: time.Second}, nil)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "loopback only") || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("dial = %v after %v, want an immediate refusal", err, time.Since(start))
	}
	if _, err := d.dial(context.Background(), "127.0.0.1:1", &net.Dialer{Timeout: time.Second}, nil); err == nil || strings.Contains(err.Error(), "loopback only") {
		t.Fatalf("a loopback node was refused by the policy: %v", err)
	}
}
