package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/report"
	"github.com/redsafe/redsafe/cmd/internal/verify"
	"github.com/redsafe/redsafe/internal/redisurl"
)

var verifyCmd = &command{
	name:    "verify",
	summary: "prove a live deployment is secure: TLS, auth, ACLs, encryption",
	usage: `Usage: redsafe verify [--env-file FILE] [--json] [--timeout 5s] [--key-pattern P]

Connects to the deployment that the REDIS_* environment describes and proves,
by probing, what its configuration claims:

  tls.handshake        TLS handshake, negotiated version, verified certificate
  tls.certificate      chain valid; warns within 30 days of expiry
  auth.required        a connection without a password gets NOAUTH
  auth.wrong-password  a wrong password is refused
  acl.flushall         the application user cannot run FLUSHALL
  acl.config           ... nor CONFIG (both probed inside MULTI and discarded,
                       so nothing ever runs)
  tls.no-plaintext     no plaintext RESP answers on the TLS port (a server that
                       cannot be reached fails it: that proves nothing)
  data.encrypted       a value round-trips through the library, and Redis holds
                       a Fernet token, not the plaintext (the key is deleted);
                       the key is inside --key-pattern when one is given

Each check is a finding on the scale check and audit use: info when it
passed, notice when it could not run, warning, or error when it failed.

Exits 0 when every check passes, 1 when any fails. Put it in a deploy
pipeline. Output never contains a password or key.

Flags:
  --env-file FILE   read the variables from FILE, over the process environment
  --json            print {command, target, environment, ok, findings,
                    summary} as JSON, the shape check and audit print
  --timeout D       bound each network step (default 5s)
  --key-pattern P   the key pattern the application user is confined to, as
                    given to ` + "`redsafe conf --key-pattern`" + ` (such as 'orders:*'):
                    data.encrypted writes its probe key inside it

Examples:
  set -a; . ./.redsafe/.env.secure; set +a; redsafe verify
  redsafe verify --env-file .env.secure --json
  redsafe verify --env-file .env.secure --key-pattern 'orders:*'
`,
	run: runVerify,
}

func runVerify(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	envFile := fs.String("env-file", "", "")
	asJSON := fs.Bool("json", false, "")
	timeout := fs.Duration("timeout", 5*time.Second, "")
	keyPattern := fs.String("key-pattern", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	opts, err := c.options(*envFile)
	if err != nil {
		c.errorf("verify: %v", err)
		return 2
	}
	target := verify.Target{Options: opts, Timeout: *timeout, KeyPattern: *keyPattern}
	ctx, cancel := context.WithTimeout(context.Background(), 10**timeout)
	defer cancel()
	if *asJSON {
		results := verify.Run(ctx, target, nil)
		writeVerifyJSON(c.stdout, verifyDocument(redisurl.Redact(opts.URL), redsafe.Validate(opts), results))
		return exitFor(results)
	}
	fmt.Fprintf(c.stdout, "verifying %s\n", redisurl.Redact(opts.URL))
	results := verify.Run(ctx, target, printResult(c.stdout))
	return summarize(c.stdout, results)
}

// printResult prints each result as it comes, as the shared text report
// does; `redsafe up` prints its verification with it too.
// printResult prints each result as it comes; on a cluster, a line names
// each node after the first before its results.
func printResult(w io.Writer) func(verify.Result) {
	last := ""
	return func(r verify.Result) {
		if last != "" && r.Subject != last {
			fmt.Fprintf(w, "node %s:\n", r.Subject)
		}
		last = r.Subject
		report.WriteFinding(w, r)
	}
}

// summarize prints the summary line and returns the exit status.
func summarize(w io.Writer, results []verify.Result) int {
	failed := len(redsafe.AtLeast(results, verify.Fail))
	if failed > 0 {
		report.WriteSummary(w, results, fmt.Sprintf("FAIL: %d of %d checks failed", failed, len(results)))
		return 1
	}
	report.WriteSummary(w, results, fmt.Sprintf("OK: all %d checks passed", len(results)))
	return 0
}

func exitFor(results []verify.Result) int {
	if verify.Failed(results) {
		return 1
	}
	return 0
}

// verifyDocument is the results in the shape check, verify and audit share.
func verifyDocument(target string, v redsafe.Report, results []verify.Result) report.Document {
	var nodes []string
	for _, r := range results {
		if r.Subject != "" && !slices.Contains(nodes, r.Subject) {
			nodes = append(nodes, r.Subject)
		}
	}
	if len(nodes) < 2 {
		nodes = nil // one server
	}
	return report.Document{Command: "verify", Target: target, Nodes: nodes, Environment: v.Environment, EnvironmentSource: v.EnvironmentSource,
		OK: !verify.Failed(results), Findings: results}
}

func writeVerifyJSON(w io.Writer, d report.Document) {
	report.WriteJSON(w, d)
}
