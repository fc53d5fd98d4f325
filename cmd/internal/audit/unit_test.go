package audit

import (
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/report"
	"slices"
	"strings"
	"testing"
)

func TestAdvisoryTable(t *testing.T) {
	advisories, err := loadAdvisories()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]advisory{}
	for _, a := range advisories {
		byID[a.ID] = a
		for _, src := range a.Sources {
			if !strings.HasPrefix(src, "https://") {
				t.Errorf("%s: source %q is not an https URL", a.ID, src)
			}
		}
	}
	lua2025 := []string{"6.2.20", "7.2.11", "7.4.6", "8.0.4", "8.2.2"}
	for _, id := range []string{"CVE-2025-49844", "CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819"} {
		a, ok := byID[id]
		if !ok {
			t.Errorf("%s is missing", id)
			continue
		}
		if !slices.Equal(a.Fixed, lua2025) || a.Reach != "lua" {
			t.Errorf("%s: fixed %v reach %s, want %v lua", id, a.Fixed, a.Reach, lua2025)
		}
	}
}

func TestAdvisoryAffects(t *testing.T) {
	a := advisory{ID: "X", Introduced: "2.6.0", Fixed: []string{"6.2.20", "7.2.11", "7.4.6", "8.0.4", "8.2.2"}}
	for _, c := range []struct {
		version string
		hit     bool
		fix     string
	}{
		{"7.0.15", true, "7.2.11"}, // 7.0 never got the fix
		{"7.2.10", true, "7.2.11"},
		{"7.2.11", false, ""},
		{"7.4.5", true, "7.4.6"},
		{"7.4.7", false, ""},
		{"8.1.3", true, "8.2.2"},
		{"8.2.1", true, "8.2.2"},
		{"8.2.2", false, ""},
		{"8.4.0", false, ""}, // released after the fix
		{"6.0.20", true, "6.2.20"},
		{"6.2.19", true, "6.2.20"},
		{"2.4.17", false, ""}, // before Lua
		{"5.0", true, "6.2.20"},
	} {
		v, ok := parseVersion(c.version)
		if !ok {
			t.Fatalf("parseVersion(%q) failed", c.version)
		}
		hit, fix := a.affects(v)
		if hit != c.hit || (hit && fix.String() != c.fix) {
			t.Errorf("%s: affected %v fix %s, want %v %s", c.version, hit, fix, c.hit, c.fix)
		}
	}
	for _, bad := range []string{"", "7", "7.x.1", "7.0.15.1", "-1.0"} {
		if _, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q) accepted", bad)
		}
	}
}

func TestKeyNames(t *testing.T) {
	for _, c := range []struct {
		name string
		kind int // index in keyNamePatterns, -1 for none
	}{
		{"session:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", 0},
		{"auth:Bearer abcdefghijklmnop0123", 1},
		{"aws:AKIAABCDEFGHIJKLMNOP", 1},
		{"user:bob.smith+tag@mail.example.org:profile", 2},
		{"sess:3f9a1c7be2d84a6f91b05c2e", 3},
		{"tok:Zk3_qP9-xR2mW8vN4bT6yL1sD7hJ0cF5", 3},
		{"user:42:profile", -1},
		{"cache:product:category:electronics:page:0001", -1},
		{"rate-limit:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -1}, // long, not random
		{"numbers:123456789012345678901234567890", -1},      // digits only: too little entropy per character
	} {
		var k keyNameFindings
		k.look(c.name)
		got := slices.IndexFunc(k.count[:], func(n int) bool { return n > 0 })
		if got != c.kind {
			t.Errorf("%q: kind %d, want %d", c.name, got, c.kind)
		}
	}
}

// The audit's examples of secret-looking key names go through the one
// masking (keyname.Mask): nothing of the secret parts is shown.
func TestKeyNameExampleHidesEverySecret(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
	name := "u:carol@example.com:s:" + jwt + ":3f9a1c7be2d84a6f91b05c2e\n"
	var k keyNameFindings
	k.look(name)
	f := k.finding()
	if f == nil {
		t.Fatal("no finding for a name holding an email, a JWT and a random string")
	}
	for _, secret := range []string{"carol", "example.com", "eyJ", "3f9a1c", "\n"} {
		if strings.Contains(f.Evidence, secret) {
			t.Errorf("the example shows %q: %s", secret, f.Evidence)
		}
	}
	if !strings.Contains(f.Evidence, "u:…(") {
		t.Errorf("evidence = %s, want the masked name u:…(N bytes)", f.Evidence)
	}
}

func TestSeverityOrder(t *testing.T) {
	r := &Report{Findings: []Finding{{ID: "b", Severity: sevNotice}, {ID: "z", Severity: sevCritical}, {ID: "a", Severity: sevNotice}, {ID: "m", Severity: sevInfo}, {ID: "c", Severity: sevError}}}
	r.finish()
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != "z,c,a,b,m" {
		t.Errorf("order %v", ids)
	}
	if r.Summary != (report.Summary{Critical: 1, Error: 1, Notice: 2, Info: 1}) {
		t.Errorf("summary %+v", r.Summary)
	}
	if len(r.Worst(sevError)) != 2 || len(r.Worst(sevCritical)) != 1 || len(r.Worst(sevInfo)) != 5 {
		t.Error("Worst counts wrong")
	}
	for _, bad := range []string{"", "severe", "hi"} {
		if _, err := redsafe.ParseSeverity(bad); err == nil {
			t.Errorf("redsafe.ParseSeverity(%q) accepted", bad)
		}
	}
	if s, err := redsafe.ParseSeverity(" MEDIUM "); err != nil || s != sevWarning {
		t.Errorf("redsafe.ParseSeverity(MEDIUM) = %q, %v", s, err)
	}
}
