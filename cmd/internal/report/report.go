// Package report renders the findings of `redsafe check`, `redsafe verify`
// and `redsafe audit`: one document, one text form and one JSON form, so
// that a script reads the three commands the same way.
package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/redsafe/redsafe"
)

// Document is what a command reports, and its --json form. The shape is
// stable: fields are only ever added.
type Document struct {
	// Command is "check", "verify" or "audit".
	Command string `json:"command"`
	// Target is the Redis URL looked at, with any password redacted.
	Target string `json:"target"`
	// Environment is the environment whose policy applied.
	Environment redsafe.Environment `json:"environment"`
	// EnvironmentSource says how the environment was decided: "option",
	// the variable that set it, or "default".
	EnvironmentSource string `json:"environment_source"`
	// Nodes are the nodes of a Redis Cluster or a Sentinel deployment (its
	// Sentinels too) the command looked at, each
	// the subject of its own findings; absent for one server.
	Nodes []string `json:"nodes,omitempty"`
	// OK is the command's verdict: true when it exits 0.
	OK       bool              `json:"ok"`
	Findings []redsafe.Finding `json:"findings"`
	Summary  Summary           `json:"summary"`
	// Error says why the command could not run or finish; Findings then
	// holds what was seen before. Absent when it ran.
	Error string `json:"error,omitempty"`
}

// Summary counts findings by severity.
type Summary struct {
	Critical int `json:"critical"`
	Error    int `json:"error"`
	Warning  int `json:"warning"`
	Notice   int `json:"notice"`
	Info     int `json:"info"`
}

// Count counts findings by severity; an unknown severity counts as info.
func Count(findings []redsafe.Finding) Summary {
	var s Summary
	for _, f := range findings {
		switch f.Severity {
		case redsafe.SeverityCritical:
			s.Critical++
		case redsafe.SeverityError:
			s.Error++
		case redsafe.SeverityWarning:
			s.Warning++
		case redsafe.SeverityNotice:
			s.Notice++
		default:
			s.Info++
		}
	}
	return s
}

// String is the summary line's counts.
func (s Summary) String() string {
	return fmt.Sprintf("%d critical, %d error, %d warning, %d notice, %d info", s.Critical, s.Error, s.Warning, s.Notice, s.Info)
}

// WriteJSON writes d as indented JSON, with Summary counted from Findings
// and Findings never null.
func WriteJSON(w io.Writer, d Document) error {
	if d.Findings == nil {
		d.Findings = []redsafe.Finding{}
	}
	d.Summary = Count(d.Findings)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteText writes d for a terminal: header, one block per finding (see
// WriteFinding) and the summary line with verdict, the command's own
// last word ("OK: ...", "FAIL: ...").
func WriteText(w io.Writer, header string, d Document, verdict string) {
	if header != "" {
		fmt.Fprintln(w, header)
	}
	for _, f := range d.Findings {
		// Findings of many nodes come worst first, not node by node: each
		// says which node it is about.
		writeFinding(w, f, len(d.Nodes) > 0)
	}
	WriteSummary(w, d.Findings, verdict)
}

// idWidth is the id column: the message starts after the longest severity
// name ("critical") and an id of the usual length.
const idWidth = 27

// WriteFinding writes one finding: severity, id and message on one line,
// then the evidence and fix indented under the message. The subject is left
// to the JSON form and to WriteText, which names it when the report is of
// many nodes; commands that print as they go (verify) call it for each
// finding, under a line naming the node.
func WriteFinding(w io.Writer, f redsafe.Finding) { writeFinding(w, f, false) }

// writeFinding is WriteFinding, with a "node:" line naming the subject
// when subject is set.
func writeFinding(w io.Writer, f redsafe.Finding, subject bool) {
	fmt.Fprintf(w, "%-8s %-*s %s\n", f.Severity, idWidth, f.ID, f.Message)
	pad := 8 + 1 + idWidth + 1
	node := ""
	if subject {
		node = f.Subject
	}
	for _, l := range []struct{ name, text string }{{"node", node}, {"evidence", f.Evidence}, {"fix", f.Fix}} {
		if l.text != "" {
			fmt.Fprintf(w, "%*s%s: %s\n", pad, "", l.name, l.text)
		}
	}
}

// WriteSummary writes the counts and the verdict on one line.
func WriteSummary(w io.Writer, findings []redsafe.Finding, verdict string) {
	fmt.Fprintf(w, "%s — %s\n", Count(findings), verdict)
}
