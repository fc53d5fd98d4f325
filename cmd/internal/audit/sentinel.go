package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/sentinelinfo"
)

// A Sentinel deployment (REDIS_URL with master_set=) is audited node by
// node, each the subject of its own findings: the Sentinels the URL
// names, then those they report (SENTINEL SENTINELS), then the master
// (MasterConnection asked them) and the replicas they report (SENTINEL
// REPLICAS). The Sentinels are logged into with the Sentinels' own
// credentials, the data nodes with the audited (admin) user's.
//
// What a Sentinel reports is hostile input: an address must be a plain
// host:port (sentinelinfo.ParseInstance), the deployment is bounded by
// maxSentinelNodes, and a node only a Sentinel named gets the CA file's
// roots alone, so that a forged report cannot collect the password from a
// host with a public certificate.

// maxSentinelNodes bounds the nodes of a Sentinel deployment the audit
// visits, Sentinels and data nodes together.
const maxSentinelNodes = 64

// sentinelChecks are the checks that mean something on a Sentinel: it has
// no keyspace, no CONFIG and no replication of its own.
var sentinelChecks = slices.Concat(firstChecks, []check{
	{"auth.default-user", checkDefaultUser},
	{"tls.plaintext-port", checkPlaintextPort},
	{"auth.brute-force", checkBruteForce},
	{"sentinel.topology", checkSentinelTopology},
	{"sentinel.hello-publish", checkHelloChannel},
	{"server.version", checkVersion},
})

var sentinelNodeUnaudited = unaudited{"sentinel.node-unaudited", "a node of the Sentinel deployment could not be audited",
	"make every Sentinel reachable with the Sentinels' TLS settings and user (REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD or _FILE), and every data node with the audited user's; a node a Sentinel still reports but that is gone: SENTINEL RESET the master set on each Sentinel"}

// deployment is what the Sentinels reported, as the audit goes.
type deployment struct {
	sn        *redsafe.Sentinels
	sentinels []string // the URL's first, then those reported, each once
	replicas  []string
	master    string
	runIDs    map[string]bool // the Sentinels' run ids, which name their links (sentinelinfo.LinkUsers)
}

func (d *deployment) size() int { return len(d.sentinels) + 1 + len(d.replicas) }

// add appends addr to list unless the deployment knows it already or is
// full. It reports whether addr was refused for the bound.
func (d *deployment) add(list *[]string, addr string) (full bool) {
	if addr == d.master || slices.Contains(d.sentinels, addr) || slices.Contains(d.replicas, addr) {
		return false
	}
	if d.size() >= maxSentinelNodes {
		return true
	}
	*list = append(*list, addr)
	return false
}

// auditSentinels audits the Sentinel deployment whose master is master.
func auditSentinels(ctx context.Context, t Target, rep *Report, master *endpoint) {
	sn := master.sentinels
	d := &deployment{sn: sn, master: master.addr, runIDs: map[string]bool{}}
	for _, a := range sn.Addrs {
		d.add(&d.sentinels, a)
	}
	named := len(d.sentinels)
	var firstUsers map[string]string
	for i := 0; i < len(d.sentinels); i++ { // d.sentinels grows as they report others
		sr := newRun(t, rep, master.sentinelAt(sn, d.sentinels[i], i < named))
		sr.deployment, sr.sentinel = d, true
		if !sr.auditNode(ctx, sentinelNodeUnaudited, func() {
			if i == 0 {
				firstUsers = sr.aclUsers()
				return
			}
			sr.compareUsers("sentinel.acl-differs", d.sentinels[0], firstUsers)
		}) {
			return
		}
	}
	mr := newRun(t, rep, master)
	mr.deployment = d
	var masterUsers map[string]string
	if !mr.auditNode(ctx, sentinelNodeUnaudited, func() { masterUsers = mr.aclUsers() }) {
		return
	}
	for _, addr := range d.replicas {
		nr := newRun(t, rep, master.at(addr))
		nr.deployment = d
		if !nr.auditNode(ctx, sentinelNodeUnaudited, func() {
			nr.compareUsers("sentinel.acl-differs", master.addr, masterUsers)
		}) {
			return
		}
	}
	rep.Nodes = append(append(slices.Clone(d.sentinels), master.addr), d.replicas...)
}

// checkSentinelTopology asks the Sentinel for its run id, its peers and
// the master's replicas, and adds them to the deployment.
func checkSentinelTopology(r *run) {
	d := r.deployment
	if v, err := r.do("SENTINEL", "MYID"); err == nil && !v.IsError() {
		d.addRunID(v.Str)
	}
	var refused []string
	full := false
	for _, q := range []struct {
		cmd  string
		list *[]string
	}{{"SENTINELS", &d.sentinels}, {"REPLICAS", &d.replicas}} {
		v, err := r.do("SENTINEL", q.cmd, d.sn.MasterSet)
		if err != nil || v.IsError() {
			r.cannotSee("sentinel.topology", "SENTINEL "+q.cmd+": "+why(v, err))
			continue
		}
		for i, e := range v.Elems {
			if i >= maxSentinelNodes {
				full = true
				break
			}
			in, err := sentinelinfo.ParseInstance(e)
			if err != nil {
				refused = append(refused, strconv.Quote(firstWords(reported(err), 1)))
				continue
			}
			if q.cmd == "SENTINELS" {
				d.addRunID(in.RunID)
			}
			full = d.add(q.list, in.Addr) || full
		}
	}
	if len(refused) == 0 && !full {
		return
	}
	var why []string
	if len(refused) > 0 {
		why = append(why, fmt.Sprintf("it names %d nodes at addresses that are not a host and port (%s)", len(refused), strings.Join(refused[:min(len(refused), 5)], ", ")))
	}
	if full {
		why = append(why, fmt.Sprintf("the deployment names more than %d nodes, the most the audit visits", maxSentinelNodes))
	}
	r.add("sentinel.topology", sevWarning, "the Sentinel reports nodes the audit did not visit",
		strings.Join(why, "; ")+": they were not audited",
		"check what the Sentinel reports (SENTINEL SENTINELS and SENTINEL REPLICAS of the master set); a node that is gone: SENTINEL RESET the master set on each Sentinel; an address that makes no sense may be a forged hello message (see sentinel.hello-publish)")
}

// addRunID records a Sentinel's run id, when it is one (sentinelinfo.RunID),
// up to the deployment's bound.
func (d *deployment) addRunID(id string) {
	if id, ok := sentinelinfo.RunID(id); ok && len(d.runIDs) < maxSentinelNodes {
		d.runIDs[id] = true
	}
}

// reported is the address an entry of a Sentinel's report gave, when err
// refused it for that address, for quoting: hostile text.
func reported(err error) string {
	var ae *sentinelinfo.AddrError
	if errors.As(err, &ae) {
		return ae.Host + ":" + ae.Port
	}
	return ""
}

// sentinelLinkUsers are the users the deployment's Sentinels are logged
// in as on r's node: those of the connections CLIENT LIST names after the
// run id of a Sentinel the audit was told about (sentinelinfo.LinkUsers).
// Those are the Sentinels' own users (sentinel auth-user on a data node,
// sentinel-user on a Sentinel). Any client may name its connection so
// (CLIENT SETNAME): a run id whose links show more than one user vouches
// for none of them, and is returned in forged (sentinelinfo.OwnUsers).
func (r *run) sentinelLinkUsers() (own map[string]bool, forged map[string][]string, err error) {
	v, err := r.do("CLIENT", "LIST")
	if err != nil || v.IsError() {
		return nil, nil, fmt.Errorf("CLIENT LIST: %s", why(v, err))
	}
	own, forged = sentinelinfo.OwnUsers(sentinelinfo.LinkUsers(v.Str, slices.Collect(maps.Keys(r.deployment.runIDs))))
	return own, forged, nil
}
