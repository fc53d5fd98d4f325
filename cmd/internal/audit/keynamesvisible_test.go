package audit

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
)

// An app user confined to orders:* as `redsafe conf --key-pattern` confines
// it still lists every key name with SCAN: reported, with the names seen
// outside its pattern.
func TestKeyNamesVisibleToAConfinedUser(t *testing.T) {
	t.Parallel()
	s, u := hardenedWith(t, redsafe.Development, "orders:*")
	for _, k := range []string{"orders:1", "sessions:alice@example.com", "sessions:bob@example.com"} {
		s.Do(t, "SET", k, "v")
	}
	app := tlsOptions(s, redsafe.Development, u.App.Name, u.App.Password)
	r := auditOK(t, app, u.Admin.Password)
	f := want(t, r, "acl.key-names-visible", sevWarning)
	wantContains(t, f, "app is confined to a key pattern", "may run SCAN", "here SCAN listed 2 key names outside its pattern")
	if strings.Contains(f.Evidence, "KEYS") {
		t.Errorf("the app user may not run KEYS: %s", f.Evidence)
	}
	if strings.Contains(dump(r), "alice") {
		t.Error("the report names a key")
	}

	// The same user without SCAN lists nothing: no finding.
	rules := strings.Fields(serverconf.AppRules("orders:*") + " -scan")
	s.Do(t, append([]string{"ACL", "SETUSER", "noscan", "on", ">" + u.App.Password}, rules...)...)
	wantNone(t, auditOK(t, tlsOptions(s, redsafe.Development, "noscan", u.App.Password), u.Admin.Password), "acl.key-names-visible")

	// An admin (every key) is not confined: nothing to report.
	wantNone(t, auditOK(t, tlsOptions(s, redsafe.Development, u.Admin.Name, u.Admin.Password), u.App.Password), "acl.key-names-visible")
}

// Confined, but nothing outside the pattern was seen: low.
func TestKeyNamesVisibleWithNothingOutside(t *testing.T) {
	t.Parallel()
	s, u := hardenedWith(t, redsafe.Development, "orders:*")
	s.Do(t, "SET", "orders:1", "v")
	r := auditOK(t, tlsOptions(s, redsafe.Development, u.App.Name, u.App.Password), u.Admin.Password)
	f := want(t, r, "acl.key-names-visible", sevNotice)
	if strings.Contains(f.Evidence, "here SCAN listed") {
		t.Errorf("no name outside the pattern exists: %s", f.Evidence)
	}
	// The app user of `redsafe up` (pattern *) is not confined.
	s2, u2 := hardened(t, redsafe.Development)
	wantNone(t, auditOK(t, tlsOptions(s2, redsafe.Development, u2.App.Name, u2.App.Password), u2.Admin.Password), "acl.key-names-visible")
}
