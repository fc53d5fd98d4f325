package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/sentinelinfo"

	"github.com/redsafe/redsafe/internal/termsafe"
)

// A Sentinel deployment is verified process by process: the master the
// Sentinels name (the URL's checks), every replica they know (perNode),
// and every Sentinel, the URL's and the ones they know of, with
// sentinelChecks as the Sentinels' user.

// replicaChecks are what each replica must prove: a node's checks, and
// that it replicates the master the Sentinels name, its link up.
var replicaChecks = append(slices.Clone(perNode), check{"sentinel.replica", checkReplicaLink})

// sentinelChecks are what each Sentinel must prove: TLS, a password, and
// that it names the same master as the others, sees it healthy, and
// hears from every other Sentinel.
var sentinelChecks = []check{
	{"tls.handshake", checkHandshake},
	{"tls.certificate", checkCertificate},
	{"auth.required", checkAuthRequired},
	{"auth.wrong-password", checkWrongPassword},
	{"tls.no-plaintext", checkNoPlaintext},
	{"sentinel.master", checkSentinelMaster},
}

// sentinelDeployment runs the replicas' and the Sentinels' checks, after
// r's (on the master) ran.
func (r *run) sentinelDeployment(ctx context.Context, report func(Result)) []Result {
	s := r.conn.Sentinels
	fixedName := r.target.Options.TLS.ServerName != ""
	view, err := s.View(ctx, fixedName)
	if err != nil {
		res := Result{ID: "sentinel.nodes", Severity: Fail, Subject: s.Addrs[0],
			Message: termsafe.Escape("the replicas and the other Sentinels are unknown, so only the master was checked: " + err.Error()),
			Fix:     "give the Sentinels' user +sentinel|replicas and +sentinel|sentinels (the sentinel-client user of `redsafe up --sentinel` has them)"}
		if report != nil {
			report(res)
		}
		return []Result{res}
	}
	var results []Result
	for _, addr := range view.Replicas {
		nr := &run{target: r.target, node: addr, master: r.conn.Addr}
		results = append(results, nr.all(ctx, replicaChecks, report)...)
	}
	sentinels := slices.Clone(s.Addrs)
	for _, a := range view.Sentinels {
		if !slices.Contains(sentinels, a) {
			sentinels = append(sentinels, a)
		}
	}
	for _, addr := range sentinels {
		nr := &run{target: r.target, node: addr, sentinel: true, master: r.conn.Addr, peers: len(sentinels) - 1}
		results = append(results, nr.all(ctx, sentinelChecks, report)...)
	}
	return results
}

// checkSentinelMaster: as the Sentinels' user, the Sentinel names the
// master the others named (the one verified above).
func checkSentinelMaster(ctx context.Context, r *run) Result {
	if r.state == nil {
		return Result{Severity: Skip, Message: "no TLS connection"}
	}
	one := *r.conn.Sentinels
	one.Addrs = []string{r.node}
	one.TLS = r.conn.TLS
	got, err := one.Master(ctx, true) // r.conn.TLS already names this Sentinel
	switch {
	case err != nil:
		return Result{Severity: Fail, Message: err.Error(), Fix: "check REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD(_FILE), and that the user may run SENTINEL GET-MASTER-ADDR-BY-NAME"}
	case got != r.master:
		return Result{Severity: Fail, Message: "names " + got + " as the master, where the first Sentinel named " + r.master,
			Fix: "the Sentinels disagree: check that they reach each other (sentinel-user, sentinel-pass) and the data nodes; `redsafe status` shows each"}
	}
	c, err := r.auth()
	if err != nil {
		return Result{Severity: Fail, Message: "cannot log in as the Sentinels' user: " + err.Error()}
	}
	defer c.Close()
	v, err := c.DoValue("SENTINEL", "MASTER", one.MasterSet)
	if err != nil || v.IsError() {
		return Result{Severity: Fail, Message: "SENTINEL MASTER: " + errText(resp.FirstWord(v.Str), err), Fix: "give the Sentinels' user +sentinel|master (the sentinel-client user of `redsafe up --sentinel` has it)"}
	}
	m, err := sentinelinfo.ParseInstance(v)
	switch {
	case err != nil:
		return Result{Severity: Fail, Message: "SENTINEL MASTER: " + err.Error()}
	case hasFlag(m.Flags, "s_down", "o_down", "disconnected"):
		return Result{Severity: Fail, Message: "sees the master " + got + " as " + m.Flags,
			Fix: "check that the master runs and that the Sentinels' auth-user and auth-pass log into it (`redsafe status`, the Sentinel's log)"}
	case m.OtherSentinels != r.peers:
		return Result{Severity: Fail, Message: fmt.Sprintf("hears from %d other Sentinels, not the %d of the deployment", m.OtherSentinels, r.peers),
			Fix: "the Sentinels find each other through __sentinel__:hello on the data nodes, and log into each other as sentinel-user: check both, and that every Sentinel runs"}
	}
	return Result{Severity: Pass, Message: fmt.Sprintf("the Sentinels' user learns the master, %s, as from the others; it is healthy, and %d other Sentinels are heard", got, m.OtherSentinels)}
}

// checkReplicaLink: the node replicates the master the Sentinels name,
// and its link to it is up (ROLE, which the app user of a Sentinel
// deployment may run).
func checkReplicaLink(ctx context.Context, r *run) Result {
	if r.state == nil {
		return Result{Severity: Skip, Message: "no TLS connection"}
	}
	c, err := r.auth()
	if err != nil {
		return Result{Severity: Fail, Message: "cannot authenticate as the application user: " + err.Error()}
	}
	defer c.Close()
	v, err := c.DoValue("ROLE")
	switch {
	case err != nil || v.IsError():
		return Result{Severity: Fail, Message: "ROLE: " + errText(resp.FirstWord(v.Str), err), Fix: "give the app user +role, which the library needs through Sentinels too"}
	case len(v.Elems) < 4 || v.Elems[0].Str != "slave":
		return Result{Severity: Fail, Message: "is not a replica (ROLE " + termsafe.Escape(firstElem(v)) + "), though the Sentinels list it as one: two masters",
			Fix: "make it a replica of the master the Sentinels name (REPLICAOF), or let the Sentinels do it; `redsafe status` shows each node's role"}
	}
	of, err := sentinelinfo.Addr(v.Elems[1].Str, v.Elems[2].Str)
	switch {
	case err != nil || of != r.master:
		return Result{Severity: Fail, Message: "replicates " + termsafe.Escape(v.Elems[1].Str+":"+v.Elems[2].Str) + ", not the master " + r.master}
	case v.Elems[3].Str != "connected":
		return Result{Severity: Fail, Message: "its link to the master " + r.master + " is " + termsafe.Escape(v.Elems[3].Str) + ", not connected",
			Fix: "check the replication user's password (masterauth) and the master's log; the replica holds stale data until the link is up"}
	}
	return Result{Severity: Pass, Message: "replicates the master " + r.master + ", link up"}
}

func hasFlag(flags string, any ...string) bool {
	for _, f := range strings.Split(flags, ",") {
		if slices.Contains(any, f) {
			return true
		}
	}
	return false
}

func firstElem(v resp.Value) string {
	if len(v.Elems) > 0 {
		return v.Elems[0].Str
	}
	return v.String()
}
