// Package sentinelinfo is the one parser of what Redis Sentinels say about
// a deployment: the entries of SENTINEL REPLICAS, SENTINELS and MASTER, the
// master's address of SENTINEL GET-MASTER-ADDR-BY-NAME, a Sentinel's run
// id, and the connections a Sentinel opens to a server as CLIENT LIST shows
// them. A Sentinel is trusted no more than any server (its peers' reports
// come from unauthenticated hello messages), so everything it names is
// checked and bounded here, before anything dials it or believes it.
package sentinelinfo

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe/internal/resp"
)

// Instance is one entry of SENTINEL REPLICAS, SENTINELS or MASTER: what
// the callers use of its fields.
type Instance struct {
	Addr       string // host:port, as Addr accepts it
	RunID      string // as RunID returns it; "" when absent or not a run id
	Flags      string // comma-separated: master, slave, s_down, disconnected...
	LastOKPing int    // ms since a PING was last answered well; -1 unknown
	// OtherSentinels is SENTINEL MASTER's num-other-sentinels: how many
	// Sentinels this one hears from about the master; -1 unknown.
	OtherSentinels int
}

// maxFields bounds the fields of one entry: Redis 7 sends about 40
// name/value pairs.
const maxFields = 200

// Instances parses a SENTINEL REPLICAS or SENTINELS reply: a list of at
// most max entries, each naming a host:port. One entry that does not
// refuses the reply: a caller that must go on without it uses
// ParseInstance.
func Instances(v resp.Value, max int) ([]Instance, error) {
	if v.Type != '*' || v.Nil {
		return nil, errors.New("not a list of instances")
	}
	if len(v.Elems) > max {
		return nil, fmt.Errorf("names %d instances, more than the %d redsafe takes", len(v.Elems), max)
	}
	out := make([]Instance, 0, len(v.Elems))
	for _, e := range v.Elems {
		in, err := ParseInstance(e)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// ParseInstance parses one entry of SENTINEL REPLICAS or SENTINELS, or the
// reply of SENTINEL MASTER: a flat list of name/value pairs. An address
// that is not host:port is an *AddrError.
func ParseInstance(v resp.Value) (Instance, error) {
	if v.Type != '*' || len(v.Elems)%2 != 0 || len(v.Elems) > maxFields {
		return Instance{}, errors.New("an instance that is not a list of fields")
	}
	f := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		f[v.Elems[i].Str] = v.Elems[i+1].Str
	}
	addr, err := Addr(f["ip"], f["port"])
	if err != nil {
		return Instance{}, err
	}
	in := Instance{Addr: addr, Flags: f["flags"], LastOKPing: -1, OtherSentinels: -1}
	in.RunID, _ = RunID(f["runid"])
	if n, err := strconv.Atoi(f["last-ok-ping-reply"]); err == nil && n >= 0 {
		in.LastOKPing = n
	}
	if n, err := strconv.Atoi(f["num-other-sentinels"]); err == nil && n >= 0 {
		in.OtherSentinels = n
	}
	return in, nil
}

// AddrError is an address a Sentinel gave that is not one to dial. Host
// and Port are as it gave them: hostile text, to be quoted and cut short
// before anyone shows them.
type AddrError struct{ Host, Port string }

func (e *AddrError) Error() string { return "names an address that is not host:port" }

// maxHostLen is the longest DNS name.
const maxHostLen = 253

// Addr is host:port of a node a Sentinel named (an entry's ip and port,
// GET-MASTER-ADDR-BY-NAME's pair), when it is one that may be dialed: a
// port of 1 to 65535 written plainly (no sign, no leading zero), and an IP
// address that names one host (not 0.0.0.0 or ::, not multicast) or a
// host name of letters, digits, dots, hyphens and underscores, which
// leaves out spaces, line breaks, paths, user@ and brackets.
func Addr(host, port string) (string, error) {
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port || host == "" || len(host) > maxHostLen {
		return "", &AddrError{host, port}
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsUnspecified() || ip.IsMulticast() {
			return "", &AddrError{host, port}
		}
		return net.JoinHostPort(host, port), nil
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return "", &AddrError{host, port}
		}
	}
	return net.JoinHostPort(host, port), nil
}

// RunID is id in lower case when it is a Sentinel's run id (SENTINEL
// MYID, the runid field), 40 hex digits. Redis writes it in lower case,
// and so names the Sentinel's links with it (LinkUsers).
func RunID(id string) (string, bool) {
	if len(id) != 40 || strings.Trim(strings.ToLower(id), "0123456789abcdef") != "" {
		return "", false
	}
	return strings.ToLower(id), true
}
