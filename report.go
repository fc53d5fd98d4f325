package redsafe

import (
	"fmt"
	"slices"
	"strings"
)

// Severity ranks a finding. It is the one scale of every redsafe report:
// Validate (and `redsafe check`), `redsafe verify` and `redsafe audit` all
// use it. From most to least severe: critical, error, warning, notice,
// info. A finding at SeverityError or above stops Open.
type Severity string

const (
	// SeverityCritical is exposure now: anyone who reaches the server can
	// read or change the data (no password, no TLS where it is required).
	SeverityCritical Severity = "critical"
	// SeverityError is a deployment that must not run as it is: Validate
	// refuses it, verify fails it, audit fails on it by default.
	SeverityError Severity = "error"
	// SeverityWarning is allowed, but should be fixed.
	SeverityWarning Severity = "warning"
	// SeverityNotice is worth knowing: a hardening step not taken, or a
	// check that could not be proven either way.
	SeverityNotice Severity = "notice"
	// SeverityInfo is a fact, or a check that passed.
	SeverityInfo Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{SeverityCritical, SeverityError, SeverityWarning, SeverityNotice, SeverityInfo}

// Rank orders severities: SeverityCritical is 4, SeverityInfo 0, anything
// unknown -1.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return len(Severities) - 1 - i
	}
	return -1
}

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.Rank() >= min.Rank() }

// ParseSeverity accepts the names of Severities, in any case. The audit's
// former names are accepted too, so that `--fail-on high` keeps working:
// high is error, medium is warning, low is notice.
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "high":
		return SeverityError, nil
	case "medium":
		return SeverityWarning, nil
	case "low":
		return SeverityNotice, nil
	}
	if s := Severity(n); s.Rank() >= 0 {
		return s, nil
	}
	return "", fmt.Errorf("unknown severity %q: use critical, error, warning, notice or info", name)
}

// Finding is one result of validation, verification or an audit. IDs are
// stable, for scripts and alerting. No field ever contains a password, a
// key or a cached value.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Subject is what the finding is about: a server address (one node of
	// a deployment), a file, or a setting. Empty when it is the whole
	// configuration.
	Subject string `json:"subject,omitempty"`
	// Message says what is wrong, or what was proven, in one line.
	Message string `json:"message"`
	// Evidence is what a probe saw, when there was a probe.
	Evidence string `json:"evidence,omitempty"`
	// Fix is what to change.
	Fix string `json:"fix,omitempty"`
}

// Report is the result of Validate.
type Report struct {
	Environment Environment `json:"environment"`
	// EnvironmentSource says how the environment was decided: "option",
	// the variable that set it, or "default" (production, because nothing
	// said otherwise).
	EnvironmentSource string    `json:"environment_source"`
	Findings          []Finding `json:"findings"`
}

// OK reports whether no finding is at SeverityError or above.
func (r Report) OK() bool { return len(r.Errors()) == 0 }

// Errors returns the findings at SeverityError or above: those that stop
// Open.
func (r Report) Errors() []Finding { return AtLeast(r.Findings, SeverityError) }

// Warnings returns the warning findings.
func (r Report) Warnings() []Finding { return r.bySeverity(SeverityWarning) }

// has reports whether a finding has the given id.
func (r Report) has(id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

func (r Report) bySeverity(s Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == s {
			out = append(out, f)
		}
	}
	return out
}

// AtLeast returns the findings at min or above, in their order.
func AtLeast(findings []Finding, min Severity) []Finding {
	var out []Finding
	for _, f := range findings {
		if f.Severity.AtLeast(min) {
			out = append(out, f)
		}
	}
	return out
}

// Err returns a *ConfigError listing every error finding, or nil.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return &ConfigError{Report: r}
}

// add records a finding about the configuration as a whole (no subject);
// validate.go calls it for every rule.
func (r *Report) add(id string, sev Severity, fix, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{ID: id, Severity: sev, Message: fmt.Sprintf(format, args...), Fix: fix})
}

// notOneOf is the message of a setting whose value is none of the values
// it accepts. A finding quotes a value only when it is one of those known
// values: any other may be a secret set in the wrong variable (a key pasted
// into REDIS_TLS_CERT_REQS), and findings are logged and printed.
func notOneOf(name, accepted string) string {
	return name + " is not " + accepted + " (its value is not shown: it may be a secret set in the wrong place)"
}
