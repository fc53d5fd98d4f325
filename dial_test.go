package redsafe

import (
	"context"
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
