package redsafe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/sentinelinfo"
)

// Sentinels is how to reach the Sentinels of a REDIS_URL with master_set=,
// for clients that must find the master as Open does (the operator
// commands). It prints, logs and marshals without its password
// (redact.go).
type Sentinels struct {
	MasterSet string
	Addrs     []string // each Sentinel the URL names, in its order
	Username  string
	Password  string      // the Sentinels' own, never the application's
	TLS       *tls.Config // nil in plaintext; verified per address (TLSFor)
}

// Describe names the Sentinels and the master set for people, and as the
// scope of an operator job's checkpoint: nothing secret, and nothing that
// changes in a failover.
func (s Sentinels) Describe() string {
	return fmt.Sprintf("Sentinels %s (master set %q)", strings.Join(s.Addrs, ", "), s.MasterSet)
}

// ErrNoMaster is returned by MasterConnection when no Sentinel named a
// master: none answered, none knows the master set, or each refused.
var ErrNoMaster = errors.New("no Sentinel named the master")

// MasterConnection is Connection for a URL of one server or a cluster. For
// a URL with master_set= it asks the Sentinels, in the URL's order, which
// server is the master now, and returns the Connection to it, with
// Sentinels set so that a caller can ask again after a failover (a write
// answered READONLY, a broken connection). The master is verified against
// the name the Sentinel gave, with the CA file alone when there is one.
func (o Options) MasterConnection(ctx context.Context) (*Connection, error) {
	s, r := newConfig(o)
	if err := r.Err(); err != nil {
		return nil, err
	}
	c := &Connection{Addr: s.url.Addr(), Seeds: slices.Clone(s.topology.addrs), Host: s.url.Host, DB: s.url.DB, Username: s.username, Password: s.password, Sealer: s.sealer}
	if s.useTLS {
		c.TLS, c.NodeRootCAs = s.tlsConfig, s.tlsOwnCA
	}
	if s.sentinel == nil {
		return c, nil
	}
	sn := &Sentinels{MasterSet: s.sentinel.masterSet, Addrs: slices.Clone(s.topology.addrs), Username: s.sentinel.username, Password: s.sentinel.password}
	if s.useTLS {
		sn.TLS = s.tlsConfig
	}
	if s.sentinel.file != "" {
		pw, err := readPasswordFile(s.sentinel.file, EnvSentinelPasswordFile, s.policy, nil)
		if err != nil {
			return nil, err
		}
		sn.Password = pw
	}
	addr, err := sn.Master(ctx, s.tlsServerName != "")
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	c.Addr, c.Seeds, c.Host, c.Sentinels = addr, []string{addr}, host, sn
	if c.TLS != nil {
		c.TLS = c.TLS.Clone()
		if s.tlsServerName == "" {
			c.TLS.ServerName = host
		}
		if s.tlsOwnCA != nil {
			c.TLS.RootCAs = s.tlsOwnCA
		}
	}
	return c, nil
}

// Master asks each Sentinel in turn for the master's address and returns
// the first answer. fixedName keeps TLS.ServerName for every Sentinel;
// otherwise each is verified against its own host.
func (s *Sentinels) Master(ctx context.Context, fixedName bool) (string, error) {
	var errs []error
	for _, a := range s.Addrs {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		addr, err := s.askMaster(ctx, a, fixedName)
		if err == nil {
			return addr, nil
		}
		errs = append(errs, fmt.Errorf("Sentinel %s: %w", a, err))
	}
	return "", fmt.Errorf("%w of set %q: %w", ErrNoMaster, s.MasterSet, errors.Join(errs...))
}

func (s *Sentinels) askMaster(ctx context.Context, addr string, fixedName bool) (string, error) {
	vs, err := s.ask(ctx, addr, fixedName, []string{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterSet})
	if err != nil {
		return "", err
	}
	v := vs[0]
	if v.Nil || len(v.Elems) != 2 {
		return "", fmt.Errorf("does not know master set %q", s.MasterSet)
	}
	return sentinelinfo.Addr(v.Elems[0].Str, v.Elems[1].Str)
}

// SentinelView is what one Sentinel says of the master set: every address
// checked to be host:port, and bounded in number, since a Sentinel can be
// hostile too.
type SentinelView struct {
	Sentinel  string   // the Sentinel that said it
	Master    string   // where the master is now
	Replicas  []string // the replicas it knows, whatever their state
	Sentinels []string // the other Sentinels it knows
}

// maxSentinelNodes bounds the replicas and the Sentinels one reply may
// name.
const maxSentinelNodes = 64

// View asks the Sentinels in turn for the master, the replicas and the
// other Sentinels, and returns the first full answer.
func (s *Sentinels) View(ctx context.Context, fixedName bool) (*SentinelView, error) {
	var errs []error
	for _, a := range s.Addrs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := s.view(ctx, a, fixedName)
		if err == nil {
			return v, nil
		}
		errs = append(errs, fmt.Errorf("Sentinel %s: %w", a, err))
	}
	return nil, fmt.Errorf("%w of set %q: %w", ErrNoMaster, s.MasterSet, errors.Join(errs...))
}

func (s *Sentinels) view(ctx context.Context, addr string, fixedName bool) (*SentinelView, error) {
	vs, err := s.ask(ctx, addr, fixedName,
		[]string{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterSet},
		[]string{"SENTINEL", "REPLICAS", s.MasterSet},
		[]string{"SENTINEL", "SENTINELS", s.MasterSet})
	if err != nil {
		return nil, err
	}
	if vs[0].Nil || len(vs[0].Elems) != 2 {
		return nil, fmt.Errorf("does not know master set %q", s.MasterSet)
	}
	v := &SentinelView{Sentinel: addr}
	if v.Master, err = sentinelinfo.Addr(vs[0].Elems[0].Str, vs[0].Elems[1].Str); err != nil {
		return nil, err
	}
	for i, q := range []struct {
		cmd  string
		list *[]string
	}{{"REPLICAS", &v.Replicas}, {"SENTINELS", &v.Sentinels}} {
		nodes, err := sentinelinfo.Instances(vs[i+1], maxSentinelNodes)
		if err != nil {
			return nil, fmt.Errorf("SENTINEL %s: %w", q.cmd, err)
		}
		for _, n := range nodes {
			*q.list = append(*q.list, n.Addr)
		}
	}
	return v, nil
}

// ask sends cmds to the Sentinel at addr after logging in as the
// Sentinels' user, and returns their replies; an error reply is an error
// that quotes its first word only.
func (s *Sentinels) ask(ctx context.Context, addr string, fixedName bool, cmds ...[]string) ([]resp.Value, error) {
	cfg := s.TLS
	if cfg != nil && !fixedName {
		cfg = cfg.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	timeout := defaultDialTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	conn, err := resp.DialTimeout(addr, cfg, timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if s.Password != "" {
		auth := []string{"AUTH", s.Password}
		if s.Username != "" {
			auth = []string{"AUTH", s.Username, s.Password}
		}
		cmds = append([][]string{auth}, cmds...)
	}
	vs, err := conn.Pipeline(cmds...)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.IsError() {
			return nil, fmt.Errorf("refused: %s", resp.FirstWord(v.Str))
		}
	}
	if s.Password != "" {
		vs = vs[1:]
	}
	return vs, nil
}
