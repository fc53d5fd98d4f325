package redisurl

import (
	"errors"
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
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.raw, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, raw := range []string{
		"", "localhost:6379", "http://h", "unix:///tmp/redis.sock", "rediss://", "rediss://:pw@",
		"rediss://h:0", "rediss://h:99999", "rediss://h:port", "rediss://h/x", "rediss://h/-1",
		"rediss://::1:6379", "rediss://[::1", "rediss://h?ssl_cert_reqs=none",
	} {
		_, err := Parse(raw)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", raw, err)
		}
	}
}

func TestParseErrorHidesPassword(t *testing.T) {
	const pw = "Sup3r:S@cr%t"
	_, err := Parse("rediss://app:" + pw + "@h:notaport/0")
	if err == nil {
		t.Fatal("bad port accepted")
	}
	if strings.Contains(err.Error(), "S@cr") || strings.Contains(err.Error(), "Sup3r") {
		t.Fatalf("error leaks the password: %v", err)
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
		{"not a url", "not a url"},
		{"app:pw@h", "app:xxxxx@h"},
		{"rediss://app:pw@h?x=1", "rediss://app:xxxxx@h?x=1"},
	}
	for _, tt := range tests {
		if got := Redact(tt.raw); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// FuzzRedact checks the property that matters: whatever the password holds,
// redaction removes exactly it.
func FuzzRedact(f *testing.F) {
	f.Add("app", "p@ss:w%rd", "h:6380/0")
	f.Add("", "x", "[::1]")
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		if strings.ContainsAny(user, ":@") || strings.Contains(rest, "@") {
			return // not a URL with exactly this userinfo
		}
		raw := "rediss://" + user + ":" + pass + "@" + rest
		// Everything but the password survives, so the password cannot.
		if got, want := Redact(raw), "rediss://"+user+":xxxxx@"+rest; got != want {
			t.Fatalf("Redact(%q) = %q, want %q", raw, got, want)
		}
		if u, err := Parse(raw); err == nil && !strings.Contains(pass, "%") && u.Password != pass {
			t.Fatalf("Parse(%q).Password = %q, want %q", raw, u.Password, pass)
		}
	})
}
