package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// sentinelAudit starts a Sentinel deployment (TLS only, the default user
// off everywhere) and returns it with the options of an operator who
// audits it: the admin on the data nodes, the Sentinels' own user on the
// Sentinels, and a URL that names two of the three Sentinels, so that the
// third is only found through SENTINEL SENTINELS.
func sentinelAudit(t *testing.T) (*redisserver.Sentinel, redsafe.Options, []string) {
	t.Helper()
	adminPW, watcherPW := redsafe.GeneratePassword(redsafe.Production), redsafe.GeneratePassword(redsafe.Production)
	sn := redisserver.StartSentinel(t, redisserver.SentinelConfig{
		Users:         []redisserver.User{{Name: "admin", Password: adminPW, Rules: "~* &* +@all"}},
		SentinelUsers: []redisserver.User{{Name: "watcher", Password: watcherPW, Rules: "+@all"}},
	})
	o := redsafe.Options{Environment: redsafe.Development,
		URL:      fmt.Sprintf("rediss://admin@%s/0?master_set=%s&addr=%s", sn.Sentinels[0].Addr, sn.MasterSet, sn.Sentinels[1].Addr),
		Password: adminPW, Sentinel: redsafe.SentinelOptions{Username: "watcher", Password: watcherPW},
		TLS: redsafe.TLSOptions{CAFile: sn.CAFile}}
	return sn, o, []string{watcherPW, sn.MonitorPassword}
}

// subjectsOf are the subjects of the findings with id at sev, sorted.
func subjectsOf(r *Report, id string, sev redsafe.Severity) []string {
	var s []string
	for _, f := range r.Findings {
		if f.ID == id && f.Severity == sev {
			s = append(s, f.Subject)
		}
	}
	slices.Sort(s)
	return s
}

func findingAbout(t *testing.T, r *Report, id string, sev redsafe.Severity, subject string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.ID == id && f.Severity == sev && f.Subject == subject {
			if f.Message == "" || f.Evidence == "" || f.Fix == "" {
				t.Errorf("%s lacks a message, evidence or fix: %+v", id, f)
			}
			return f
		}
	}
	t.Fatalf("no %s %s about %s; the report:\n%s", sev, id, subject, dump(r))
	return Finding{}
}

func sorted(s ...string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestAuditSentinel: the audit walks a Sentinel deployment, the Sentinels
// the URL names, the one they report, the master and the replica, each the
// subject of its own findings, the Sentinels logged into as their own user.
// A well-configured deployment has none of the Sentinel findings; each
// misconfiguration made at runtime is then reported about the node that
// has it, and only that node.
func TestAuditSentinel(t *testing.T) {
	t.Parallel()
	sn, o, secrets := sentinelAudit(t)
	master, replica := sn.Master.Addr, sn.Replicas[0].Addr
	s0, s1, s2 := sn.Sentinels[0].Addr, sn.Sentinels[1].Addr, sn.Sentinels[2].Addr
	data := sorted(master, replica)

	rep := auditOK(t, o, secrets...)
	if want := []string{s0, s1, s2, master, replica}; !slices.Equal(rep.Nodes, want) {
		t.Fatalf("audited nodes %v, want %v (the URL's Sentinels, the reported one, the master, the replica)", rep.Nodes, want)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		seen[f.Subject] = true
	}
	for _, n := range rep.Nodes {
		if !seen[n] {
			t.Errorf("no finding names %s: was it audited?", n)
		}
	}
	wantNone(t, rep, "auth.none", "auth.default-user", "tls.plaintext-port", "tls.replication", "sentinel.acl-differs",
		"sentinel.node-unaudited", "sentinel.topology", "cluster.acl-differs")
	if s := subjectsOf(rep, "sentinel.hello-publish", sevError); s != nil {
		t.Fatalf("sentinel.hello-publish errors about %v in a deployment where only the Sentinels' users may publish:\n%s", s, dump(rep))
	}
	// The admin (&* +@all) may publish on the data nodes, and may run
	// REPLICAOF anyway: a notice. The Sentinels' own users are not named.
	if s := subjectsOf(rep, "sentinel.hello-publish", sevNotice); !slices.Equal(s, data) {
		t.Fatalf("sentinel.hello-publish notices about %v, want the data nodes %v", s, data)
	}
	f := findingAbout(t, rep, "sentinel.hello-publish", sevNotice, master)
	if !strings.HasPrefix(f.Evidence, "admin may PUBLISH") || !strings.Contains(f.Evidence, "logged in as "+sn.MonitorUser) {
		t.Errorf("evidence %q: want admin reported and the Sentinels' user %s recognised", f.Evidence, sn.MonitorUser)
	}

	// Break the deployment, one node at a time.
	forger := "forger on >forger-password-1234567890 +publish &__sentinel__:hello"
	sn.Replicas[0].Do(t, "ACL", "SETUSER", "leftover", "on", ">leftover-password-1234567890", "+ping")
	sn.Master.Do(t, append([]string{"ACL", "SETUSER"}, strings.Fields(forger)...)...)
	sn.Sentinels[1].Do(t, append([]string{"ACL", "SETUSER"}, strings.Fields(forger)...)...)
	sn.Sentinels[2].Do(t, "ACL", "SETUSER", "default", "on", "nopass", "+@all")
	sn.Replicas[0].Do(t, "CONFIG", "SET", "tls-replication", "no")

	rep = auditOK(t, o, append(secrets, "forger-password-1234567890", "leftover-password-1234567890")...)
	// A Sentinel reachable without auth: the reported one.
	if s := subjectsOf(rep, "auth.none", sevCritical); !slices.Equal(s, []string{s2}) {
		t.Fatalf("auth.none about %v, want only the Sentinel without auth %s", s, s2)
	}
	wantContainsAbout(t, rep, "auth.none", sevCritical, s2, "where the master is")
	// Users who may publish hellos: the master and the Sentinel with forger.
	if s := subjectsOf(rep, "sentinel.hello-publish", sevError); !slices.Equal(s, sorted(master, s1)) {
		t.Fatalf("sentinel.hello-publish errors about %v, want %v", s, sorted(master, s1))
	}
	for _, n := range []string{master, s1} {
		f := findingAbout(t, rep, "sentinel.hello-publish", sevError, n)
		if !strings.HasPrefix(f.Evidence, "forger may PUBLISH") {
			t.Errorf("%s: evidence %q, want forger named first", n, f.Evidence)
		}
	}
	// ACLs that differ: the replica from the master (forger, leftover),
	// the Sentinels without auth and with forger from the first one.
	if s := subjectsOf(rep, "sentinel.acl-differs", sevError); !slices.Equal(s, sorted(replica, s1, s2)) {
		t.Fatalf("sentinel.acl-differs about %v, want %v", s, sorted(replica, s1, s2))
	}
	f = findingAbout(t, rep, "sentinel.acl-differs", sevError, replica)
	if !strings.Contains(f.Evidence, "forger, leftover") || !strings.Contains(f.Evidence, master) || strings.Contains(f.Evidence, "#") {
		t.Errorf("evidence %q: want the users' names against the master, never a hash", f.Evidence)
	}
	// Replication without TLS: the replica.
	if s := subjectsOf(rep, "tls.replication", sevError); !slices.Equal(s, []string{replica}) {
		t.Fatalf("tls.replication about %v, want only the replica %s", s, replica)
	}
	wantNone(t, rep, "sentinel.node-unaudited", "tls.plaintext-port")
}

func wantContainsAbout(t *testing.T, r *Report, id string, sev redsafe.Severity, subject string, parts ...string) {
	t.Helper()
	wantContains(t, findingAbout(t, r, id, sev, subject), parts...)
}

// TestAuditSentinelRefused: Sentinels that refuse the Sentinels'
// credentials end the audit with an error that says which variables to
// check, and the password is in neither the error nor the report.
func TestAuditSentinelRefused(t *testing.T) {
	t.Parallel()
	_, o, secrets := sentinelAudit(t)
	o.Sentinel.Password = redsafe.GeneratePassword(redsafe.Production)
	rep := audit(t, o, append(secrets, o.Sentinel.Password)...)
	if rep.Err == nil || !strings.Contains(rep.Err.Error(), "WRONGPASS") || !strings.Contains(rep.Err.Error(), redsafe.EnvSentinelPassword) {
		t.Fatalf("audit with a wrong Sentinel password: %v, want WRONGPASS and %s", rep.Err, redsafe.EnvSentinelPassword)
	}
	if strings.Contains(rep.Err.Error(), o.Sentinel.Password) {
		t.Fatal("the error holds the Sentinels' password")
	}
}

// TestPlaintextPortThroughInfo: without CONFIG (a Sentinel has none, a
// confined user may not run it), the plaintext port is INFO's tcp_port,
// which is the TLS port itself when there is no plaintext port. Both
// cases, on data nodes whose user may not run CONFIG.
func TestPlaintextPortThroughInfo(t *testing.T) {
	t.Parallel()
	ops := redisserver.User{Name: "ops", Password: "ops-password-1234567890-abcdefghij", Rules: "~* &* +@all -config"}
	plain := redisserver.Start(t, redisserver.Config{ExtraPlaintextPort: true, Users: []redisserver.User{ops}})
	r := auditOK(t, tlsOptions(plain, redsafe.Development, ops.Name, ops.Password))
	wantContains(t, want(t, r, "tls.plaintext-port", sevError), plain.PlaintextAddr, "answers plaintext RESP")

	tlsOnly := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{ops}})
	wantNone(t, auditOK(t, tlsOptions(tlsOnly, redsafe.Development, ops.Name, ops.Password)), "tls.plaintext-port")
}
