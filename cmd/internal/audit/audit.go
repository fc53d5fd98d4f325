// Package audit probes a live Redis deployment and reports its security
// posture as findings, each with a stable id, a severity, the evidence seen
// and the fix. `redsafe audit` prints them.
//
// The audit probes instead of trusting configuration, and it only reads:
// it never writes to the keyspace and never changes configuration. It runs
// CONFIG GET, ACL GETUSER, ACL LIST, ACL LOG, ACL DRYRUN, CLIENT LIST, INFO,
// HELLO, SCAN, TYPE and GET, and on Sentinels SENTINEL MYID, SENTINELS and
// REPLICAS (sentinel.go), and where ACL DRYRUN is refused it asks whether a command would be
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
	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/termsafe"
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

// firstChecks come first on every node, a data node or a Sentinel: what
// it speaks and shows before the password is sent, then the session.
var firstChecks = []check{
	{"connect", checkConnect},
	{"tls.certificate", checkCertificate},
	{"tls.old-protocol", checkOldProtocols},
	{"tls.client-auth", checkClientAuth},
	{"auth.none", checkNoAuth},
	{"session", openSession},
	{"auth.weak-password", checkWeakPassword},
}

// checks are a data node's.
var checks = slices.Concat(firstChecks, []check{
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
	{"sentinel.hello-publish", checkHelloChannel}, // in Sentinel deployments only
})

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
	if ep.sentinels != nil {
		auditSentinels(ctx, t, rep, ep)
		rep.finish()
		return rep
	}
	ok := r.runChecks(ctx)
	if !ok && rep.Err == nil {
		rep.Err = r.fatal
	}
	if ok {
		// A cluster: every other node is audited the same way, each the
		// subject of its own findings.
		nodes := r.clusterNodes()
		r.reportBlindSpots()
		seedUsers := r.aclUsers()
		for _, addr := range nodes {
			nr := newRun(t, rep, ep.at(addr))
			if !nr.auditNode(ctx, clusterNodeUnaudited, func() {
				nr.compareUsers("cluster.acl-differs", ep.addr, seedUsers)
			}) {
				break
			}
		}
		if len(nodes) > 0 {
			rep.Nodes = append([]string{ep.addr}, nodes...)
		}
	} else {
		r.reportBlindSpots()
	}
	rep.finish()
	return rep
}

func newRun(t Target, rep *Report, ep *endpoint) *run {
	return &run{target: t, report: rep, canRun: map[string]Verdict{}, ep: ep}
}

// unaudited is the finding about a node of a deployment that could not be
// audited: a finding about that node, not the end of the audit.
type unaudited struct{ id, message, fix string }

var clusterNodeUnaudited = unaudited{"cluster.node-unaudited", "a node of the cluster could not be audited",
	"make every node reachable with the same TLS settings and credentials as the one in the URL"}

// auditNode runs the checks on one more node of a deployment, then
// compare (which judges it against the others) when they all ran, and
// closes it. It reports whether the audit goes on: false once the end of
// ctx stopped it.
func (r *run) auditNode(ctx context.Context, u unaudited, compare func()) bool {
	defer r.close()
	if !r.runChecks(ctx) && r.report.Err == nil {
		r.add(u.id, sevError, u.message, r.fatal.Error(), u.fix)
	}
	if r.fatal == nil && compare != nil {
		compare()
	}
	r.reportBlindSpots()
	return r.report.Err == nil
}

// runChecks runs every check of r's kind of node (a Sentinel's or a data
// node's), in order. It reports whether they all ran: a fatal problem of
// the node (r.fatal) or the end of ctx (rep.Err) stops them.
func (r *run) runChecks(ctx context.Context) bool {
	list := checks
	if r.sentinel {
		list = sentinelChecks
	}
	for _, c := range list {
		if err := ctx.Err(); err != nil {
			r.report.Err = fmt.Errorf("the audit did not finish (stopped before %s): %w; raise --timeout", c.name, err)
			return false
		}
		c.run(r)
		if r.fatal != nil {
			return false
		}
	}
	return true
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

	// deployment is the Sentinel deployment the node belongs to; nil
	// outside one. sentinel: the node is one of its Sentinels.
	deployment *deployment
	sentinel   bool
	users      map[string]string // ACL LIST, read once (aclUsers)
	usersRead  bool
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

// maxNodes bounds the nodes the audit visits, each a full audit: tighter
// than topology.MaxNodes, which bounds what a reply may name.
const maxNodes = 100

// clusterNodes are the other nodes of the cluster r's node belongs to,
// masters and replicas (package topology); nil when it is not a cluster
// node or the user may not ask.
func (r *run) clusterNodes() []string {
	if enabled, ok := r.settingOf("cluster-enabled", "cluster_enabled"); ok && !slices.Contains([]string{"yes", "1"}, enabled) {
		return nil
	}
	found, err := topology.Read(r.do, r.ep.tls != nil, r.ep.host)
	if err != nil { // a refusal included: the audit saw one node of an unknown deployment
		r.cannotSee("cluster.nodes", termsafe.Escape(err.Error()))
		return nil
	}
	var nodes []string
	for _, n := range found {
		if n.Addr != r.ep.addr && len(nodes) < maxNodes {
			nodes = append(nodes, n.Addr)
		}
	}
	return nodes
}

// aclUsers are the node's ACL rules by user (ACL LIST), to compare nodes:
// Redis does not replicate ACLs, so a user or password changed on one node
// only is an outage after the next failover. nil when the user may not
// list them.
func (r *run) aclUsers() map[string]string {
	if r.usersRead {
		return r.users
	}
	r.usersRead = true
	v, err := r.do("ACL", "LIST")
	if err != nil || v.IsError() {
		return nil
	}
	users := map[string]string{}
	for _, e := range v.Elems {
		if f := strings.Fields(e.Str); len(f) >= 2 && f[0] == "user" {
			// Redis lists a user's command rules in hash-table order,
			// which differs from node to node: compare them as a set.
			// That loses no meaning: ACL LIST does not echo the rules
			// as they were given but describes what the user may run
			// (Redis 7.0 prints "-get +@read" as "+@read", and
			// "+@read -get" as categories then the exception), so two
			// descriptions with the same rules allow the same commands.
			rules := f[2:]
			slices.Sort(rules)
			users[f[1]] = strings.Join(rules, " ")
		}
	}
	r.users = users
	return users
}

// compareUsers reports, as finding id, the users whose rules or passwords
// on r's node are not those of the seed node. It names users, never their
// rules: those hold password hashes.
func (r *run) compareUsers(id, seedAddr string, seed map[string]string) {
	mine := r.aclUsers()
	if seed == nil || mine == nil {
		r.cannotSee(id, "comparing the nodes' users takes ACL LIST on each")
		return
	}
	var differ []string
	for name, rules := range seed {
		if mine[name] != rules {
			differ = append(differ, name)
		}
	}
	for name := range mine {
		if _, ok := seed[name]; !ok {
			differ = append(differ, name)
		}
	}
	if len(differ) == 0 {
		return
	}
	slices.Sort(differ)
	r.add(id, sevError, "the node's ACL users differ from the other nodes'",
		fmt.Sprintf("users %s have other rules or passwords here than on %s (or exist on one node only); Redis does not replicate ACLs, so whoever moves to this node (a client after a failover or a reconnect, a Sentinel) meets other users", termsafe.Escape(strings.Join(differ, ", ")), seedAddr),
		"give every node the same ACL file (or run the same ACL SETUSER on each, then ACL SAVE); `redsafe rotate-password` changes a password on every node")
}

// subject is what the audit's findings are about: the address of the node
// the run looks at, a cluster's each in turn.
func (r *run) subject() string {
	if r.ep == nil {
		return ""
	}
	return r.ep.addr
}
