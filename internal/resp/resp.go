// Package resp is a minimal RESP2 client for probing servers: the CLI's
// verification and audit, and the test harness use it instead of the client
// library under test, so that their checks do not share that library's bugs.
//
// It also holds the reply limits every reader of server replies in this
// module applies (Limits): its own Reader, and Guard, which checks the
// stream a client library (rueidis) reads, since that library has none.
package resp

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// IOTimeout bounds every dial and command so a wedged server fails a test
// instead of hanging it.
const IOTimeout = 5 * time.Second

// Conn is a minimal RESP2 client, independent of the client library under
// test, so harness checks do not share that library's bugs.
type Conn struct {
	net.Conn
	r       *Reader // within DefaultLimits, so garbage or a hostile server cannot exhaust memory
	timeout time.Duration
}

// Dial connects to addr over TLS with cfg, or in plaintext when cfg is nil.
// The TLS handshake completes before Dial returns; with TLS 1.3 a rejected
// client certificate only surfaces on the first Do.
func Dial(addr string, cfg *tls.Config) (*Conn, error) {
	return DialTimeout(addr, cfg, IOTimeout)
}

// DialTimeout is Dial with timeout bounding the dial, the handshake and
// then every command, instead of IOTimeout.
func DialTimeout(addr string, cfg *tls.Config, timeout time.Duration) (*Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	var (
		c   net.Conn
		err error
	)
	if cfg == nil {
		c, err = d.Dial("tcp", addr)
	} else {
		c, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	}
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, r: NewReader(c, DefaultLimits), timeout: timeout}, nil
}

// Value is one RESP2 reply.
type Value struct {
	// Type is the reply's type byte: '+' simple string, '-' error,
	// ':' integer, '$' bulk string, '*' array.
	Type  byte
	Str   string  // the text of a simple string, error or integer (without the type byte), or the bulk content
	Nil   bool    // a null bulk string or null array
	Elems []Value // the elements of an array
}

// FirstWord is reply up to its first space or line break: the code of an
// error reply (-WRONGPASS, -NOPERM) without the text after it, which can
// echo an argument such as a password. Messages quote replies through it.
func FirstWord(reply string) string {
	if i := strings.IndexAny(reply, " \r\n"); i > 0 {
		return reply[:i]
	}
	return reply
}

// IsError reports whether v is an error reply.
func (v Value) IsError() bool { return v.Type == '-' }

// String renders v as Do does.
func (v Value) String() string {
	switch {
	case v.Nil:
		return "(nil)"
	case v.Type == '+' || v.Type == '-' || v.Type == ':':
		return string(v.Type) + v.Str
	case v.Type == '*':
		if len(v.Elems) == 0 {
			return "(empty array)"
		}
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = e.String()
		}
		return strings.Join(parts, "\n")
	}
	return v.Str
}

// Do sends one command and returns its reply rendered as text:
//
//	simple string "+OK", error "-ERR ...", integer ":1",
//	bulk string: its content, nil: "(nil)",
//	array: elements rendered the same way, one per line ("(empty array)").
//
// Error replies are not Go errors; err is only for I/O and protocol failures.
func (c *Conn) Do(args ...string) (string, error) {
	v, err := c.DoValue(args...)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// DoValue sends one command and returns its reply as a Value, for replies
// whose structure matters (arrays of bulk strings that may hold newlines).
// Error replies are not Go errors; err is only for I/O and protocol failures.
func (c *Conn) DoValue(args ...string) (Value, error) {
	vs, err := c.Pipeline(args)
	if err != nil {
		return Value{}, err
	}
	return vs[0], nil
}

// Pipeline sends every command in one write, then reads their replies in
// order: one round trip, as a client that pipelines connects (AUTH and
// PING together, say). Error replies are not Go errors.
func (c *Conn) Pipeline(cmds ...[]string) ([]Value, error) {
	timeout := c.timeout
	if timeout <= 0 {
		timeout = IOTimeout
	}
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, args := range cmds {
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := io.WriteString(c.Conn, b.String()); err != nil {
		return nil, err
	}
	vs := make([]Value, len(cmds))
	for i := range vs {
		v, err := c.r.Read()
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// AnswersPlaintext reports whether addr answers an inline PING in
// plaintext RESP. A TLS port never does: it waits for a ClientHello or
// closes the connection.
func AnswersPlaintext(addr string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(min(timeout, 2*time.Second)))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	b := make([]byte, 1)
	n, _ := c.Read(b)
	return n == 1 && (b[0] == '+' || b[0] == '-')
}
