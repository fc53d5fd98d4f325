package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// tlsOptions are the settings of a service that connects to s over TLS,
// trusting s's CA.
func tlsOptions(s *redisserver.Server, env redsafe.Environment, user, password string) redsafe.Options {
	return redsafe.Options{Environment: env, URL: s.URL(user, ""), Password: password,
		TLS: redsafe.TLSOptions{CAFile: s.CAFile}, Logger: quiet}
}

// audit runs the audit on o and fails the test if any secret (o's password
// and key, and every string in secrets) appears anywhere in the report.
func audit(t *testing.T, o redsafe.Options, secrets ...string) *Report {
	t.Helper()
	return auditWith(t, Target{Options: o, Sample: 50, Timeout: 2 * time.Second}, secrets...)
}

// judgedVersion is the version every audit in these tests judges, whatever
// redis-server the machine has: 7.0.15 is affected by the 2025 Lua CVEs
// (its line never got the fix), so server.version's severity shows whether
// the audited user may reach them. TestServerVersion* cover other versions
// and the version the server reports.
const judgedVersion = "7.0.15"

func auditWith(t *testing.T, target Target, secrets ...string) *Report {
	t.Helper()
	if target.version == "" {
		target.version = judgedVersion
	}
	if target.Options.Logger == nil {
		target.Options.Logger = quiet
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep := Run(ctx, target)
	text := dump(rep)
	for _, s := range append(secrets, target.Options.Password, target.Options.EncryptionKey) {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("the report contains a secret (%d characters):\n%s", len(s), text)
		}
	}
	return rep
}

// auditOK is audit that also requires the audit to have run to the end.
func auditOK(t *testing.T, o redsafe.Options, secrets ...string) *Report {
	t.Helper()
	rep := audit(t, o, secrets...)
	if rep.Err != nil {
		t.Fatalf("the audit could not run: %v\n%s", rep.Err, dump(rep))
	}
	return rep
}

// dump renders everything a report would print, for leak checks and
// failure messages.
func dump(r *Report) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	s := string(b)
	if r.Err != nil {
		s += "\nerror: " + r.Err.Error()
	}
	return s
}

// want asserts a finding with id at severity sev, with evidence and a fix.
func want(t *testing.T, r *Report, id string, sev redsafe.Severity) Finding {
	t.Helper()
	f, ok := r.Find(id)
	if !ok {
		t.Fatalf("no %s finding; the report:\n%s", id, dump(r))
	}
	if f.Severity != sev {
		t.Errorf("%s is %s, want %s: %s", id, f.Severity, sev, f.Evidence)
	}
	if f.Message == "" || f.Evidence == "" || f.Fix == "" {
		t.Errorf("%s lacks a message, evidence or fix: %+v", id, f)
	}
	return f
}

func wantNone(t *testing.T, r *Report, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if f, ok := r.Find(id); ok {
			t.Errorf("unexpected %s (%s): %s", id, f.Severity, f.Evidence)
		}
	}
}

// wantBlind asserts that check id is listed as not seen, and not reported
// as a finding of its own.
func wantBlind(t *testing.T, r *Report, ids ...string) {
	t.Helper()
	f, ok := r.Find("audit.limited-visibility")
	if !ok {
		t.Fatalf("no audit.limited-visibility; the report:\n%s", dump(r))
	}
	for _, id := range ids {
		if !strings.Contains(f.Evidence, id+" (") {
			t.Errorf("audit.limited-visibility does not list %s: %s", id, f.Evidence)
		}
	}
}

func wantContains(t *testing.T, f Finding, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(f.Evidence, p) {
			t.Errorf("%s evidence lacks %q: %s", f.ID, p, f.Evidence)
		}
	}
}

// noneAtOrAbove asserts the report has nothing at sev or above.
func noneAtOrAbove(t *testing.T, r *Report, sev redsafe.Severity) {
	t.Helper()
	for _, f := range r.Worst(sev) {
		t.Errorf("%s %s: %s", f.Severity, f.ID, f.Evidence)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func itoa(n int) string { return fmt.Sprint(n) }
