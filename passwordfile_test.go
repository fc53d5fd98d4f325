package redsafe

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/redistest"
)

func TestPasswordFileValidation(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", testPassword+"\n", 0o600)
	readable := write("readable", testPassword+"\n", 0o644)
	weak := write("weak", "x7Kp2mQ9\n", 0o600)
	empty := write("empty", "\n", 0o600)

	for _, tc := range []struct {
		name       string
		modify     func(o *Options)
		want, warn []string
	}{
		{"file only", func(o *Options) { o.Password, o.PasswordFile = "", good }, nil, nil},
		{"file and password", func(o *Options) { o.PasswordFile = good }, []string{"auth.password-conflict"}, nil},
		{"file and password in URL", func(o *Options) {
			o.Password, o.PasswordFile, o.URL = "", good, "rediss://app:"+testPassword+"@h/0"
		}, []string{"auth.password-conflict"}, nil},
		{"missing file", func(o *Options) { o.Password, o.PasswordFile = "", filepath.Join(dir, "nope") }, []string{"auth.password-file"}, nil},
		{"empty file", func(o *Options) { o.Password, o.PasswordFile = "", empty }, []string{"auth.password-file"}, nil},
		{"weak password in file", func(o *Options) { o.Password, o.PasswordFile = "", weak }, []string{"auth.password-short", "auth.password-weak"}, nil},
		{"readable file", func(o *Options) { o.Password, o.PasswordFile = "", readable }, nil, []string{"auth.password-file-mode"}},
	} {
		o := validOptions(Production)
		tc.modify(&o)
		r := Validate(o)
		if got := ids(r.Errors()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: errors %v, want %v", tc.name, got, tc.want)
		}
		if got := ids(r.Warnings()); !slices.Equal(got, tc.warn) {
			t.Errorf("%s: warnings %v, want %v", tc.name, got, tc.warn)
		}
		for _, f := range r.Findings {
			if strings.Contains(f.Message+f.Fix, testPassword) || strings.Contains(f.Message+f.Fix, "x7Kp2mQ9") {
				t.Errorf("%s: finding %s contains the password", tc.name, f.ID)
			}
		}
	}
}

// The file is read again for every new connection: after the password
// changes on the server and in the file, a reconnect uses the new one.
func TestPasswordFileIsReadPerConnection(t *testing.T) {
	t.Parallel()
	first := GeneratePassword(Production)
	s := redistest.Start(t, redistest.Config{Users: []redistest.User{{Name: "app", Password: first, Rules: "~* +@all"}}})
	file := filepath.Join(t.TempDir(), "redis.password")
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := serverOptions(s)
	o.URL, o.Password, o.PasswordFile = s.URL("app", ""), "", file
	c := openCache(t, o)
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}

	second := GeneratePassword(Production)
	if err := os.WriteFile(file, []byte(second+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Do(t, "ACL", "SETUSER", "app", "resetpass", ">"+second)
	if reply := s.Do(t, "CLIENT", "KILL", "USER", "app"); reply == ":0" {
		t.Fatal("no connection of app was open to kill")
	}

	if got, err := c.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get after the password changed and connections were killed: %q, %v", got, err)
	}
}
