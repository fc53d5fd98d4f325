package redisserver

import (
	"os"
	"strings"
	"testing"
)

func TestACLUsers(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Users: []User{{Name: "app", Password: "app-secret", Rules: "~app:* +@all -@dangerous"}}})
	cfg := s.TLSConfig()
	login := cmd("AUTH", "app", "app-secret")

	if got := last(t)(raw(t, s.Addr, cfg, login, cmd("FLUSHALL"))); !strings.HasPrefix(got, "-NOPERM") {
		t.Errorf("FLUSHALL as app = %q, want -NOPERM", got)
	}
	if got := last(t)(raw(t, s.Addr, cfg, login, cmd("SET", "app:x", "1"))); got != "+OK" {
		t.Errorf("SET app:x = %q", got)
	}
	if got := last(t)(raw(t, s.Addr, cfg, login, cmd("SET", "other:x", "1"))); !strings.HasPrefix(got, "-NOPERM") {
		t.Errorf("SET other:x = %q, want -NOPERM", got)
	}
	// The default user keeps its (generated) password alongside ACL users.
	if got := s.Do(t, "GET", "app:x"); got != "1" {
		t.Errorf("default user GET app:x = %q", got)
	}
	acl, err := os.ReadFile(s.files.acl)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(acl), "app-secret") || strings.Contains(string(acl), s.Password) {
		t.Errorf("plaintext password in ACL file:\n%s", acl)
	}
}

func TestDisableDefaultUser(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{
		DisableDefaultUser: true,
		Users:              []User{{Name: "admin", Password: "admin-pw", Rules: "~* &* +@all"}},
	})
	if got := last(t)(raw(t, s.Addr, s.TLSConfig(), cmd("AUTH", "default", s.Password))); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Errorf("AUTH default = %q, want -WRONGPASS", got)
	}
	if got := s.Do(t, "ACL", "WHOAMI"); got != "admin" { // Do uses Users[0]
		t.Errorf("Do ran as %q", got)
	}
}

func TestNoAuth(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{NoAuth: true})
	if s.Password != "" {
		t.Errorf("Password = %q", s.Password)
	}
	if got := last(t)(raw(t, s.Addr, s.TLSConfig(), cmd("PING"))); got != "+PONG" {
		t.Errorf("PING without AUTH = %q", got)
	}
}
