package redisserver

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         `"plain"`,
		`a "b" \c`:      `"a \"b\" \\c"`,
		"nl\nx\x00\xff": `"nl\x0ax\x00\xff"`,
	} {
		if got := ConfQuote(in); got != want {
			t.Errorf("ConfQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestNormalizeRejectsContradictions(t *testing.T) {
	for name, c := range map[string]Config{
		"noauth+password":  {NoAuth: true, Password: "x"},
		"disable w/o user": {DisableDefaultUser: true},
		"plaintext+mtls":   {Plaintext: true, MutualTLS: true},
		"newline in rules": {Users: []User{{Name: "u", Rules: "+@all\nuser evil on nopass"}}},
		"space in name":    {Users: []User{{Name: "a b"}}},
	} {
		if _, err := c.normalize(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestACLFileHashesPasswords(t *testing.T) {
	c, err := Config{Password: "root", Users: []User{{Name: "u", Password: "pw", Rules: "+get"}, {Name: "open"}}}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	got := aclFile(c)
	want := "user default on " + passHash("root") + " ~* &* +@all\n" +
		"user u on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 +get\n" +
		"user open on nopass\n"
	if got != want {
		t.Errorf("aclFile:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "root") || strings.Contains(got, " pw") {
		t.Error("plaintext password in ACL file")
	}
}
