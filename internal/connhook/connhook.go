// Package connhook lets a program inside this module see the TCP
// connections that a redsafe.Cache dials, below TLS: `redsafe bench` counts
// the bytes each stack puts on the wire with it. Nothing is installed by
// default, which costs one atomic load per new connection.
package connhook

import (
	"net"
	"sync/atomic"
)

var wrap atomic.Pointer[func(net.Conn) net.Conn]

// Set installs f for every connection dialed from now on; nil removes it.
func Set(f func(net.Conn) net.Conn) {
	if f == nil {
		wrap.Store(nil)
		return
	}
	wrap.Store(&f)
}

// Wrap returns conn as the installed function wraps it, or conn itself.
func Wrap(conn net.Conn) net.Conn {
	if f := wrap.Load(); f != nil {
		return (*f)(conn)
	}
	return conn
}
