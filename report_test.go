package redsafe

import "testing"

// The one severity scale: ordered, parsed in any case, with the audit's
// former names still read, and only error or above stopping Open.
func TestSeverityScale(t *testing.T) {
	for i := 1; i < len(Severities); i++ {
		if !Severities[i-1].AtLeast(Severities[i]) || Severities[i].AtLeast(Severities[i-1]) {
			t.Errorf("%s and %s are out of order", Severities[i-1], Severities[i])
		}
	}
	for name, want := range map[string]Severity{" Critical ": SeverityCritical, "ERROR": SeverityError, "high": SeverityError,
		"medium": SeverityWarning, "warning": SeverityWarning, "low": SeverityNotice, "notice": SeverityNotice, "info": SeverityInfo} {
		if got, err := ParseSeverity(name); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, bad := range []string{"", "severe", "ok", "FAIL"} {
		if _, err := ParseSeverity(bad); err == nil {
			t.Errorf("ParseSeverity(%q) accepted", bad)
		}
	}
	if Severity("bogus").Rank() != -1 {
		t.Error("an unknown severity has a rank")
	}
}

func TestReportErrorsAreErrorOrAbove(t *testing.T) {
	var r Report
	r.add("a.info", SeverityInfo, "", "fine")
	r.add("a.notice", SeverityNotice, "", "note")
	r.add("a.warning", SeverityWarning, "fix it", "careful")
	if !r.OK() || r.Err() != nil || len(r.Warnings()) != 1 {
		t.Fatalf("warnings and below stop Open: %+v", r)
	}
	r.Findings = append(r.Findings, Finding{ID: "a.critical", Severity: SeverityCritical, Message: "exposed"})
	if r.OK() || len(r.Errors()) != 1 || r.Err() == nil {
		t.Errorf("a critical finding does not stop Open: %+v", r.Errors())
	}
	r.add("a.error", SeverityError, "fix", "broken %d", 1)
	if got := r.Errors(); len(got) != 2 || got[1].Message != "broken 1" || got[1].Subject != "" {
		t.Errorf("Errors() = %+v", got)
	}
}
