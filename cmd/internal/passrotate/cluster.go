package passrotate

import (
	"fmt"
	"net"
	"strings"

	"github.com/redsafe/redsafe/cmd/internal/topology"
)

// Nodes are the servers whose users a rotation must change: s alone, or
// every node of s's cluster, masters and replicas (package topology):
// Redis does not replicate ACLs, and a password changed on one node only
// is an outage after the next failover.
func (s Server) Nodes() ([]Server, error) {
	admin, err := s.admin()
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	host, _, _ := net.SplitHostPort(s.Addr)
	found, err := topology.Read(admin.DoValue, s.TLS != nil, host)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's nodes from %s: %w", s.Addr, err)
	}
	if found == nil {
		return []Server{s}, nil
	}
	nodes := make([]Server, len(found))
	for i, n := range found {
		nodes[i] = s.at(n.Addr)
	}
	return nodes, nil
}

// at is s aimed at another node, verified against the host it is reached
// by unless s's TLS config names another server name for every node.
func (s Server) at(addr string) Server {
	if addr == s.Addr {
		return s
	}
	n := s
	n.Addr, n.TLS = addr, topology.TLSFor(s.TLS, s.NodeRoots, s.Addr, addr)
	return n
}

// AddAll adds next on every node in turn (Add), and proves after the last
// that next, and current when set, log in on every one. It stops at the
// first node that fails, naming the nodes that have the new password
// already: adding again is safe, a password is added once.
func AddAll(nodes []Server, user, current, next string) (*Result, error) {
	all := &Result{User: user}
	var done []string
	for _, n := range nodes {
		r, err := n.Add(user, current, next)
		if err != nil {
			return nil, nodeFailed(n, err, done, "has the new password", "run --add again once it is reachable")
		}
		all.merge(n, r, len(nodes))
		done = append(done, n.Addr)
	}
	if len(nodes) > 1 {
		if err := loginEverywhere(nodes, user, next, current); err != nil {
			return nil, err
		}
		all.step("every-node", "the new password%s logs in on all %d nodes", map[bool]string{true: " and the current one", false: ""}[current != ""], len(nodes))
	}
	return all, nil
}

// RemoveOthersAll removes every other password of user, on every node, but
// only once keep logs in on every one of them: until then nothing is
// removed anywhere, so no node is left with only a password the clients
// do not have.
func RemoveOthersAll(nodes []Server, user, keep string) (*Result, error) {
	if err := loginEverywhere(nodes, user, keep); err != nil {
		return nil, fmt.Errorf("refusing to remove the other passwords anywhere: %w; run `redsafe rotate-password --add` first", err)
	}
	all := &Result{User: user}
	if len(nodes) > 1 {
		all.step("every-node", "the password to keep logs in on all %d nodes", len(nodes))
	}
	var done []string
	for _, n := range nodes {
		r, err := n.RemoveOthers(user, keep)
		if err != nil {
			return nil, nodeFailed(n, err, done, "has only the kept password", "run --remove-old again")
		}
		all.merge(n, r, len(nodes))
		done = append(done, n.Addr)
	}
	return all, nil
}

// loginEverywhere proves that each password logs in as user on every node.
func loginEverywhere(nodes []Server, user string, passwords ...string) error {
	for _, n := range nodes {
		for _, pw := range passwords {
			if pw == "" {
				continue
			}
			if err := n.login(user, pw); err != nil {
				return fmt.Errorf("node %s: %w", n.Addr, err)
			}
		}
	}
	return nil
}

func nodeFailed(n Server, err error, done []string, state, next string) error {
	if len(done) == 0 {
		return err
	}
	return fmt.Errorf("node %s: %w; %s %s, the others are unchanged; %s", n.Addr, err, strings.Join(done, ", "), state, next)
}

// merge adds a node's result to the rotation's: its steps, named by node
// when there are several, and what the last node reports.
func (r *Result) merge(n Server, nr *Result, nodes int) {
	for _, s := range nr.Steps {
		if nodes > 1 {
			s.Detail = n.Addr + ": " + s.Detail
		}
		r.Steps = append(r.Steps, s)
	}
	r.Passwords, r.Removed = nr.Passwords, r.Removed+nr.Removed
	r.Saved = nr.Saved && (r.merged == 0 || r.Saved) // saved on every node
	r.merged++
	if nr.SaveNote != "" {
		r.SaveNote = n.Addr + ": " + nr.SaveNote
	}
}
