package keyspace

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/redact"
	"github.com/redsafe/redsafe/internal/resp"
)

// Masters returns the addresses of the masters of the cluster t is a node
// of (package topology), sorted, or nil when t is not a cluster node: the
// jobs then walk each master with a SCAN of its own.
func (t Target) Masters() ([]string, error) {
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	c, err := resp.DialTimeout(t.Addr, t.TLS, timeout)
	if err != nil {
		return nil, &DialError{Addr: t.Addr, Err: err}
	}
	defer c.Close()
	args := []string{"AUTH", t.Password}
	if t.Username != "" {
		args = []string{"AUTH", t.Username, t.Password}
	}
	if t.Password != "" {
		if reply, err := c.Do(args...); err != nil || reply != "+OK" {
			if err == nil {
				err = errors.New(resp.FirstWord(reply))
			}
			return nil, &DialError{Addr: t.Addr, Err: redact.WithoutSecrets(fmt.Errorf("AUTH: %w", err), t.Password)}
		}
	}
	nodes, err := topology.Read(c.DoValue, t.TLS != nil, host(t.Addr))
	if err != nil || nodes == nil {
		return nil, err // nil, nil: one server; a *topology.RefusedError: unknown
	}
	return topology.Masters(nodes), nil
}

func host(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

// At is t aimed at another node of its cluster, verified (unless t's TLS
// config names a server name for every node) against the host it is
// reached by.
func (t Target) At(addr string) Target {
	if addr == t.Addr {
		return t
	}
	n := t
	n.Addr, n.TLS = addr, topology.TLSFor(t.TLS, t.NodeRoots, t.Addr, addr)
	return n
}
