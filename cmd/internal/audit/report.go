package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// Severity ranks a finding.
type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// rank orders severities: Critical is 4, Info 0, anything unknown -1.
func (s Severity) rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return len(Severities) - 1 - i
	}
	return -1
}

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.rank() >= min.rank() }

// ParseSeverity accepts the names of Severities, in any case.
func ParseSeverity(name string) (Severity, error) {
	s := Severity(strings.ToLower(strings.TrimSpace(name)))
	if s.rank() < 0 {
		return "", fmt.Errorf("unknown severity %q: use critical, high, medium, low or info", name)
	}
	return s, nil
}

// Finding is one result of the audit. ID is stable, for scripts and
// alerting. Evidence says what the probe saw and Fix what to change. No
// field ever holds a password, a key or a cached value.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Evidence string   `json:"evidence"`
	Fix      string   `json:"fix"`
}

// Summary counts findings by severity.
type Summary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Report is the result of Run.
type Report struct {
	Target      string              `json:"target"` // the URL, with any password redacted
	Environment redsafe.Environment `json:"environment"`
	Findings    []Finding           `json:"findings"`
	Summary     Summary             `json:"summary"`
	// Err is set when the audit could not run, or could not finish (the
	// server is unreachable, the credentials were refused, the deadline
	// passed). Findings then holds what was seen before.
	Err error `json:"-"`
}

// add records f with its text escaped: evidence quotes what the server
// sent (CONFIG values, ACL LOG addresses, error replies, certificate
// names), which must not reach a terminal or a JSON reader as it came.
func (r *Report) add(f Finding) {
	f.Title, f.Evidence, f.Fix = termsafe.Escape(f.Title), termsafe.Escape(f.Evidence), termsafe.Escape(f.Fix)
	r.Findings = append(r.Findings, f)
}

// finish sorts the findings, most severe first and then by id, counts
// them, and escapes Err, whose text can quote the server.
func (r *Report) finish() {
	r.Err = termsafe.Error(r.Err)
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if d := b.Severity.rank() - a.Severity.rank(); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	r.Summary = Summary{}
	for _, f := range r.Findings {
		switch f.Severity {
		case Critical:
			r.Summary.Critical++
		case High:
			r.Summary.High++
		case Medium:
			r.Summary.Medium++
		case Low:
			r.Summary.Low++
		default:
			r.Summary.Info++
		}
	}
}

// Worst returns the findings at min or above.
func (r *Report) Worst(min Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity.AtLeast(min) {
			out = append(out, f)
		}
	}
	return out
}

// Find returns the finding with id, if any.
func (r *Report) Find(id string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.ID == id {
			return f, true
		}
	}
	return Finding{}, false
}
