// Package resp is a minimal RESP2 client for probing servers: the CLI's
// verification and the test harness use it instead of the client library
// under test, so that their checks do not share that library's bugs.
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
	r *bufio.Reader
}

// Dial connects to addr over TLS with cfg, or in plaintext when cfg is nil.
// The TLS handshake completes before Dial returns; with TLS 1.3 a rejected
// client certificate only surfaces on the first Do.
func Dial(addr string, cfg *tls.Config) (*Conn, error) {
	d := &net.Dialer{Timeout: IOTimeout}
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
	return &Conn{Conn: c, r: bufio.NewReader(c)}, nil
}

// Do sends one command and returns its reply rendered as text:
//
//	simple string "+OK", error "-ERR ...", integer ":1",
//	bulk string: its content, nil: "(nil)",
//	array: elements rendered the same way, one per line ("(empty array)").
//
// Error replies are not Go errors; err is only for I/O and protocol failures.
func (c *Conn) Do(args ...string) (string, error) {
	if err := c.SetDeadline(time.Now().Add(IOTimeout)); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c.Conn, b.String()); err != nil {
		return "", err
	}
	return c.readReply()
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

func (c *Conn) readReply() (string, error) {
	line, err := c.readLine()
	if err != nil {
		return "", err
	}
	switch line[0] {
	case '+', '-', ':':
		return line, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 || n > maxBulk {
			return "", fmt.Errorf("resp: bad bulk length %q", line)
		}
		if n == -1 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 || n > maxBulk {
			return "", fmt.Errorf("resp: bad array length %q", line)
		}
		if n == -1 {
			return "(nil)", nil
		}
		if n == 0 {
			return "(empty array)", nil
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = c.readReply(); err != nil {
				return "", err
			}
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", errors.New("resp: unexpected reply type " + strconv.Quote(line))
}
