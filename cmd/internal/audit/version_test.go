package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// server.version judges the version it is given, not the machine's
// redis-server: the same server is affected as 7.0.15, affected with
// another fix as 7.2.4, and clean as a release newer than every fix.
func TestServerVersionJudgesTheGivenVersion(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	o := redsafe.Options{Environment: redsafe.Development, URL: s.URL("", "")}
	at := func(version string) *Report {
		return auditWith(t, Target{Options: o, Sample: 10, Timeout: 2 * time.Second, version: version})
	}

	f := want(t, at("7.0.15"), "server.version", sevError) // default may run Lua
	wantContains(t, f, "CVE-2025-49844", "CVE-2025-21605", "default may run EVAL")
	if !strings.Contains(f.Fix, "upgrade to Redis 7.2.11") {
		t.Errorf("7.0.15 should upgrade to 7.2.11 (its line never got the fix): %s", f.Fix)
	}

	f = want(t, at("7.2.8"), "server.version", sevError)
	wantContains(t, f, "CVE-2025-49844 ", "(fixed in 7.2.11;", "CVE-2025-32023 ")
	if strings.Contains(f.Evidence, "CVE-2025-21605") || strings.Contains(f.Evidence, "CVE-2024-31449") {
		t.Errorf("7.2.8 has the fixes of CVE-2025-21605 and CVE-2024-31449: %s", f.Evidence)
	}

	for _, clean := range []string{"8.2.2", "99.0.0"} {
		wantNone(t, at(clean), "server.version")
	}
	r := at("7.x")
	wantBlind(t, r, "server.version")
	wantContains(t, want(t, r, "audit.limited-visibility", sevInfo), `version "7.x" is not major.minor.patch`)
}

// Without a version given, the one the server reports (HELLO) is judged.
func TestServerVersionReadsTheServer(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	installed := s.Do(t, "HELLO", "2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := Run(ctx, Target{Options: redsafe.Options{Environment: redsafe.Development, URL: s.URL("", ""), Logger: quiet}, Sample: 10, Timeout: 2 * time.Second})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	lines := strings.Split(installed, "\n")
	version := ""
	for i := 0; i+1 < len(lines); i++ {
		if lines[i] == "version" {
			version = lines[i+1]
		}
	}
	v, ok := parseVersion(version)
	if !ok {
		t.Fatalf("HELLO reports version %q", version)
	}
	f, found := r.Find("server.version")
	if !found {
		// An unaffected installation: nothing to see, and nothing hidden.
		if f, ok := r.Find("audit.limited-visibility"); ok && strings.Contains(f.Evidence, "server.version") {
			t.Fatalf("server.version was not seen: %s", f.Evidence)
		}
		return
	}
	if !strings.Contains(f.Message, "Redis "+v.String()+" is affected") {
		t.Errorf("server.version judges another version than the server's %s: %s", v, f.Message)
	}
}
