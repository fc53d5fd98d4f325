package redisurl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw  string
		want URL
	}{
		{"rediss://localhost", URL{TLS: true, Host: "localhost", Port: 6379}},
		{"redis://127.0.0.1:6380/2", URL{Host: "127.0.0.1", Port: 6380, DB: 2}},
		{"rediss://app:s3cret@redis:6380/0", URL{TLS: true, Username: "app", Password: "s3cret", HasPassword: true, Host: "redis", Port: 6380}},
		{"rediss://:onlypass@redis", URL{TLS: true, Password: "onlypass", HasPassword: true, Host: "redis", Port: 6379}},
		{"rediss://onlyuser@redis", URL{TLS: true, Username: "onlyuser", Host: "redis", Port: 6379}},
		{"rediss://[::1]:6390/3", URL{TLS: true, Host: "::1", Port: 6390, DB: 3}},
		{"REDISS://h", URL{TLS: true, Host: "h", Port: 6379}},
		// Unencoded '@', ':' and '%' in the password.
		{"rediss://app:p@ss:w%rd@h:1/", URL{TLS: true, Username: "app", Password: "p@ss:w%rd", HasPassword: true, Host: "h", Port: 1}},
		// Encoded forms decode.
		{"rediss://app:p%40ss%3Aw%25rd@h", URL{TLS: true, Username: "app", Password: "p@ss:w%rd", HasPassword: true, Host: "h", Port: 6379}},
		{"rediss://app:a/b@h/4", URL{TLS: true, Username: "app", Password: "a/b", HasPassword: true, Host: "h", Port: 6379, DB: 4}},
		// More nodes of a cluster.
		{"rediss://app@n1:7000?addr=n2:7001&addr=[::1]:7002&addr=n4", URL{TLS: true, Username: "app", Host: "n1", Port: 7000,
			Addrs: []string{"n2:7001", "[::1]:7002", "n4:6379"}}},
		{"rediss://app:pw@n1:7000/0?addr=n2:7001", URL{TLS: true, Username: "app", Password: "pw", HasPassword: true, Host: "n1", Port: 7000,
			Addrs: []string{"n2:7001"}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.raw, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, raw := range []string{
		"", "localhost:6379", "http://h", "unix:///tmp/redis.sock", "rediss://", "rediss://:pw@",
		"rediss://h:0", "rediss://h:99999", "rediss://h:port", "rediss://h/x", "rediss://h/-1",
		"rediss://::1:6379", "rediss://[::1", "rediss://h?ssl_cert_reqs=none",
		"rediss://h?addr=", "rediss://h?addr=n2:99999", "rediss://h?addr=n2:1&password=x", "rediss://h?addr", "rediss://h?",
		"rediss://h!:6379", "rediss://h:+80", "rediss://h/+1", "rediss://[h]:6379", "rediss://a b", "rediss://h%20", "rediss://[::1]x",
	} {
		_, err := Parse(raw)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", raw, err)
		}
	}
}

// TestParseErrorHidesPassword covers the places a password ends up when a
// URL is written wrongly: the error shows the scheme and the host only.
func TestParseErrorHidesPassword(t *testing.T) {
	const pw = "Sup3r:S@cr%t-Zq9"
	const pwPlain = "Zq9xK2mW7pLr4vNt"
	for _, tc := range []struct{ raw, secret, shown string }{
		{"rediss://app:" + pw + "@h:notaport/0", pw, `"rediss://h"`},
		{"rediss://h:6380/0?password=" + pwPlain, pwPlain, `"rediss://h"`},
		{"redis://:" + pwPlain, pwPlain, `"redis://"`},                // missing host
		{"rediss://app:" + pwPlain + "/0", pwPlain, `"rediss://app"`}, // the password read as a port
		{"rediss://app:" + pwPlain, pwPlain, `"rediss://app"`},
		{"rediss://h/" + pwPlain, pwPlain, `"rediss://h"`},         // read as a database
		{"rediss://[::1]x" + pwPlain, pwPlain, `"rediss://[::1]"`}, // after an IPv6 host
		{"rediss://" + pwPlain + "!", pwPlain, `"rediss://"`},      // not a host name
		{pwPlain, pwPlain, ""}, // no scheme: maybe a secret whole
	} {
		_, err := Parse(tc.raw)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", tc.raw, err)
			continue
		}
		msg := err.Error()
		for i := 0; i+6 <= len(tc.secret); i++ {
			if strings.Contains(msg, tc.secret[i:i+6]) {
				t.Errorf("Parse(%q): error leaks the password: %v", tc.raw, msg)
				break
			}
		}
		if tc.shown != "" && !strings.HasPrefix(msg, "invalid Redis URL "+tc.shown+": ") {
			t.Errorf("Parse(%q): error %q does not show %s", tc.raw, msg, tc.shown)
		}
		if tc.shown == "" && !strings.HasPrefix(msg, "invalid Redis URL: ") {
			t.Errorf("Parse(%q): error %q shows part of the text", tc.raw, msg)
		}
		if got := Redact(tc.raw); strings.Contains(got, tc.secret[:6]) {
			t.Errorf("Redact(%q) = %q", tc.raw, got)
		}
	}
	// A password without its '@' gets a hint that says where it goes.
	for _, raw := range []string{"redis://:" + pwPlain, "rediss://app:" + pwPlain + "/0"} {
		if _, err := Parse(raw); !strings.Contains(err.Error(), "rediss://user:password@host") {
			t.Errorf("Parse(%q) = %v, want the hint", raw, err)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"rediss://app:hunter2@h:6380/1", "rediss://app:xxxxx@h:6380/1"},
		{"rediss://:hunter2@h", "rediss://:xxxxx@h"},
		{"rediss://app:p@ss:w%rd@h:1/0", "rediss://app:xxxxx@h:1/0"},
		{"rediss://app:p%40ss%3A%25@h", "rediss://app:xxxxx@h"},
		{"rediss://app:@@@:::%%%@h/0", "rediss://app:xxxxx@h/0"},
		{"rediss://lonesecret@h", "rediss://xxxxx@h"},
		{"rediss://h:6380/0", "rediss://h:6380/0"},
		{"rediss://app:hunter2@n1:7000/0?addr=n2:7001&addr=n3:7002", "rediss://app:xxxxx@n1:7000/0?addr=n2:7001&addr=n3:7002"},
		{"rediss://app:hunter2@n1:7000?addr=n2:7001&password=hunter2", "rediss://n1"},
		{"", ""},
		// What does not parse is shown as its scheme and host only.
		{"not a url", ""},
		{"app:pw@h", ""},
		{"rediss://app:pw@h?x=1", "rediss://h"},
		{"rediss://h:6380/0?password=pw", "rediss://h"},
		{"redis://:pw", "redis://"},
		{"rediss://app:pw/0", "rediss://app"},
		{"http://app:pw@web.example:80/x", "http://web.example"},
		{"ht tp://h", ""},
		{"unix://app:pw@/tmp/s", "unix://"},
		{"rediss://[::1]:pw", "rediss://[::1]"},
		{"rediss://[not-ip]:6379", "rediss://"},
	}
	for _, tt := range tests {
		if got := Redact(tt.raw); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// FuzzRedact checks the property that matters: whatever the password holds,
// redaction removes exactly it, and neither Redact nor a parse error shows
// it, wherever in the URL it was put.
func FuzzRedact(f *testing.F) {
	f.Add("app", "p@ss:w%rd", "h:6380/0")
	f.Add("", "x", "[::1]")
	f.Add("app", "Zq9xK2mW7pLr4vNt", "h:6380/0")
	f.Add("", "hunter2hunter2", "h")
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		if strings.ContainsAny(user, ":@") || strings.Contains(rest, "@") {
			return // not a URL with exactly this userinfo
		}
		raw := "rediss://" + user + ":" + pass + "@" + rest
		// Everything but the password survives, so the password cannot.
		u, err := Parse(raw)
		if err == nil {
			if got, want := Redact(raw), "rediss://"+user+":xxxxx@"+rest; got != want {
				t.Fatalf("Redact(%q) = %q, want %q", raw, got, want)
			}
			if !strings.Contains(pass, "%") && u.Password != pass {
				t.Fatalf("Parse(%q).Password = %q, want %q", raw, u.Password, pass)
			}
		}
		// The password in the wrong places: a query, a port, no host. Only
		// a password that a printed form could not hold anyway is checked:
		// long enough, not all digits (then it is a port) and not text the
		// URL or the messages hold elsewhere.
		if len(pass) < 8 || strings.Trim(pass, "0123456789") == "" || strings.ContainsAny(pass, "@/?") ||
			strings.Contains(user+rest, pass) {
			return
		}
		host := "h"
		if isHostName(rest) && rest != "" {
			host = rest
		}
		shapes := []func(pw string) string{
			func(pw string) string { return "rediss://" + user + ":" + pw + "@" + rest },
			func(pw string) string { return "rediss://" + host + ":6380/0?password=" + pw },
			func(pw string) string { return "redis://:" + pw },
			func(pw string) string { return "rediss://" + host + ":" + pw + "/0" },
			func(pw string) string { return "rediss://" + host + "/" + pw },
			func(pw string) string { return pw },
		}
		shown := func(raw string) string {
			out := Redact(raw)
			if _, err := Parse(raw); err != nil {
				out += "\n" + err.Error()
			}
			return out
		}
		for _, shape := range shapes {
			// Text that is printed whatever the password (the host, the
			// messages) is not a leak of this one.
			if got := shown(shape(pass)); strings.Contains(got, pass) && !strings.Contains(shown(shape("\x00")), pass) {
				t.Fatalf("%q shows the password: %s", shape(pass), got)
			}
		}
	})
}

// master_set= names the master the Sentinels (the host and each addr=)
// monitor; it is given once, as a plain name, and is kept by Redact.
func TestMasterSet(t *testing.T) {
	u, err := Parse("rediss://app:pw@10.0.0.1:26379/2?master_set=cache-1&addr=10.0.0.2:26379")
	if err != nil || u.MasterSet != "cache-1" || u.DB != 2 || len(u.Addrs) != 1 || u.Addr() != "10.0.0.1:26379" {
		t.Fatalf("Parse = %+v, %v", u, err)
	}
	if r := Redact("rediss://app:pw@10.0.0.1:26379/2?master_set=cache-1"); strings.Contains(r, "pw") || !strings.Contains(r, "master_set=cache-1") {
		t.Errorf("Redact = %q", r)
	}
	for _, raw := range []string{
		"rediss://h:26379?master_set=a&master_set=b",
		"rediss://h:26379?master_set=",
		"rediss://h:26379?master_set=a%20b",
		"rediss://h:26379?master_set=" + strings.Repeat("x", 65),
		"rediss://h:26379?password=x",
	} {
		if _, err := Parse(raw); err == nil {
			t.Errorf("%s parsed", raw)
		}
	}
}
