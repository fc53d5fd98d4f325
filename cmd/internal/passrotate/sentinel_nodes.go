package passrotate

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/sentinelinfo"
)

// SentinelDeployment is every process a rotation changes in a Redis
// Sentinel deployment: the data nodes (ACLs are not replicated, and a
// replica that lacks the password is an outage after the next failover)
// and the Sentinels.
type SentinelDeployment struct {
	MasterSet string
	Data      []Server // the master first, then each replica a Sentinel reports
	Sentinels []Server // those the URL names, then those they report
	// Settle is how long a Sentinel may take to log in again after its
	// auth-pass changes; 0 => 10s.
	Settle time.Duration
	// ids are the Sentinels' ids (SENTINEL MYID, the runid of SENTINEL
	// SENTINELS), which name their links to the data nodes.
	ids map[string]string // address -> id
}

// FindSentinelDeployment asks each Sentinel (as the admin user on the
// Sentinels) for the replicas of set and for the other Sentinels. The
// replies come from servers nobody vouches for: each reply is bounded
// (topology.MaxNodes), each address must be host:port, and every process
// found is verified as the cluster's nodes are (topology.TLSFor: the CA
// file alone, against the host it is reached by). A Sentinel that does
// not answer stays in the list, so that a step that must change every
// Sentinel fails on it; when none answers there is nothing to go by.
func FindSentinelDeployment(master Server, sentinels []Server, set string) (*SentinelDeployment, error) {
	if len(sentinels) == 0 {
		return nil, errors.New("no Sentinel to ask")
	}
	d := &SentinelDeployment{MasterSet: set, Data: []Server{master}, ids: map[string]string{}}
	for _, s := range sentinels {
		s.Sentinel = true
		d.addSentinel(s)
	}
	sentinels = d.Sentinels // without repeats
	// Only the URL's Sentinels are asked: a Sentinel could name endless
	// others, each costing a dial.
	var errs []error
	answered := 0
	for _, s := range d.Sentinels[:len(sentinels)] {
		if err := d.ask(s, master, d.Sentinels[0]); err != nil {
			errs = append(errs, fmt.Errorf("Sentinel %s: %w", s.Addr, err))
			continue
		}
		answered++
	}
	if answered == 0 {
		return nil, fmt.Errorf("no Sentinel answered: %w", errors.Join(errs...))
	}
	if len(d.Sentinels) > topology.MaxNodes || len(d.Data) > topology.MaxNodes {
		return nil, fmt.Errorf("the Sentinels name more than %d processes", topology.MaxNodes)
	}
	return d, nil
}

// ask adds what Sentinel s knows: its id, the replicas, the other Sentinels.
func (d *SentinelDeployment) ask(s, master, first Server) error {
	c, err := s.admin()
	if err != nil {
		return err
	}
	defer c.Close()
	vs, err := c.Pipeline([]string{"SENTINEL", "MYID"}, []string{"SENTINEL", "REPLICAS", d.MasterSet}, []string{"SENTINEL", "SENTINELS", d.MasterSet})
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.IsError() {
			return fmt.Errorf("refused: %s", errorCode("-"+v.Str))
		}
	}
	if id, ok := sentinelinfo.RunID(vs[0].Str); ok {
		d.ids[s.Addr] = id
	}
	replicas, err := sentinelinfo.Instances(vs[1], topology.MaxNodes)
	if err != nil {
		return fmt.Errorf("SENTINEL REPLICAS: %w", err)
	}
	for _, r := range replicas {
		if !slices.ContainsFunc(d.Data, func(n Server) bool { return n.Addr == r.Addr }) {
			d.Data = append(d.Data, master.at(r.Addr))
		}
	}
	others, err := sentinelinfo.Instances(vs[2], topology.MaxNodes)
	if err != nil {
		return fmt.Errorf("SENTINEL SENTINELS: %w", err)
	}
	for _, o := range others {
		n := first
		n.Addr, n.TLS, n.Sentinel = o.Addr, topology.TLSFor(first.TLS, first.NodeRoots, first.Addr, o.Addr), true
		d.addSentinel(n)
		if o.RunID != "" {
			d.ids[o.Addr] = o.RunID
		}
	}
	return nil
}

func (d *SentinelDeployment) addSentinel(s Server) {
	if !slices.ContainsFunc(d.Sentinels, func(n Server) bool { return n.Addr == s.Addr }) {
		d.Sentinels = append(d.Sentinels, s)
	}
}
