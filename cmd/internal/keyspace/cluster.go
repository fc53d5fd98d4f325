package keyspace

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/redact"
	"github.com/redsafe/redsafe/internal/resp"
)

// Cluster is what a node says of its cluster.
type Cluster struct {
	// Masters are the addresses of the masters that serve slots, sorted:
	// the jobs walk each with a SCAN of its own.
	Masters []string
	// Owners is topology.Owners: the same for two reads of one cluster,
	// through any node or port, until a slot moves or a master fails over.
	Owners string
	// IDs are the node ids of every node named: two sides that share one
	// are one cluster.
	IDs []string
}

// Cluster reads the cluster t is a node of (package topology), or nil
// when t is not a cluster node. A server that will not say is an error
// (*topology.RefusedError): a job acting on one node of a cluster as if
// it were the whole deployment would leave the others' keys behind.
func (t Target) Cluster() (*Cluster, error) {
	c, err := t.probe()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	nodes, err := topology.Read(c.DoValue, t.TLS != nil, host(t.Addr))
	if err != nil {
		return nil, fmt.Errorf("asking %s which nodes its cluster has: %w", t.Addr, err)
	}
	if nodes == nil {
		return nil, nil
	}
	// A cluster that is not whole cannot be walked whole: the keys of the
	// slots no master serves would be left out of a run reported done.
	if u := topology.Uncovered(nodes); len(u) > 0 {
		return nil, fmt.Errorf("%s: %d ranges of slots (the first %d-%d) are served by no master: the cluster is not whole; assign them (CLUSTER ADDSLOTS) or fail a replica over, then run again", t.Addr, len(u), u[0][0], u[0][1])
	}
	return &Cluster{Masters: topology.Masters(nodes), Owners: topology.Owners(nodes), IDs: topology.IDs(nodes)}, nil
}

// probe is a connection to t, authenticated, for a few questions asked
// before (or between) a job's walks; the caller closes it.
func (t Target) probe() (*resp.Conn, error) {
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	c, err := resp.DialTimeout(t.Addr, t.TLS, timeout)
	if err != nil {
		return nil, &DialError{Addr: t.Addr, Err: err}
	}
	args := []string{"AUTH", t.Password}
	if t.Username != "" {
		args = []string{"AUTH", t.Username, t.Password}
	}
	if t.Password != "" {
		if reply, err := c.Do(args...); err != nil || reply != "+OK" {
			c.Close()
			if err == nil {
				err = errors.New(resp.FirstWord(reply))
			}
			return nil, &DialError{Addr: t.Addr, Err: redact.WithoutSecrets(fmt.Errorf("AUTH: %w", err), t.Password)}
		}
	}
	return c, nil
}

// Masters is Cluster's masters: nil when t is not a cluster node.
func (t Target) Masters() ([]string, error) {
	cl, err := t.Cluster()
	if cl == nil {
		return nil, err
	}
	return cl.Masters, nil
}

// ErrSlotsMoved is returned by a job whose cluster's slots changed owner
// while it walked them.
var ErrSlotsMoved = errors.New("the cluster's slots changed hands during the walk (a resharding or a failover): keys moved onto a master walked before may have been missed; run again without --resume, which walks every master again and leaves what is done as it is")

// CheckOwners returns ErrSlotsMoved when the cluster t is a node of no
// longer has the owners want (Cluster.Owners, read before the walk), as
// t's node and then every master says: nodes learn of a move at different
// moments, and a master knows its own slots first.
func (t Target) CheckOwners(want string) error {
	cl, err := t.Cluster()
	if err != nil {
		return fmt.Errorf("reading the cluster's slots again: %w", err)
	}
	if cl == nil || cl.Owners != want {
		return ErrSlotsMoved
	}
	for _, m := range cl.Masters {
		at, err := t.At(m).Cluster()
		if err != nil {
			return fmt.Errorf("reading the cluster's slots again: %w", err)
		}
		if at == nil || at.Owners != want {
			return ErrSlotsMoved
		}
	}
	return nil
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

// Restart removes the checkpoint at path when err is ErrSlotsMoved, so
// that the run it asks for walks every master again: the checkpoint's
// masters and cursors describe slots that have moved (and may say done).
// It returns err, or the failure to remove the file with it.
func Restart(path string, err error) error {
	if !errors.Is(err, ErrSlotsMoved) || path == "" {
		return err
	}
	if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		return fmt.Errorf("%w; and its checkpoint could not be removed, remove %s before running again: %v", err, path, rmErr)
	}
	return err
}
