package passrotate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/sentinelinfo"
)

// defaultSettle is how long a Sentinel may take to log into the data nodes
// again after SENTINEL SET auth-pass: it drops its links at once and
// reconnects, and PINGs once a second (Redis 7.0's ping period).
const defaultSettle = 10 * time.Second

// MonitorLinks reads, on the master, which user each Sentinel logs in as,
// from the connections named after its id (sentinelinfo.LinkUsers): Redis
// 7.0 shows a Sentinel's auth-user nowhere else. users maps each Sentinel
// address whose link was found to the user; unseen are the Sentinels with
// no link on the master (down, or failing to log in), of which nothing can
// be said. A Sentinel id seen logged in as two users is an error: someone
// else named a connection like it.
func (d *SentinelDeployment) MonitorLinks() (users map[string]string, unseen []string, err error) {
	c, err := d.Data[0].admin()
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	v, err := c.DoValue("CLIENT", "LIST", "TYPE", "normal")
	if err != nil {
		return nil, nil, err
	}
	if v.IsError() {
		return nil, nil, fmt.Errorf("CLIENT LIST on %s: %s; the operations user needs CLIENT LIST to tell which user the Sentinels log in as", d.Data[0].Addr, errorCode("-"+v.Str))
	}
	byID := sentinelinfo.LinkUsers(v.Str, slices.Collect(maps.Values(d.ids)))
	users = map[string]string{}
	for _, s := range d.Sentinels {
		switch u := byID[d.ids[s.Addr]]; len(u) {
		case 0: // no id, or no link
			unseen = append(unseen, s.Addr)
		case 1:
			users[s.Addr] = u[0]
		default:
			return nil, nil, fmt.Errorf("connections to %s named as Sentinel %s's links (sentinel-%s-cmd, -pubsub) log in as different users: cannot tell which user the Sentinels log in as", d.Data[0].Addr, s.Addr, d.ids[s.Addr][:8])
		}
	}
	return users, unseen, nil
}

// SentinelsLogInAs reports whether a Sentinel logs into the data nodes as
// user. strict (before removing passwords) refuses when a Sentinel's link
// is not found: it could be the one that does, and would lose the master
// at its next reconnection.
func (d *SentinelDeployment) SentinelsLogInAs(user string, strict bool) (bool, error) {
	users, unseen, err := d.MonitorLinks()
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if u == user {
			return true, nil
		}
	}
	if strict && len(unseen) > 0 {
		return false, fmt.Errorf("cannot tell which user Sentinel %s logs into the master as: it has no link to %s (down, or failing to log in); bring it back first", strings.Join(unseen, ", "), d.Data[0].Addr)
	}
	return false, nil
}

// setAuthPass makes password every Sentinel's auth-pass for the master
// set, one Sentinel at a time, so that the others keep watching while
// one reconnects. Each must then log in again with it: SENTINEL SET
// auth-pass drops the Sentinel's links, and a PING answered after that,
// with no disconnected or down flag on the master and its replicas,
// proves the new password took. A Sentinel that does not get there is set
// back to rollback (when given), and nothing further is changed.
func (d *SentinelDeployment) setAuthPass(r *Result, password, rollback string) error {
	var done []string
	for _, s := range d.Sentinels {
		detail, err := d.setOne(s, password)
		if err != nil && rollback != "" {
			if d.setOnly(s, rollback) == nil {
				err = fmt.Errorf("%w; its auth-pass was set back to the current password", err)
			}
		}
		if err != nil {
			err = fmt.Errorf("Sentinel %s: %w", s.Addr, err)
			if len(done) > 0 {
				err = fmt.Errorf("%w; %s use the new password already (it logs in everywhere, as the old one does)", err, strings.Join(done, ", "))
			}
			return err
		}
		r.step("sentinel", "%s: auth-pass set for %s; %s", s.Addr, d.MasterSet, detail)
		done = append(done, s.Addr)
	}
	return nil
}

func (d *SentinelDeployment) setOnly(s Server, password string) error {
	c, err := s.admin()
	if err != nil {
		return err
	}
	defer c.Close()
	return expectOK(c, "SENTINEL SET "+d.MasterSet+" auth-pass (password)", "SENTINEL", "SET", d.MasterSet, "auth-pass", password)
}

func (d *SentinelDeployment) setOne(s Server, password string) (string, error) {
	if err := d.setOnly(s, password); err != nil {
		return "", err
	}
	set := time.Now() // after the reply: a PING answered later came after the change
	settle := d.Settle
	if settle <= 0 {
		settle = defaultSettle
	}
	var last error
	for time.Since(set) < settle {
		time.Sleep(100 * time.Millisecond)
		n, err := d.healthySince(s, time.Since(set))
		if err == nil {
			return fmt.Sprintf("it logged in again and sees the master and %d replica(s) healthy after %s", n, time.Since(set).Round(100*time.Millisecond)), nil
		}
		last = err
	}
	return "", fmt.Errorf("it did not log into the data nodes again within %s: %w", settle, last)
}

// healthySince checks that Sentinel s sees the master and every replica
// without a disconnected or down flag, each having answered a PING within
// the last since. It returns the number of replicas.
func (d *SentinelDeployment) healthySince(s Server, since time.Duration) (int, error) {
	c, err := s.admin()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	vs, err := c.Pipeline([]string{"SENTINEL", "MASTER", d.MasterSet}, []string{"SENTINEL", "REPLICAS", d.MasterSet})
	if err != nil {
		return 0, err
	}
	for _, v := range vs {
		if v.IsError() {
			return 0, fmt.Errorf("refused: %s", errorCode("-"+v.Str))
		}
	}
	master, err := sentinelinfo.ParseInstance(vs[0])
	if err != nil {
		return 0, err
	}
	replicas, err := sentinelinfo.Instances(vs[1], topology.MaxNodes)
	if err != nil {
		return 0, err
	}
	for i, in := range append([]sentinelinfo.Instance{master}, replicas...) {
		role := "the master"
		if i > 0 {
			role = "replica"
		}
		if bad := badFlags(in.Flags); bad != "" {
			return 0, fmt.Errorf("it sees %s %s as %s", role, in.Addr, bad)
		}
		if in.LastOKPing < 0 || time.Duration(in.LastOKPing)*time.Millisecond >= since {
			return 0, fmt.Errorf("%s %s has answered no PING since", role, in.Addr)
		}
	}
	return len(replicas), nil
}

// badFlags are the flags of a Sentinel's view of an instance that say its
// link does not work: disconnected, subjectively or objectively down.
func badFlags(flags string) string {
	var bad []string
	for f := range strings.SplitSeq(flags, ",") {
		switch f {
		case "disconnected", "s_down", "o_down":
			bad = append(bad, f)
		}
	}
	return strings.Join(bad, ",")
}

// ErrPeerUser is returned for the user the Sentinels log into each other
// as (sentinel-user): its password is SENTINEL CONFIG SET sentinel-pass on
// every Sentinel, which this rotation does not do.
var ErrPeerUser = errors.New("this is the user the Sentinels log into each other as (sentinel-user); rotate it with SENTINEL CONFIG SET sentinel-pass on every Sentinel")

// CheckNotPeerUser refuses to rotate, on the Sentinels, the user they log
// into each other as: ACL SETUSER alone would leave them locked out of
// each other at their next reconnection.
func (d *SentinelDeployment) CheckNotPeerUser(user string) error {
	for _, s := range d.Sentinels {
		c, err := s.admin()
		if err != nil {
			continue // a Sentinel that does not answer fails the rotation itself
		}
		v, err := c.DoValue("SENTINEL", "CONFIG", "GET", "sentinel-user") // never sentinel-pass: it is sent in clear
		c.Close()
		if err == nil && !v.IsError() && len(v.Elems) == 2 && v.Elems[1].Str == user {
			return ErrPeerUser
		}
	}
	return nil
}
