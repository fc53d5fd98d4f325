package audit

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// The audit only reads: no write reaches the keyspace, nothing runs of
// what it probes, and the configuration is unchanged. Both ways of asking
// about dangerous commands are exercised: ACL DRYRUN (the default user may
// run ACL) and MULTI/DISCARD (the "ops" user may run everything but ACL, so
// FLUSHALL, CONFIG SET and the rest are queued and discarded).
func TestAuditOnlyReads(t *testing.T) {
	t.Parallel()
	ops := redsafe.GeneratePassword(redsafe.Production)
	s := redisserver.Start(t, redisserver.Config{Password: redsafe.GeneratePassword(redsafe.Production),
		Users: []redisserver.User{{Name: "ops", Password: ops, Rules: "~* &* +@all -acl"}}})
	for i := range 10 {
		s.Do(t, "SET", "k:"+itoa(i), "v")
	}
	before := readState(t, s)
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password), ops)
	want(t, r, "acl.dangerous-commands", sevError)
	r = auditOK(t, tlsOptions(s, redsafe.Development, "ops", ops), s.Password)
	f := want(t, r, "acl.dangerous-commands", sevError)
	wantContains(t, f, "FLUSHALL", "CONFIG", "queued inside MULTI and discarded")
	after := readState(t, s)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed from %q to %q", k, v, after[k])
		}
	}
	stats := s.Do(t, "INFO", "commandstats")
	for _, cmd := range []string{"flushall", "flushdb", "config|set", "exec", "set", "del", "debug", "module", "shutdown", "migrate", "script", "eval", "function", "pfadd", "pfmerge"} {
		// SET ran only for the setup above. Refused probes count as
		// rejected_calls, never as calls.
		want := "calls=0,"
		if cmd == "set" {
			want = "calls=10,"
		}
		if line := statLine(stats, cmd); line != "" && !strings.HasPrefix(line, want) {
			t.Errorf("the audit ran %s: %s", cmd, line)
		}
	}
	if statLine(stats, "discard") == "" || statLine(stats, "acl|dryrun") == "" {
		t.Error("neither probe was exercised")
	}
}

func readState(t *testing.T, s *redisserver.Server) map[string]string {
	t.Helper()
	state := map[string]string{"dbsize": s.Do(t, "DBSIZE")}
	for _, line := range strings.Split(s.Do(t, "INFO", "persistence"), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == "rdb_changes_since_last_save" {
			state[k] = v
		}
	}
	for _, name := range []string{"dir", "dbfilename", "save", "appendonly", "maxmemory-policy"} {
		state["config "+name] = s.Do(t, "CONFIG", "GET", name)
	}
	if len(state) != 7 {
		t.Fatalf("state incomplete: %v", state)
	}
	return state
}

// statLine is the "calls=..." part of cmdstat_CMD in INFO commandstats.
func statLine(stats, cmd string) string {
	for _, line := range strings.Split(stats, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":"); ok {
			return rest
		}
	}
	return ""
}
