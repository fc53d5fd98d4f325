package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
)

func TestJSONCountsAndNeverNull(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, Document{Command: "check"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"findings": []`) || strings.Contains(b.String(), `"error"`+": \"") {
		t.Errorf("empty document: %s", b.String())
	}
	b.Reset()
	WriteJSON(&b, Document{Command: "audit", Findings: []redsafe.Finding{
		{ID: "a", Severity: redsafe.SeverityCritical, Message: "m"}, {ID: "b", Severity: redsafe.SeverityNotice, Message: "m"}}})
	var d Document
	if err := json.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Summary != (Summary{Critical: 1, Notice: 1}) {
		t.Errorf("summary %+v", d.Summary)
	}
	if strings.Contains(b.String(), `"subject"`) || strings.Contains(b.String(), `"evidence"`) {
		t.Errorf("empty subject or evidence is printed: %s", b.String())
	}
}

func TestTextColumns(t *testing.T) {
	var b bytes.Buffer
	WriteText(&b, "auditing x", Document{Findings: []redsafe.Finding{
		{ID: "tls.disabled", Severity: redsafe.SeverityCritical, Subject: "127.0.0.1:1", Message: "no TLS", Evidence: "answered +PONG", Fix: "enable TLS"}}}, "FAIL: 1 at error or above")
	want := "auditing x\n" +
		"critical tls.disabled                no TLS\n" +
		"                                     evidence: answered +PONG\n" +
		"                                     fix: enable TLS\n" +
		"1 critical, 0 error, 0 warning, 0 notice, 0 info — FAIL: 1 at error or above\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
