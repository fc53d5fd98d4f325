package passrotate

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/resp"
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
	if id := vs[0].Str; validID(id) {
		d.ids[s.Addr] = id
	}
	replicas, err := instances(vs[1])
	if err != nil {
		return fmt.Errorf("SENTINEL REPLICAS: %w", err)
	}
	for _, r := range replicas {
		if !slices.ContainsFunc(d.Data, func(n Server) bool { return n.Addr == r.addr }) {
			d.Data = append(d.Data, master.at(r.addr))
		}
	}
	others, err := instances(vs[2])
	if err != nil {
		return fmt.Errorf("SENTINEL SENTINELS: %w", err)
	}
	for _, o := range others {
		n := first
		n.Addr, n.TLS, n.Sentinel = o.addr, topology.TLSFor(first.TLS, first.NodeRoots, first.Addr, o.addr), true
		d.addSentinel(n)
		if validID(o.runid) {
			d.ids[o.addr] = o.runid
		}
	}
	return nil
}

func (d *SentinelDeployment) addSentinel(s Server) {
	if !slices.ContainsFunc(d.Sentinels, func(n Server) bool { return n.Addr == s.Addr }) {
		d.Sentinels = append(d.Sentinels, s)
	}
}

// instance is one entry of SENTINEL REPLICAS or SENTINEL SENTINELS.
type instance struct {
	addr, runid, flags string
	lastOKPing         int // ms since the last PING answered well; -1 unknown
}

// instances parses a SENTINEL REPLICAS, SENTINELS (or, as a list of one,
// MASTER) reply: at most topology.MaxNodes entries, each naming host:port.
func instances(v resp.Value) ([]instance, error) {
	if v.Type != '*' || len(v.Elems) > topology.MaxNodes {
		return nil, fmt.Errorf("not a list of at most %d instances", topology.MaxNodes)
	}
	out := make([]instance, 0, len(v.Elems))
	for _, e := range v.Elems {
		in, err := parseInstance(e)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func parseInstance(v resp.Value) (instance, error) {
	if v.Type != '*' || len(v.Elems)%2 != 0 || len(v.Elems) > 200 {
		return instance{}, errors.New("an instance that is not a list of fields")
	}
	f := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		f[v.Elems[i].Str] = v.Elems[i+1].Str
	}
	addr, err := hostPort(f["ip"], f["port"])
	if err != nil {
		return instance{}, err
	}
	in := instance{addr: addr, runid: f["runid"], flags: f["flags"], lastOKPing: -1}
	if n, err := strconv.Atoi(f["last-ok-ping-reply"]); err == nil && n >= 0 {
		in.lastOKPing = n
	}
	return in, nil
}

// hostPort is host:port when both are what an address may hold.
func hostPort(host, port string) (string, error) {
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || host == "" || len(host) > 255 || strings.ContainsAny(host, " /\\@?#[]\r\n\t\x00") {
		return "", errors.New("an instance that is not host:port")
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

// validID is a Sentinel id: 40 hex digits.
func validID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for _, c := range id {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
