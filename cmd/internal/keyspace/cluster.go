package keyspace

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/redact"
	"github.com/redsafe/redsafe/internal/resp"
)

// maxMasters bounds what a CLUSTER SLOTS reply may name: a hostile server
// could list endless nodes.
const maxMasters = 1000

// Masters returns the addresses of the masters of the cluster t is a node
// of, in slot order, or nil when t is not a cluster node (CLUSTER SLOTS
// answers with an error): the jobs then walk each master with a SCAN of
// its own. A node announced with an empty host is at t's host.
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
			return nil, &DialError{Addr: t.Addr, Err: redact.WithoutSecrets(fmt.Errorf("AUTH: %s%v", resp.FirstWord(reply), err), t.Password)}
		}
	}
	v, err := c.DoValue("CLUSTER", "SLOTS")
	if err != nil {
		return nil, err
	}
	if v.IsError() {
		// "cluster support disabled" is a single server; so, for the walk,
		// is a server that refuses or does not know the command. Should it
		// be a cluster node all the same, the first batch whose keys span
		// slots fails with CROSSSLOT: an error, never a silent half walk.
		return nil, nil
	}
	host, _, _ := net.SplitHostPort(t.Addr)
	seen := map[string]bool{}
	var masters []string
	for _, r := range v.Elems {
		// [start, end, [host, port, id, ...], replicas...]
		if len(r.Elems) < 3 || len(r.Elems[2].Elems) < 2 {
			return nil, fmt.Errorf("CLUSTER SLOTS on %s: unexpected reply", t.Addr)
		}
		node := r.Elems[2].Elems
		h, port := node[0].Str, node[1].Str
		if h == "" || h == "?" {
			h = host
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || strings.ContainsAny(h, " /\r\n") {
			return nil, fmt.Errorf("CLUSTER SLOTS on %s: a node address that is not host:port", t.Addr)
		}
		addr := net.JoinHostPort(h, port)
		if !seen[addr] {
			seen[addr] = true
			masters = append(masters, addr)
		}
		if len(masters) > maxMasters {
			return nil, fmt.Errorf("CLUSTER SLOTS on %s names more than %d masters", t.Addr, maxMasters)
		}
	}
	if len(masters) == 0 {
		return nil, fmt.Errorf("CLUSTER SLOTS on %s: the cluster serves no slots", t.Addr)
	}
	return masters, nil
}

// At is t aimed at another node of its cluster, verified (unless t's TLS
// config names a server name for every node) against the host it is
// reached by.
func (t Target) At(addr string) Target {
	if addr == t.Addr {
		return t
	}
	n := t
	n.Addr = addr
	if t.TLS != nil {
		host, _, _ := net.SplitHostPort(addr)
		origin, _, _ := net.SplitHostPort(t.Addr)
		cfg := t.TLS.Clone()
		if cfg.ServerName == "" || cfg.ServerName == origin {
			cfg.ServerName = host
		}
		n.TLS = cfg
	}
	return n
}
