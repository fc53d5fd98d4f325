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
	// Ranges are the slots a master serves, [first, last] each; none for
	// a replica, or a master that serves no slot.
	Ranges [][2]int
	// Failed: the cluster marks the node failed (CLUSTER SHARDS health).
	Failed bool
}

// Read asks a node, through do, which nodes its cluster has: CLUSTER
// SHARDS (Redis 7.0 and later, every node with its role), or CLUSTER SLOTS
// where that is refused (which lists a replica only once it has
// replicated something). tls picks each node's TLS port over its
// plaintext one; host stands in for a node announced without one. A
// server that answers both with an error reply is not a cluster node for
// the caller's purposes only when it says so ("cluster support
// disabled"): nil, nil. Any other error reply (NOPERM, an unknown or
// renamed command) is a *RefusedError: the caller cannot tell, and must
// not act on one node as if it were the whole deployment. The nodes come
// sorted by address, so that two reads of one cluster compare equal.
func Read(do func(args ...string) (resp.Value, error), tls bool, host string) ([]Node, error) {
	var nodes []Node
	add := func(h, port string, master bool, id string, ranges [][2]int, failed bool) error {
		if h == "" || h == "?" {
			h = host
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 || h == "" || strings.ContainsAny(h, " /\r\n\x00") {
			return fmt.Errorf("the cluster names a node that is not host:port")
		}
		addr := net.JoinHostPort(h, port)
		if i := slices.IndexFunc(nodes, func(n Node) bool { return n.Addr == addr }); i >= 0 {
			// CLUSTER SLOTS names a master once for each of its ranges.
			nodes[i].Ranges = append(nodes[i].Ranges, ranges...)
			return nil
		}
		if len(nodes) == MaxNodes {
			return fmt.Errorf("the cluster names more than %d nodes", MaxNodes)
		}
		nodes = append(nodes, Node{Addr: addr, Master: master, ID: id, Ranges: ranges, Failed: failed})
		return nil
	}
	v, err := do("CLUSTER", "SHARDS")
	if err != nil {
		return nil, err
	}
	if !v.IsError() {
		for _, shard := range v.Elems {
			sh := pairs(shard)
			ranges, err := slotRanges(sh["slots"].Elems)
			if err != nil {
				return nil, err
			}
			for _, n := range sh["nodes"].Elems {
				f := pairs(n)
				port := f["port"].Str
				if tls || port == "" || port == "0" {
					port = f["tls-port"].Str
				}
				master := f["role"].Str == "master"
				var served [][2]int
				if master {
					served = ranges
				}
				if err := add(f["ip"].Str, port, master, f["id"].Str, served, f["health"].Str == "fail" || f["health"].Str == "failed"); err != nil {
					return nil, err
				}
			}
		}
	} else {
		if v, err = do("CLUSTER", "SLOTS"); err != nil {
			return nil, err
		}
		if v.IsError() {
			if strings.Contains(v.Str, "cluster support disabled") {
				return nil, nil
			}
			return nil, &RefusedError{Reply: resp.FirstWord(v.Str)}
		}
		// [start, end, [host, port, id, ...] master, replicas...]
		for _, rng := range v.Elems {
			if len(rng.Elems) < 3 {
				return nil, fmt.Errorf("CLUSTER SLOTS: unexpected reply")
			}
			r, err := slotRanges(rng.Elems[:2])
			if err != nil {
				return nil, err
			}
			for i := 2; i < len(rng.Elems); i++ {
				n := rng.Elems[i].Elems
				if len(n) < 2 {
					return nil, fmt.Errorf("CLUSTER SLOTS: unexpected reply")
				}
				id := ""
				if len(n) > 2 {
					id = n[2].Str
				}
				var served [][2]int
				if i == 2 {
					served = r
				}
				if err := add(n[0].Str, n[1].Str, i == 2, id, served, false); err != nil {
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

// RefusedError is a server that refused to say whether it is a cluster
// node. Reply is the error code only (NOPERM, ERR), never the text after
// it, which a server chooses.
type RefusedError struct{ Reply string }

func (e *RefusedError) Error() string {
	return "the server refused CLUSTER SHARDS and CLUSTER SLOTS (" + e.Reply + "), so whether it is one node of a cluster is unknown; the user needs +cluster|shards and +cluster|slots"
}

// Masters are the addresses of the masters among nodes that serve slots
// and are not marked failed: those that hold the keys clients reach. (A
// failed master's slots have a new master; a master without slots holds
// nothing a client can read.)
func Masters(nodes []Node) []string {
	var out []string
	for _, n := range nodes {
		if n.Master && len(n.Ranges) > 0 && !n.Failed {
			out = append(out, n.Addr)
		}
	}
	return out
}

// Owners is a digest of which node (by id) serves which slots: two reads
// of one cluster give the same, through any of its nodes and over either
// port, until a slot moves or a master fails over. The jobs compare it
// before and after their walks, and two sides of a migration with it.
func Owners(nodes []Node) string {
	var lines []string
	for _, n := range nodes {
		if !n.Master || n.Failed {
			continue
		}
		for _, r := range n.Ranges {
			lines = append(lines, fmt.Sprintf("%05d-%05d %s", r[0], r[1], n.ID))
		}
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:8])
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
