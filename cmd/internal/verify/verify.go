// Package verify proves, against a live server, that a Redis deployment is
// as secure as its configuration claims: it probes instead of trusting.
// `redsafe up` and `redsafe verify` print its results.
//
// It is the pass/fail profile of package audit: its ACL and
// authentication probes are the audit's (audit.WouldRun,
// audit.PingWithoutCredentials), and its results are the one finding
// type, redsafe.Finding, rendered by package report. What it adds to the
// audit is a verdict per claim and the one write the audit never makes: a
// value round-tripped through the library (data.encrypted).
package verify

import (
	"context"
	"slices"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// Status is the outcome of one check, on the one severity scale of
// redsafe's reports: a check that passed is info, one that could not run
// (skip) a notice, a warning a warning, and a failure an error.
type Status = redsafe.Severity

const (
	Pass Status = redsafe.SeverityInfo
	Warn Status = redsafe.SeverityWarning
	Fail Status = redsafe.SeverityError
	Skip Status = redsafe.SeverityNotice
)

// Result is one check's outcome, the one finding type of redsafe's
// reports; Message and Fix never hold a secret.
type Result = redsafe.Finding

// Target is the deployment to verify.
type Target struct {
	// Options are the application's own settings, as the service would use
	// them.
	Options redsafe.Options
	// Admin, when known, lets the checks read the server's configuration
	// (CONFIG GET port) instead of only probing from outside.
	Admin *redsafe.Credentials
	// Timeout bounds each network step. Default 5s.
	Timeout time.Duration
	// KeyPattern is the ACL key pattern the application user is confined
	// to (`redsafe conf --key-pattern`), such as "orders:*": data.encrypted
	// writes its probe key inside it. Empty means any key, unless
	// Options.KeyPrefix is set, which the probe key then follows.
	KeyPattern string
}

// check is one verification step. It may record facts in the run for
// later checks.
type check struct {
	id  string
	run func(ctx context.Context, r *run) Result
}

// checks run in this order; later ones rely on facts found by earlier ones,
// and are skipped when those are missing.
var checks = []check{
	{"tls.handshake", checkHandshake},
	{"tls.certificate", checkCertificate},
	{"auth.required", checkAuthRequired},
	{"auth.wrong-password", checkWrongPassword},
	{"acl.flushall", checkDenied("FLUSHALL")},
	{"acl.config", checkDenied("CONFIG", "GET", "port")},
	{"tls.no-plaintext", checkNoPlaintext},
	{"data.encrypted", checkEncryptedRoundTrip},
}

// perNode are the checks each other node of a cluster gets: all but the
// library's round trip.
var perNode = slices.DeleteFunc(slices.Clone(checks), func(c check) bool { return c.id == "data.encrypted" })

// Run runs every check in order, calling report after each so that progress
// can be printed as it happens, and returns all results.
func Run(ctx context.Context, t Target, report func(Result)) []Result {
	if t.Timeout <= 0 {
		t.Timeout = 5 * time.Second
	}
	r := &run{target: t}
	results := r.all(ctx, checks, report)
	if r.conn != nil && r.conn.Sentinels != nil {
		return append(results, r.sentinelDeployment(ctx, report)...)
	}
	// A cluster: every other node answers for itself, each the subject of
	// its results. The data round trip goes through the library, which
	// reaches every node already: it runs once.
	nodes, err := r.otherNodes()
	if err != nil {
		// A verdict on one node of a cluster would pass the deployment
		// while the others went unchecked.
		res := Result{ID: "cluster.nodes", Severity: Warn, Subject: r.conn.Addr,
			Message: termsafe.Escape("only " + r.conn.Addr + " was checked: " + err.Error()),
			Fix:     "give the app user +cluster|shards and +cluster|slots (the app user of `redsafe conf` has them), then verify again"}
		results = append(results, res)
		if report != nil {
			report(res)
		}
	}
	for _, addr := range nodes {
		nr := &run{target: t, node: addr}
		results = append(results, nr.all(ctx, perNode, report)...)
	}
	return results
}

// all runs cs in order on r's node.
func (r *run) all(ctx context.Context, cs []check, report func(Result)) []Result {
	var results []Result
	for _, c := range cs {
		res := c.run(ctx, r)
		res.ID = c.id
		if r.conn != nil {
			res.Subject = r.conn.Addr // the server each check is about
		}
		// Messages quote the server (replies, certificate names, errors).
		res.Message, res.Evidence, res.Fix = termsafe.Escape(res.Message), termsafe.Escape(res.Evidence), termsafe.Escape(res.Fix)
		results = append(results, res)
		if report != nil {
			report(res)
		}
	}
	return results
}

// Failed reports whether any result failed: is at error or above.
func Failed(results []Result) bool { return len(redsafe.AtLeast(results, Fail)) > 0 }
