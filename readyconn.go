package redsafe

import (
	"net"
	"sync/atomic"
	"time"
)

// watch returns conn wrapped so that the Observer learns when it is ready
// for commands; conn itself when nothing observes.
func (d *dialer) watch(conn net.Conn, start time.Time) net.Conn {
	if d.obs == nil {
		return conn
	}
	return &readyConn{Conn: conn, start: start, obs: d.obs}
}

// readyConn measures a new connection's time to ready: dial, TLS handshake
// and the HELLO/AUTH exchange. rueidis sends HELLO with AUTH (Redis 6 and
// later, which TLS needs anyway) as its first write and reads the replies
// before it hands the connection out, and it connects only when a command
// needs a connection, which it then writes at once. So the first write after
// the first read is that command, and its moment is when the connection
// became ready. A connection closed before that was refused at AUTH, or
// died: it is not reported, and the command that needed it fails instead.
type readyConn struct {
	net.Conn
	start    time.Time
	obs      Observer
	answered atomic.Bool // the server has replied to HELLO
	reported atomic.Bool
}

func (c *readyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.answered.Load() {
		c.answered.Store(true)
	}
	return n, err
}

func (c *readyConn) Write(p []byte) (int, error) {
	if c.answered.Load() && !c.reported.Load() && c.reported.CompareAndSwap(false, true) {
		c.obs.Connect(time.Since(c.start), "")
	}
	return c.Conn.Write(p)
}
