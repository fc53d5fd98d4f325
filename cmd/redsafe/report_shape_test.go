package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestCheckVerifyAuditJSONShape runs check, verify and audit --json against
// one real server and asserts the one document shape: the same top-level
// keys, the same summary keys, findings with only the shared fields, and a
// summary that counts them.
func TestCheckVerifyAuditJSONShape(t *testing.T) {
	t.Parallel()
	pw := redsafe.GeneratePassword(redsafe.Production)
	s := redisserver.Start(t, redisserver.Config{DisableDefaultUser: true,
		Users: []redisserver.User{{Name: "app", Password: pw, Rules: "~* resetchannels +@all -@dangerous -@scripting -flushall -flushdb -keys -config"}}})
	env := map[string]string{
		"ENVIRONMENT":          "development",
		"REDIS_URL":            "rediss://app@" + s.Addr + "/0",
		"REDIS_PASSWORD":       pw,
		"REDIS_ENCRYPTION_KEY": seal.GenerateKey().Encode(),
		"REDIS_TLS_CA_CERT":    s.CAFile,
	}
	top := []string{"command", "target", "environment", "environment_source", "ok", "findings", "summary"}
	fields := []string{"id", "severity", "subject", "message", "evidence", "fix"}
	for _, command := range [][]string{{"check"}, {"verify", "--timeout", "2s"}, {"audit", "--timeout", "2s"}} {
		var stdout, stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		code := c.main(append(command, "--json"))
		// The machine's redis-server may have published advisories: audit
		// then exits 2 (findings at --fail-on), which is fine here.
		if code != 0 && !(command[0] == "audit" && code == 2) {
			t.Errorf("%s exits %d: %s\n%s", command[0], code, stderr.String(), stdout.String())
		}
		for _, secret := range []string{pw, env["REDIS_ENCRYPTION_KEY"]} {
			if strings.Contains(stdout.String()+stderr.String(), secret) {
				t.Errorf("%s --json shows a secret", command[0])
			}
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatalf("%s --json: %v\n%s", command[0], err, stdout.String())
		}
		if got := slices.Sorted(maps.Keys(doc)); !slices.Equal(got, slices.Sorted(slices.Values(top))) {
			t.Errorf("%s --json has keys %v, want %v", command[0], got, top)
		}
		var d struct {
			Command  string
			Target   string
			OK       bool
			Findings []map[string]any
			Summary  map[string]int
		}
		json.Unmarshal(stdout.Bytes(), &d)
		if d.Command != command[0] || d.OK != (code == 0) || !strings.Contains(d.Target, s.Addr) || strings.Contains(d.Target, pw) {
			t.Errorf("%s --json: command %q, ok %v, target %q", command[0], d.Command, d.OK, d.Target)
		}
		if got := slices.Sorted(maps.Keys(d.Summary)); !slices.Equal(got, []string{"critical", "error", "info", "notice", "warning"}) {
			t.Errorf("%s --json summary keys %v", command[0], got)
		}
		counted := map[string]int{}
		for _, f := range d.Findings {
			for k := range f {
				if !slices.Contains(fields, k) {
					t.Errorf("%s --json: a finding has the field %q", command[0], k)
				}
			}
			sev, _ := f["severity"].(string)
			if _, err := redsafe.ParseSeverity(sev); err != nil || f["id"] == "" || f["message"] == "" {
				t.Errorf("%s --json: finding %v", command[0], f)
			}
			counted[sev]++
		}
		for sev, n := range d.Summary {
			if counted[sev] != n {
				t.Errorf("%s --json: summary says %d %s, the findings hold %d", command[0], n, sev, counted[sev])
			}
		}
		if command[0] != "check" && len(d.Findings) == 0 {
			t.Errorf("%s --json has no findings", command[0])
		}
	}
}
