package audit

import (
	"slices"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/report"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// The audit speaks the one severity scale of redsafe's reports. Before it
// did, its scale was critical, high, medium, low, info: high is now error,
// medium warning and low notice (redsafe.ParseSeverity still reads them).
const (
	sevCritical = redsafe.SeverityCritical
	sevError    = redsafe.SeverityError
	sevWarning  = redsafe.SeverityWarning
	sevNotice   = redsafe.SeverityNotice
	sevInfo     = redsafe.SeverityInfo
)

// Finding is the one finding type of redsafe's reports.
type Finding = redsafe.Finding

// Report is the result of Run.
type Report struct {
	Target      string              // the URL, with any password redacted
	Environment redsafe.Environment // whose policy applied
	// EnvironmentSource says how Environment was decided (see
	// redsafe.Report).
	EnvironmentSource string
	Findings          []Finding // worst first, then by id
	// Nodes are the nodes of a cluster that were audited, the URL's
	// first, or those of a Sentinel deployment: its Sentinels (the URL's
	// first), the master, the replicas; nil for one server.
	Nodes   []string
	Summary report.Summary
	// Err is set when the audit could not run, or could not finish (the
	// server is unreachable, the credentials were refused, the deadline
	// passed). Findings then holds what was seen before.
	Err error `json:"-"`
}

// add records f with its text escaped: evidence quotes what the server
// sent (CONFIG values, ACL LOG addresses, error replies, certificate
// names), which must not reach a terminal or a JSON reader as it came.
func (r *Report) add(f Finding) {
	f.Subject, f.Message, f.Evidence, f.Fix = termsafe.Escape(f.Subject), termsafe.Escape(f.Message), termsafe.Escape(f.Evidence), termsafe.Escape(f.Fix)
	r.Findings = append(r.Findings, f)
}

// finish sorts the findings, most severe first and then by id, counts
// them, and escapes Err, whose text can quote the server.
func (r *Report) finish() {
	r.Err = termsafe.Error(r.Err)
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if d := b.Severity.Rank() - a.Severity.Rank(); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	r.Summary = report.Count(r.Findings)
}

// Worst returns the findings at min or above.
func (r *Report) Worst(min redsafe.Severity) []Finding { return redsafe.AtLeast(r.Findings, min) }

// Find returns the finding with id, if any.
func (r *Report) Find(id string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.ID == id {
			return f, true
		}
	}
	return Finding{}, false
}

// Document is the report in the shape check, verify and audit share.
// failOn decides OK, as it decides the exit status.
func (r *Report) Document(failOn redsafe.Severity) report.Document {
	d := report.Document{Command: "audit", Target: r.Target, Environment: r.Environment,
		EnvironmentSource: r.EnvironmentSource, Findings: r.Findings, Nodes: r.Nodes,
		OK: r.Err == nil && len(r.Worst(failOn)) == 0}
	if r.Err != nil {
		d.Error = r.Err.Error()
	}
	return d
}
