package main

import (
	"fmt"
	"io"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/report"
	"github.com/redsafe/redsafe/internal/redisurl"
)

var checkCmd = &command{
	name:    "check",
	summary: "validate the configuration against its environment's policy (no network)",
	usage: `Usage: redsafe check [--env-file FILE] [--json]

Reads the REDIS_* environment contract, applies the policy of the detected
environment (ENVIRONMENT, APP_ENV, GO_ENV, NODE_ENV, ENV; production when none
is set) and prints every finding with its fix. It does not connect.

Exits 0 when no finding is an error (or critical), 1 otherwise. Output never contains a
password or key.

Flags:
  --env-file FILE   read variables from FILE (KEY=VALUE lines); they take
                    precedence over the process environment
  --json            print {command, target, environment, ok, findings,
                    summary} as JSON, the shape verify and audit print

Examples:
  redsafe check
  ENVIRONMENT=staging redsafe check --env-file .env.secure
  redsafe check --json | jq '.findings[] | select(.severity=="error") | .id'
`,
	run: runCheck,
}

func runCheck(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	envFile := fs.String("env-file", "", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	lookup, err := c.lookup(*envFile)
	if err != nil {
		c.errorf("check: %v", err)
		return 2
	}
	opts := redsafe.OptionsFromLookup(lookup)
	rep := redsafe.Validate(opts)
	target := redisurl.Redact(opts.URL)
	if *asJSON {
		writeReportJSON(c.stdout, rep, target)
	} else {
		writeReportText(c.stdout, rep)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// checkDocument is the validation report in the shape check, verify and
// audit share.
func checkDocument(r redsafe.Report, target string) report.Document {
	return report.Document{Command: "check", Target: target, Environment: r.Environment,
		EnvironmentSource: r.EnvironmentSource, OK: r.OK(), Findings: r.Findings}
}

func writeReportJSON(w io.Writer, r redsafe.Report, target string) {
	report.WriteJSON(w, checkDocument(r, target))
}

// writeReportText prints a validation report; `redsafe env` prints it too.
func writeReportText(w io.Writer, r redsafe.Report) {
	source := "from " + r.EnvironmentSource
	switch r.EnvironmentSource {
	case "default":
		source = "no environment variable set: production by default"
	case "option":
		source = "set explicitly"
	}
	errs, warns := len(r.Errors()), len(r.Warnings())
	verdict := fmt.Sprintf("OK: no errors, %s", plural(warns, "warning"))
	if errs > 0 {
		verdict = fmt.Sprintf("FAIL: %s, %s", plural(errs, "error"), plural(warns, "warning"))
	}
	report.WriteText(w, fmt.Sprintf("environment: %s (%s)", r.Environment, source), checkDocument(r, ""), verdict)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
