// Package topology reads which nodes a Redis Cluster has, from any one of
// them: the one parser of CLUSTER SHARDS and CLUSTER SLOTS replies for the
// operator commands (the library leaves this to rueidis). The replies come
// from servers nobody vouches for, so what they name is bounded and
// checked before anyone dials it.
package topology

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe/internal/resp"
)

// MaxNodes bounds the nodes a reply may name: a hostile server could list
// endless ones.
const MaxNodes = 1000

// Node is one node of a cluster.
type Node struct {
	Addr   string // host:port, IPv6 bracketed
	Master bool
	ID     string // the node's id; "" when the reply gives none
	// Ranges are the slots a master serves, [first, last] each, as
	// CLUSTER SLOTS says; none for a replica.
	Ranges [][2]int
	// Failed: the cluster marks the node failed (CLUSTER SHARDS health).
	Failed bool
}

// Read asks a node, through do, which nodes its cluster has. Who serves
// which slots comes from CLUSTER SLOTS, on every version: Redis 7's CLUSTER
// SHARDS can give a shard's slots from a failed node after a failover, and
// a master missing from the walks is a third of the keys left behind.
// CLUSTER SHARDS, where allowed, adds the nodes CLUSTER SLOTS leaves out (a
// replica that has not replicated yet, a failed node) and marks failed
// ones. tls picks each node's TLS port over its plaintext one in CLUSTER
// SHARDS (CLUSTER SLOTS announces the port of the connection's kind);
// host stands in for a node announced without one. A server that answers
// CLUSTER SLOTS with an error reply is not a cluster node for the caller's
// purposes only when it says so ("cluster support disabled"): nil, nil.
// Any other error reply (NOPERM, an unknown or renamed command) is a
// *RefusedError: the caller cannot tell, and must not act on one node as
// if it were the whole deployment. The nodes come sorted by address, so
// that two reads of one cluster compare equal.
func Read(do func(args ...string) (resp.Value, error), tls bool, host string) ([]Node, error) {
	var nodes []Node
	addr := func(h, port string) (string, error) {
		if h == "" || h == "?" {
			h = host
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 || h == "" || strings.ContainsAny(h, " /\r\n\x00") {
			return "", fmt.Errorf("the cluster names a node that is not host:port")
		}
		return net.JoinHostPort(h, port), nil
	}
	// add records a node, or what more a reply says of one already known
	// (by id when there is one, else by address).
	add := func(n Node) error {
		i := slices.IndexFunc(nodes, func(m Node) bool {
			if n.ID != "" && m.ID != "" {
				return m.ID == n.ID
			}
			return m.Addr == n.Addr
		})
		if i < 0 {
			if j := slices.IndexFunc(nodes, func(m Node) bool { return m.Addr == n.Addr }); j >= 0 {
				return fmt.Errorf("%w %s", errSameAddr, n.Addr)
			}
			if len(nodes) == MaxNodes {
				return fmt.Errorf("the cluster names more than %d nodes", MaxNodes)
			}
			nodes = append(nodes, n)
			return nil
		}
		// CLUSTER SLOTS names a master once for each of its ranges.
		nodes[i].Ranges = append(nodes[i].Ranges, n.Ranges...)
		nodes[i].Failed = nodes[i].Failed || n.Failed
		return nil
	}
	v, err := do("CLUSTER", "SLOTS")
	if err != nil {
		return nil, err
	}
	if v.IsError() {
		if strings.Contains(v.Str, "cluster support disabled") {
			return nil, nil
		}
		return nil, &RefusedError{Reply: resp.FirstWord(v.Str)}
	}
	// [start, end, [host, port, id, ...] master, replicas...]
	// No cluster has more ranges than slots; a reply that claims more
	// would cost Uncovered and Owners a pass over each.
	if len(v.Elems) > 16384 {
		return nil, fmt.Errorf("CLUSTER SLOTS names more slot ranges than there are slots")
	}
	for _, rng := range v.Elems {
		if len(rng.Elems) < 3 {
			return nil, fmt.Errorf("CLUSTER SLOTS: unexpected reply")
		}
		r, err := slotRanges(rng.Elems[:2])
		if err != nil {
			return nil, err
		}
		for i := 2; i < len(rng.Elems); i++ {
			f := rng.Elems[i].Elems
			if len(f) < 2 {
				return nil, fmt.Errorf("CLUSTER SLOTS: unexpected reply")
			}
			a, err := addr(f[0].Str, f[1].Str)
			if err != nil {
				return nil, err
			}
			n := Node{Addr: a, Master: i == 2}
			if len(f) > 2 {
				n.ID = f[2].Str
			}
			if n.Master {
				n.Ranges = r
			}
			if err := add(n); err != nil {
				return nil, err
			}
		}
	}
	if v, err = do("CLUSTER", "SHARDS"); err != nil {
		return nil, err
	}
	if !v.IsError() {
		for _, shard := range v.Elems {
			for _, e := range pairs(shard)["nodes"].Elems {
				f := pairs(e)
				failed := f["health"].Str == "fail" || f["health"].Str == "failed"
				port := f["port"].Str
				if tls || port == "" || port == "0" {
					port = f["tls-port"].Str
				}
				a, err := addr(f["ip"].Str, port)
				if err != nil && failed {
					continue // a failed node whose port is gone: nothing to dial or audit
				} else if err != nil {
					return nil, err
				}
				if err := add(Node{Addr: a, Master: f["role"].Str == "master", ID: f["id"].Str, Failed: failed}); err != nil {
					if failed && errors.Is(err, errSameAddr) {
						continue // the ghost of a node that came back at its address with a new id
					}
					return nil, err
				}
			}
		}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("the cluster has no nodes serving slots")
	}
	slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(a.Addr, b.Addr) })
	return nodes, nil
}

var errSameAddr = errors.New("the cluster names two nodes at")

// RefusedError is a server that refused to say whether it is a cluster
// node. Reply is the error code only (NOPERM, ERR), never the text after
// it, which a server chooses.
type RefusedError struct{ Reply string }

func (e *RefusedError) Error() string {
	return "the server refused CLUSTER SHARDS and CLUSTER SLOTS (" + e.Reply + "), so whether it is one node of a cluster is unknown; the user needs +cluster|shards and +cluster|slots"
}

// Masters are the addresses of the masters that serve slots (by CLUSTER
// SLOTS), failed or not: the keys clients reach are on them, and a failed
// one the jobs cannot reach fails them rather than being skipped.
func Masters(nodes []Node) []string {
	var out []string
	for _, n := range nodes {
		if len(n.Ranges) > 0 {
			out = append(out, n.Addr)
		}
	}
	return out
}

// Owners is a digest of which node serves which slots, by node id (by
// address for a node the reply gives no id): two reads of one cluster
// give the same, through any of its nodes and over either port, until a
// slot moves or a master fails over. The jobs compare it before and after
// their walks.
func Owners(nodes []Node) string {
	var lines []string
	for _, n := range nodes {
		who := n.ID
		if who == "" {
			who = n.Addr
		}
		for _, r := range n.Ranges {
			lines = append(lines, fmt.Sprintf("%05d-%05d %s", r[0], r[1], who))
		}
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:8])
}

// Uncovered are the slots no master serves, as ranges: a cluster that is
// not whole, whose keys there no client can reach and no job can walk.
func Uncovered(nodes []Node) [][2]int {
	var served [16384]bool
	for _, n := range nodes {
		for _, r := range n.Ranges {
			for s := r[0]; s <= r[1]; s++ {
				served[s] = true
			}
		}
	}
	var out [][2]int
	for s := 0; s < 16384; s++ {
		if served[s] {
			continue
		}
		start := s
		for s+1 < 16384 && !served[s+1] {
			s++
		}
		out = append(out, [2]int{start, s})
	}
	return out
}

// IDs are the node ids the reply gave.
func IDs(nodes []Node) []string {
	var out []string
	for _, n := range nodes {
		if n.ID != "" {
			out = append(out, n.ID)
		}
	}
	return out
}

// slotRanges reads a flat list of first and last slots.
func slotRanges(v []resp.Value) ([][2]int, error) {
	if len(v)%2 != 0 || len(v) > 2*16384 {
		return nil, fmt.Errorf("the cluster names slot ranges that are not pairs of slots")
	}
	var out [][2]int
	for i := 0; i < len(v); i += 2 {
		a, err1 := strconv.Atoi(v[i].Str)
		b, err2 := strconv.Atoi(v[i+1].Str)
		if err1 != nil || err2 != nil || a < 0 || b < a || b > 16383 {
			return nil, fmt.Errorf("the cluster names a slot range that is not within 0-16383")
		}
		out = append(out, [2]int{a, b})
	}
	return out, nil
}

// pairs reads a RESP2 map (a flat array of names and values).
func pairs(v resp.Value) map[string]resp.Value {
	m := map[string]resp.Value{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = v.Elems[i+1]
	}
	return m
}

// TLSFor is cfg for the node at addr, which the topology of the node at
// from names: the node's certificate must cover the host it is reached
// by, unless cfg names one server name for every node (a ServerName other
// than from's host), and chain to roots when those are given (the
// deployment's CA file alone, redsafe.Connection.NodeRootCAs), as the
// library checks such nodes: with the system roots too, a node announcing
// another host with a public certificate would get the password. nil
// stays nil (plaintext).
func TLSFor(cfg *tls.Config, roots *x509.CertPool, from, addr string) *tls.Config {
	if cfg == nil || addr == from {
		return cfg
	}
	host, _, _ := net.SplitHostPort(addr)
	origin, _, _ := net.SplitHostPort(from)
	n := cfg.Clone()
	if n.ServerName == "" || n.ServerName == origin {
		n.ServerName = host
	}
	if roots != nil {
		n.RootCAs = roots
	}
	return n
}
