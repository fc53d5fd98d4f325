package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/redsafe/redsafe"
)

var checkCmd = &command{
	name:    "check",
	summary: "validate the configuration against its environment's policy (no network)",
	usage: `Usage: redsafe check [--env-file FILE] [--json]

Reads the REDIS_* environment contract, applies the policy of the detected
environment (ENVIRONMENT, APP_ENV, GO_ENV, NODE_ENV, ENV; production when none
is set) and prints every finding with its fix. It does not connect.

Exits 0 when no finding is an error, 1 otherwise. Output never contains a
password or key.

Flags:
  --env-file FILE   read variables from FILE (KEY=VALUE lines); they take
                    precedence over the process environment
  --json            print the report as JSON

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
	report := redsafe.Validate(redsafe.OptionsFromLookup(lookup))
	if *asJSON {
		writeReportJSON(c.stdout, report)
	} else {
		writeReportText(c.stdout, report)
	}
	if !report.OK() {
		return 1
	}
	return 0
}

func writeReportJSON(w io.Writer, r redsafe.Report) {
	if r.Findings == nil {
		r.Findings = []redsafe.Finding{}
	}
	out := struct {
		OK bool `json:"ok"`
		redsafe.Report
	}{r.OK(), r}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func writeReportText(w io.Writer, r redsafe.Report) {
	source := "from " + r.EnvironmentSource
	switch r.EnvironmentSource {
	case "default":
		source = "no environment variable set: production by default"
	case "option":
		source = "set explicitly"
	}
	fmt.Fprintf(w, "environment: %s (%s)\n", r.Environment, source)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%-7s [%s] %s\n", f.Severity, f.ID, f.Message)
		if f.Fix != "" && f.Severity != redsafe.SeverityInfo {
			fmt.Fprintf(w, "        fix: %s\n", f.Fix)
		}
	}
	errs, warns := len(r.Errors()), len(r.Warnings())
	if errs > 0 {
		fmt.Fprintf(w, "FAIL: %s, %s\n", plural(errs, "error"), plural(warns, "warning"))
		return
	}
	fmt.Fprintf(w, "OK: no errors, %s\n", plural(warns, "warning"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
