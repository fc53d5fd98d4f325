package redsafe

import "fmt"

// Severity ranks a finding. Only SeverityError stops Open.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one result of validation. IDs are stable, for scripts and
// alerting. No finding ever contains a password or key.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
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

// OK reports whether no finding is an error.
func (r Report) OK() bool { return len(r.Errors()) == 0 }

// Errors returns the error findings.
func (r Report) Errors() []Finding { return r.bySeverity(SeverityError) }

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

// Err returns a *ConfigError listing every error finding, or nil.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return &ConfigError{Report: r}
}

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
