package audit

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
)

// The acceptance case: plaintext, no password at all.
func TestPlaintextWithoutPassword(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	o := redsafe.Options{Environment: redsafe.Production, URL: s.URL("", "")}
	r := auditOK(t, o)
	want(t, r, "auth.none", sevCritical)
	wantContains(t, want(t, r, "tls.disabled", sevCritical), "redis://", "production requires TLS")
	want(t, r, "auth.default-user", sevCritical)
	wantContains(t, want(t, r, "acl.dangerous-commands", sevError), "FLUSHALL", "CONFIG", "ACL DRYRUN")
	// default may run Lua, so the 2025 Lua CVEs are high on 7.0.15.
	wantContains(t, want(t, r, "server.version", sevError), "CVE-2025-49844", "default may run EVAL")
	want(t, r, "limits.maxclients", sevNotice)
	// Protected mode is on and the server binds loopback only.
	wantNone(t, r, "net.protected-mode", "net.bind-all", "tls.cert-expiry", "tls.client-auth", "audit.limited-visibility")

	// The same server under the development policy: plaintext is allowed
	// there, so tls.disabled is medium; the missing password stays critical.
	o.Environment = redsafe.Development
	r = auditOK(t, o)
	want(t, r, "tls.disabled", sevWarning)
	want(t, r, "auth.none", sevCritical)
}

func TestProtectedModeOffWithoutPassword(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true, ExtraConfig: []string{"protected-mode no"}})
	r := auditOK(t, redsafe.Options{Environment: redsafe.Development, URL: s.URL("", "")})
	want(t, r, "net.protected-mode", sevError)
	want(t, r, "auth.none", sevCritical)
}

// redisserver's default server: TLS, and a default user with a password and
// every command (requirepass style).
func TestDefaultUserWithEveryCommand(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantContains(t, want(t, r, "auth.default-user", sevWarning), "+@all")
	want(t, r, "acl.dangerous-commands", sevError)
	wantNone(t, r, "auth.none", "tls.disabled", "tls.cert-hostname", "tls.cert-expiry", "tls.cert-weak",
		"tls.cert-untrusted", "tls.old-protocol", "tls.plaintext-port", "auth.brute-force", "auth.weak-password",
		"limits.eviction", "config.dangerous-features", "tls.replication", "tls.cluster", "auth.replica-no-masterauth",
		"persistence.plaintext-dump", "audit.limited-visibility")
}

func TestWeakPassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		password string
		sev      redsafe.Severity
	}{
		{"Short-But-Valid-1234", sevError},        // 20 characters; production needs 48 and 256 bits
		{"change-me-in-production", sevCritical},  // a known placeholder
		{strings.Repeat("Ab3$", 13), sevCritical}, // one pattern repeated
	} {
		t.Run(string(c.sev)+"-"+itoa(len(c.password)), func(t *testing.T) {
			t.Parallel()
			s := redisserver.Start(t, redisserver.Config{Password: c.password})
			r := auditOK(t, tlsOptions(s, redsafe.Production, "", c.password))
			f := want(t, r, "auth.weak-password", c.sev)
			wantContains(t, f, "production requires at least 48 characters")
		})
	}
	// A password that meets the policy is not reported.
	s := redisserver.Start(t, redisserver.Config{})
	wantNone(t, auditOK(t, tlsOptions(s, redsafe.Production, "", s.Password)), "auth.weak-password")
}

func TestBruteForce(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	for i := 0; i < 6; i++ {
		c, err := resp.Dial(s.Addr, s.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		if reply, err := c.Do("AUTH", "default", "not-the-password"); err != nil || !strings.HasPrefix(reply, "-WRONGPASS") {
			t.Fatalf("AUTH with a wrong password: %q %v", reply, err)
		}
		c.Close()
	}
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password), "not-the-password")
	wantContains(t, want(t, r, "auth.brute-force", sevWarning), "6 failed authentications", "127.0.0.1")
}

func TestWrongPasswordStopsTheAudit(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	wrong := redsafe.GeneratePassword(redsafe.Production)
	r := audit(t, tlsOptions(s, redsafe.Development, "", wrong), s.Password)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "WRONGPASS") || !strings.Contains(r.Err.Error(), "REDIS_PASSWORD") {
		t.Fatalf("err = %v, want WRONGPASS naming REDIS_PASSWORD", r.Err)
	}
	// What was seen before the refusal is kept.
	want(t, r, "tls.client-auth", sevInfo)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	for _, url := range []string{"redis://127.0.0.1:" + itoa(port), "rediss://127.0.0.1:" + itoa(port)} {
		r := audit(t, redsafe.Options{Environment: redsafe.Testing, URL: url})
		if r.Err == nil || !strings.Contains(r.Err.Error(), "cannot connect") || len(r.Findings) != 0 {
			t.Errorf("%s: err = %v, findings %v", url, r.Err, r.Findings)
		}
	}
	if r := audit(t, redsafe.Options{}); r.Err == nil || !strings.Contains(r.Err.Error(), "REDIS_URL") {
		t.Errorf("no URL: err = %v", r.Err)
	}
	if r := audit(t, redsafe.Options{URL: "rediss://127.0.0.1:1/0?x=1"}); r.Err == nil || !strings.Contains(r.Err.Error(), "redsafe check") {
		t.Errorf("bad URL: err = %v", r.Err)
	}
}

// A rediss:// URL that reaches a plaintext server: tls.disabled, and the
// password is not sent in the clear.
func TestTLSURLToPlaintextServer(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true})
	authCalls := func() int {
		info := s.Do(t, "INFO", "commandstats")
		for _, line := range strings.Split(info, "\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_auth:calls="); ok {
				n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
				return n
			}
		}
		t.Fatalf("no cmdstat_auth in INFO commandstats")
		return 0
	}
	before := authCalls() // this Do authenticates once itself
	o := redsafe.Options{Environment: redsafe.Staging, URL: "rediss://" + s.Addr + "/0", Password: s.Password}
	r := auditWith(t, Target{Options: o, Timeout: time.Second})
	if r.Err != nil {
		t.Fatalf("audit: %v", r.Err)
	}
	wantContains(t, want(t, r, "tls.disabled", sevCritical), "rediss://", "answers plaintext RESP")
	f := want(t, r, "audit.limited-visibility", sevInfo)
	wantContains(t, f, "the password was not sent")
	// One more AUTH: the one of the harness's own INFO, none from the audit.
	if n, m := before, authCalls(); m != n+1 {
		t.Errorf("the audit sent AUTH over plaintext: %d AUTH calls before, %d after", n, m)
	}
}

// "redis://secret@host" is how redis-cli takes a password; redsafe reads a
// user name there, and the audit never shows it.
func TestURLUserWithoutPasswordIsNeverShown(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	secret := "Zq9-legacy-password-in-the-user-field"
	r := audit(t, redsafe.Options{Environment: redsafe.Development, URL: "redis://" + secret + "@" + s.Addr + "/0"}, secret)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "AUTH as the user named in the URL was refused") {
		t.Fatalf("err = %v", r.Err)
	}
	if !strings.Contains(r.Target, "xxxxx@") {
		t.Errorf("target %q", r.Target)
	}
}
