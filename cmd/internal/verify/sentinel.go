package verify

import (
	"context"
	"slices"

	"github.com/redsafe/redsafe/internal/termsafe"
)

// A Sentinel deployment is verified process by process: the master the
// Sentinels name (the URL's checks), every replica they know (perNode),
// and every Sentinel, the URL's and the ones they know of, with
// sentinelChecks as the Sentinels' user.

// sentinelChecks are what each Sentinel must prove: TLS, a password, and
// that it names the same master as the others.
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
		nr := &run{target: r.target, node: addr}
		results = append(results, nr.all(ctx, perNode, report)...)
	}
	sentinels := slices.Clone(s.Addrs)
	for _, a := range view.Sentinels {
		if !slices.Contains(sentinels, a) {
			sentinels = append(sentinels, a)
		}
	}
	for _, addr := range sentinels {
		nr := &run{target: r.target, node: addr, sentinel: true, master: r.conn.Addr}
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
	return Result{Severity: Pass, Message: "the Sentinels' user learns the master, " + got + ", as from the others"}
}
