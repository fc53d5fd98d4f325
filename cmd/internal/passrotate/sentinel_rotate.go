package passrotate

import (
	"fmt"
	"strings"

	"github.com/redsafe/redsafe/internal/sentinelinfo"
)

// AddMonitor rotates the user the Sentinels log into the data nodes as:
// next is added on every data node and proven to log in on each (AddAll),
// and only then made every Sentinel's auth-pass, each Sentinel proven to
// log in again with it (setAuthPass). A Sentinel that fails is set back to
// current; the old password keeps working everywhere either way.
func (d *SentinelDeployment) AddMonitor(user, current, next string) (*Result, error) {
	r, err := AddAll(d.Data, user, current, next)
	if err != nil {
		return nil, err
	}
	if err := d.setAuthPass(r, next, current); err != nil {
		return nil, fmt.Errorf("%w; the new password is on every data node; run --add again once the Sentinel is back", err)
	}
	return r, nil
}

// RemoveOthersMonitor removes the Sentinels' user's other passwords on
// every data node, once keep logs in on every one of them and every
// Sentinel has been made to use keep, and has logged in again with it:
// a Sentinel still holding the old password would lose the master at its
// next reconnection.
func (d *SentinelDeployment) RemoveOthersMonitor(user, keep string) (*Result, error) {
	if err := loginEverywhere(d.Data, user, keep); err != nil {
		return nil, fmt.Errorf("refusing to remove the other passwords anywhere: %w; run `redsafe rotate-password --add` first", err)
	}
	r := &Result{User: user}
	if err := d.setAuthPass(r, keep, ""); err != nil {
		return nil, fmt.Errorf("refusing to remove the other passwords anywhere: %w", err)
	}
	removed, err := RemoveOthersAll(d.Data, user, keep)
	if err != nil {
		return nil, err
	}
	removed.Steps = append(r.Steps, removed.Steps...)
	return removed, nil
}

// NodeStatus is one process of a Sentinel deployment, as --status shows
// it.
type NodeStatus struct {
	Addr string `json:"addr"`
	Role string `json:"role"` // master, replica or sentinel
	// Passwords the rotated user has there; absent on a Sentinel when the
	// user lives on the data nodes.
	Passwords int `json:"passwords,omitempty"`
	// LogsInAs is the user a Sentinel logs into the master as, when its
	// link is found there.
	LogsInAs string `json:"logs_in_as,omitempty"`
	// MasterFlags are a Sentinel's flags for the master: "master" alone is
	// healthy.
	MasterFlags string `json:"master_flags,omitempty"`
	Error       string `json:"error,omitempty"`
}

// Status reports every data node and every Sentinel: how many passwords
// user has on each process it lives on (the Sentinels when onSentinels),
// and how each Sentinel sees the master and which user it logs in as.
// A process that does not answer is reported, not skipped.
func (d *SentinelDeployment) Status(user string, onSentinels bool) []NodeStatus {
	var out []NodeStatus
	count := func(n Server, st *NodeStatus) {
		p, err := n.Passwords(user)
		if err != nil {
			st.Error = err.Error()
		}
		st.Passwords = p
	}
	for i, n := range d.Data {
		st := NodeStatus{Addr: n.Addr, Role: map[bool]string{true: "master", false: "replica"}[i == 0]}
		if !onSentinels {
			count(n, &st)
		}
		out = append(out, st)
	}
	links, _, linkErr := d.MonitorLinks()
	for _, s := range d.Sentinels {
		st := NodeStatus{Addr: s.Addr, Role: "sentinel", LogsInAs: links[s.Addr]}
		if onSentinels {
			count(s, &st)
		}
		if flags, err := d.masterFlags(s); err != nil {
			st.Error = strings.TrimPrefix(st.Error+"; "+err.Error(), "; ")
		} else {
			st.MasterFlags = flags
		}
		out = append(out, st)
	}
	if linkErr != nil {
		out[0].Error = strings.TrimPrefix(out[0].Error+"; "+linkErr.Error(), "; ")
	}
	return out
}

func (d *SentinelDeployment) masterFlags(s Server) (string, error) {
	c, err := s.admin()
	if err != nil {
		return "", err
	}
	defer c.Close()
	v, err := c.DoValue("SENTINEL", "MASTER", d.MasterSet)
	if err != nil {
		return "", err
	}
	if v.IsError() {
		return "", fmt.Errorf("SENTINEL MASTER: %s", errorCode("-"+v.Str))
	}
	in, err := sentinelinfo.ParseInstance(v)
	if err != nil {
		return "", err
	}
	return in.Flags, nil
}
