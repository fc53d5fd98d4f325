package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/audit"
	"github.com/redsafe/redsafe/cmd/internal/report"
)

var auditCmd = &command{
	name:    "audit",
	summary: "probe a live Redis and report its security posture, worst first",
	usage: `Usage: redsafe audit [URL] [--json] [--fail-on error] [--sample 100] [--env-file FILE] [--timeout 5s]

Connects to the server that URL (or REDIS_URL) names, as the user that
REDIS_USERNAME and REDIS_PASSWORD (or the URL) give, and probes it instead of
trusting its configuration: TLS versions and certificate, authentication, the
user's rights, network and memory settings, replication, a sample of the
cached values and key names, the server version against published security
advisories. Unlike the library, it connects to insecure servers too: that is
what it is for.

It only reads. It never writes a key or changes configuration; whether a
command would be allowed is asked with ACL DRYRUN, or by queueing it inside
MULTI and discarding the transaction. Values are judged, never printed;
passwords never appear in the output.

A cluster is audited node by node. A URL naming Sentinels (?master_set=NAME,
more Sentinels as &addr=host:port) audits every Sentinel it names and those
they report (SENTINEL SENTINELS), logged into as the Sentinels' own user
(REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD or _FILE), then the
master they name and every replica they report, as the audited user. What a
Sentinel reports is not trusted: only a plain host:port is visited, at most
64 nodes, and a node only a Sentinel named is verified against the CA file
alone. On a Sentinel deployment, only the Sentinels' own users may publish to
__sentinel__:hello: on a data node the user the Sentinels' connections to it
are logged in as (sentinel auth-user), on a Sentinel the one its peers'
connections are (sentinel-user); CLIENT LIST shows them. A Sentinel's
tls-replication cannot be read from outside on Redis 7.0 (a Sentinel has no
CONFIG): check sentinel.conf.

Each finding has a stable id, a severity (critical, error, warning, notice,
info: the scale check and verify use), its subject (the node's address),
the evidence and the fix. What the user may not see (a confined
service user may not run CONFIG or ACL) is listed under
audit.limited-visibility: those checks did not pass, they did not run.
Audit with an operations user for the complete picture.

Exit status: 2 when a finding is at or above --fail-on, 1 when the audit
could not run (unreachable, credentials refused, bad flags), 0 otherwise.

Flags:
  --json            print {command, target, environment, ok, findings,
                    summary, nodes, error} as JSON, the shape check and verify
                    print; nodes are a cluster's or a Sentinel deployment's
                    audited nodes (Sentinels first, then master, replicas)
  --fail-on SEV     exit 2 at this severity or above: critical, error (default),
                    warning, notice (high, medium, low: the former names)
  --sample N        string values to read for data.unencrypted (default 100)
  --env-file FILE   read the REDIS_* variables from FILE, over the process environment
  --timeout D       bound each network step (default 5s)

Checks: auth.none auth.default-user auth.weak-password auth.brute-force
auth.replica-no-masterauth tls.disabled tls.plaintext-port tls.old-protocol
tls.cert-expiry tls.cert-weak tls.cert-hostname tls.cert-untrusted
tls.client-auth tls.replication tls.cluster acl.dangerous-commands
acl.key-names-visible net.protected-mode net.bind-all limits.maxclients limits.eviction
config.dangerous-features data.unencrypted data.secret-in-keyname
persistence.plaintext-dump server.version cluster.acl-differs
cluster.node-unaudited sentinel.hello-publish sentinel.acl-differs
sentinel.topology sentinel.node-unaudited

Examples:
  set -a; . ./.redsafe/.env.secure; set +a; redsafe audit
  REDIS_USERNAME=admin REDIS_PASSWORD="$(cat secrets/admin.password)" redsafe audit rediss://redis.internal:6380
  redsafe audit redis://127.0.0.1:6379 --fail-on critical
  REDIS_USERNAME=admin REDIS_PASSWORD_FILE=secrets/admin.password \
  REDIS_SENTINEL_USERNAME=admin REDIS_SENTINEL_PASSWORD_FILE=secrets/sentinel.password \
    redsafe audit 'rediss://sentinel-1:26379/0?master_set=cache&addr=sentinel-2:26379'
  redsafe audit --json | jq '.findings[] | select(.severity=="critical") | .id'

Give the password through REDIS_PASSWORD rather than in the URL: the
command line is visible to other users of the machine.
`,
	run: runAudit,
}

func runAudit(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	asJSON := fs.Bool("json", false, "")
	failOnName := fs.String("fail-on", string(redsafe.SeverityError), "")
	sample := fs.Int("sample", audit.DefaultSample, "")
	envFile := fs.String("env-file", "", "")
	timeout := fs.Duration("timeout", 5*time.Second, "")
	url, args := urlArgument(args)
	if code, ok := c.parse(cmd, fs, args); !ok {
		// Exit 2 means "findings at --fail-on" here, so a usage error is 1.
		return min(code, 1)
	}
	failOn, err := redsafe.ParseSeverity(*failOnName)
	if err != nil || failOn == redsafe.SeverityInfo {
		c.errorf("audit: --fail-on %q: use critical, error, warning or notice", *failOnName)
		return 1
	}
	if *sample < 1 || *sample > 100000 {
		c.errorf("audit: --sample %d must be between 1 and 100000", *sample)
		return 1
	}
	opts, err := c.options(*envFile)
	if err != nil {
		c.errorf("audit: %v", err)
		return 1
	}
	if url != "" {
		opts.URL = url
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20**timeout+30*time.Second)
	defer cancel()
	report := audit.Run(ctx, audit.Target{Options: opts, Sample: *sample, Timeout: *timeout})
	if *asJSON {
		writeAuditJSON(c.stdout, report, failOn)
	} else {
		writeAuditText(c.stdout, report, failOn)
	}
	if report.Err != nil {
		c.errorf("audit: %v", report.Err)
		return 1
	}
	if len(report.Worst(failOn)) > 0 {
		return 2
	}
	return 0
}

// urlArgument takes the one redis:// or rediss:// argument out of args,
// wherever it is, so that flags may come before or after it.
func urlArgument(args []string) (string, []string) {
	for i, a := range args {
		l := strings.ToLower(a)
		if strings.HasPrefix(l, "redis://") || strings.HasPrefix(l, "rediss://") {
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
	}
	return "", args
}

func writeAuditJSON(w io.Writer, r *audit.Report, failOn redsafe.Severity) {
	report.WriteJSON(w, r.Document(failOn))
}

func writeAuditText(w io.Writer, r *audit.Report, failOn redsafe.Severity) {
	verdict := "OK: nothing at " + string(failOn) + " or above"
	switch {
	case r.Err != nil:
		verdict = "INCOMPLETE: the audit could not finish"
	case len(r.Worst(failOn)) > 0:
		verdict = fmt.Sprintf("FAIL: %d at %s or above", len(r.Worst(failOn)), failOn)
	}
	report.WriteText(w, fmt.Sprintf("auditing %s (environment: %s)\n", r.Target, r.Environment), r.Document(failOn), verdict)
}
