// Package audit probes a live Redis deployment and reports its security
// posture as findings, each with a stable id, a severity, the evidence seen
// and the fix. `redsafe audit` prints them.
//
// The audit probes instead of trusting configuration, and it only reads:
// it never writes to the keyspace and never changes configuration. It runs
// CONFIG GET, ACL GETUSER, ACL LOG, ACL DRYRUN, INFO, HELLO, SCAN, TYPE and
// GET, and where ACL DRYRUN is refused it asks whether a command would be
// allowed by queueing it inside MULTI and discarding the transaction, so
// that the command never runs. Refused probes appear in the server's
// ACL LOG, as any refused command does.
//
// What the audited user may not see (CONFIG and ACL are refused to a
// well-confined service user) is reported as the info finding
// audit.limited-visibility, never as passed.
package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/internal/resp"
)

// Target is the deployment to audit.
type Target struct {
	// Options describe the connection as the service makes it (URL,
	// credentials, TLS settings) and the environment whose policy applies.
	// Unlike redsafe.Open, the audit connects even when that policy refuses
	// the settings.
	Options redsafe.Options
	// Sample is how many string values data.unencrypted reads. Default
	// DefaultSample; the key names it looks at are bounded by 10×Sample.
	Sample int
	// Timeout bounds each network step. Default 5s.
	Timeout time.Duration

	// version, when set, is judged by server.version instead of the
	// version the server reports, so that tests check the advisory logic
	// rather than the redis-server the machine has installed.
	version string
}

// DefaultSample is the number of string values sampled by default.
const DefaultSample = 100

// check is one step of the audit. Checks run in order: later ones use what
// earlier ones learned.
type check struct {
	name string
	run  func(r *run)
}

var checks = []check{
	{"connect", checkConnect},
	{"tls.certificate", checkCertificate},
	{"tls.old-protocol", checkOldProtocols},
	{"tls.client-auth", checkClientAuth},
	{"auth.none", checkNoAuth},
	{"session", openSession},
	{"auth.weak-password", checkWeakPassword},
	{"acl.dangerous-commands", checkDangerousCommands},
	{"auth.default-user", checkDefaultUser},
	{"tls.plaintext-port", checkPlaintextPort},
	{"net", checkNetwork},
	{"limits", checkLimits},
	{"config.dangerous-features", checkDangerousFeatures},
	{"replication", checkReplication},
	{"tls.cluster", checkCluster},
	{"auth.brute-force", checkBruteForce},
	{"data", checkData},
	{"acl.key-names-visible", checkKeyNamesVisible},
	{"persistence.plaintext-dump", checkPersistence},
	{"server.version", checkVersion},
}

// Run audits t and returns the report, sorted by severity. Report.Err is
// set when the audit could not run or finish.
func Run(ctx context.Context, t Target) *Report {
	if t.Timeout <= 0 {
		t.Timeout = 5 * time.Second
	}
	if t.Sample <= 0 {
		t.Sample = DefaultSample
	}
	v := redsafe.Validate(t.Options)
	rep := &Report{Target: redisurl.Redact(t.Options.URL), Environment: v.Environment, EnvironmentSource: v.EnvironmentSource}
	r := &run{target: t, report: rep, canRun: map[string]Verdict{}}
	defer r.close()
	if t.Options.URL == "" {
		rep.Err = errors.New("no Redis URL: pass one as an argument or set REDIS_URL")
		rep.finish()
		return rep
	}
	ep, err := resolveEndpoint(ctx, t.Options)
	if err != nil {
		rep.Err = err
		rep.finish()
		return rep
	}
	r.ep = ep
	for _, c := range checks {
		if err := ctx.Err(); err != nil {
			rep.Err = fmt.Errorf("the audit did not finish (stopped before %s): %w; raise --timeout", c.name, err)
			break
		}
		c.run(r)
		if r.fatal != nil {
			rep.Err = r.fatal
			break
		}
	}
	r.reportBlindSpots()
	rep.finish()
	return rep
}

// run carries the target and what earlier checks learned.
type run struct {
	target Target
	ep     *endpoint
	report *Report
	fatal  error // stops the audit: it cannot go on

	plaintext         bool      // the server speaks plaintext RESP on ep.addr
	inspection        *tlsFacts // the server's TLS handshake; nil when plaintext
	trusted           bool      // the service's own TLS settings accept the server
	untrustedWhy      string    // why they do not
	anonymous         bool      // a connection without credentials runs commands
	anonymousConfined bool      // ... is logged in as a password-less default user, refused PING

	sess      *resp.Conn // authenticated as the audited user; nil when not
	noSession string     // why there is no session

	canRun        map[string]Verdict
	dryRunWorks   bool   // ACL DRYRUN answers for this user
	dryRunRefused bool   // ... does not: fall back to MULTI
	dryRunWhy     string // why not

	configs   map[string]string
	configErr string // why CONFIG GET is unavailable
	info      map[string]string

	sampled      bool // checkData read values
	plainData    int  // sampled string values that are not Fernet tokens
	namesOutside int  // sampled key names outside the user's key pattern

	blind []blindSpot
}

// blindSpot is a check that could not run, and why.
type blindSpot struct{ id, reason string }

func (r *run) add(id string, sev redsafe.Severity, message, evidence, fix string) {
	r.report.add(Finding{ID: id, Severity: sev, Subject: r.subject(), Message: message, Evidence: evidence, Fix: fix})
}

// cannotSee records that check id could not run. It is reported as
// audit.limited-visibility, never as passed.
func (r *run) cannotSee(id, reason string) {
	r.blind = append(r.blind, blindSpot{id, reason})
}

func (r *run) reportBlindSpots() {
	if len(r.blind) == 0 {
		return
	}
	var ids, lines []string
	for _, b := range r.blind {
		if !slices.Contains(ids, b.id) {
			ids = append(ids, b.id)
			lines = append(lines, b.id+" ("+b.reason+")")
		}
	}
	r.add("audit.limited-visibility", sevInfo,
		fmt.Sprintf("%d checks could not run as %s; they did not pass, they were not seen", len(ids), r.ep.userOrNone()),
		strings.Join(lines, "; "),
		"this is expected for a confined service user; for the complete picture run the audit again with an operations user that may run CONFIG GET, ACL and INFO (REDIS_USERNAME/REDIS_PASSWORD of the admin user)")
}

func (r *run) close() {
	if r.sess != nil {
		r.sess.Close()
	}
}

// userOrNone names the audited identity for messages.
func (ep *endpoint) userOrNone() string {
	if ep == nil {
		return "no user"
	}
	if ep.username == "" && ep.password == "" {
		return "a client without credentials"
	}
	return "user " + ep.shown()
}

// subject is what the audit's findings are about: the server's address.
// With clusters each node will be its own subject.
func (r *run) subject() string {
	if r.ep == nil {
		return ""
	}
	return r.ep.addr
}
