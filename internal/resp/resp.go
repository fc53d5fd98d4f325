// Package resp is a minimal RESP2 client for probing servers: the CLI's
// verification and audit, and the test harness use it instead of the client
// library under test, so that their checks do not share that library's bugs.
package resp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// IOTimeout bounds every dial and command so a wedged server fails a test
// instead of hanging it.
const IOTimeout = 5 * time.Second

// maxBulk caps bulk replies so garbage (e.g. TLS bytes on a plain socket)
// cannot make the reader allocate unbounded memory.
const maxBulk = 64 << 20

// Conn is a minimal RESP2 client, independent of the client library under
// test, so harness checks do not share that library's bugs.
type Conn struct {
	net.Conn
	r       *bufio.Reader
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
	return &Conn{Conn: c, r: bufio.NewReader(c), timeout: timeout}, nil
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
		v, err := c.readReply()
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

func (c *Conn) readLine() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") || len(line) < 3 {
		return "", fmt.Errorf("resp: malformed RESP line %q", line)
	}
	return line[:len(line)-2], nil
}

func (c *Conn) readReply() (Value, error) {
	line, err := c.readLine()
	if err != nil {
		return Value{}, err
	}
	switch line[0] {
	case '+', '-', ':':
		return Value{Type: line[0], Str: line[1:]}, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 || n > maxBulk {
			return Value{}, fmt.Errorf("resp: bad bulk length %q", line)
		}
		if n == -1 {
			return Value{Type: '$', Nil: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return Value{}, err
		}
		return Value{Type: '$', Str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 || n > maxBulk {
			return Value{}, fmt.Errorf("resp: bad array length %q", line)
		}
		if n == -1 {
			return Value{Type: '*', Nil: true}, nil
		}
		v := Value{Type: '*', Elems: make([]Value, n)}
		for i := range v.Elems {
			if v.Elems[i], err = c.readReply(); err != nil {
				return Value{}, err
			}
		}
		return v, nil
	}
	return Value{}, errors.New("resp: unexpected reply type " + strconv.Quote(line))
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
