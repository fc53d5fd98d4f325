package redsafe

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/redisserver"
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
	os.Chmod(readable, 0o644)
	weak := write("weak", "x7Kp2mQ9\n", 0o600)
	empty := write("empty", "\n", 0o600)
	twoLines := write("two-lines", testPassword+"\nsecond-line\n", 0o600)
	control := write("control", testPassword+"\x1b[0m\n", 0o600)
	foreign := write("foreign", testPassword+"\n", 0o600)
	if err := os.Chown(foreign, 65534, 65534); err != nil {
		t.Fatalf("chown (tests run as root): %v", err)
	}

	for _, tc := range []struct {
		name       string
		env        Environment // "" => production
		modify     func(o *Options)
		want, warn []string
	}{
		{"file only", "", func(o *Options) { o.Password, o.PasswordFile = "", good }, nil, nil},
		{"file and password", "", func(o *Options) { o.PasswordFile = good }, []string{"auth.password-conflict"}, nil},
		{"file and password in URL", "", func(o *Options) {
			o.Password, o.PasswordFile, o.URL = "", good, "rediss://app:"+testPassword+"@h/0"
		}, []string{"auth.password-conflict"}, nil},
		{"missing file", "", func(o *Options) { o.Password, o.PasswordFile = "", filepath.Join(dir, "nope") }, []string{"auth.password-file"}, nil},
		{"empty file", "", func(o *Options) { o.Password, o.PasswordFile = "", empty }, []string{"auth.password-file"}, nil},
		{"weak password in file", "", func(o *Options) { o.Password, o.PasswordFile = "", weak }, []string{"auth.password-short", "auth.password-weak"}, nil},
		{"two lines", "", func(o *Options) { o.Password, o.PasswordFile = "", twoLines }, []string{"auth.password-file"}, nil},
		{"control character", "", func(o *Options) { o.Password, o.PasswordFile = "", control }, []string{"auth.password-file"}, nil},
		// Production and staging refuse a file others can read or another
		// user owns; development and testing warn (the policy table).
		{"readable file", "", func(o *Options) { o.Password, o.PasswordFile = "", readable }, []string{"auth.password-file-mode"}, nil},
		{"readable file, staging", Staging, func(o *Options) { o.Password, o.PasswordFile = "", readable }, []string{"auth.password-file-mode"}, nil},
		{"readable file, development", Development, func(o *Options) { o.Password, o.PasswordFile = "", readable }, nil, []string{"auth.password-file-mode"}},
		{"another user's file", "", func(o *Options) { o.Password, o.PasswordFile = "", foreign }, []string{"auth.password-file-mode"}, nil},
		{"another user's file, testing", Testing, func(o *Options) { o.Password, o.PasswordFile = "", foreign }, nil, []string{"auth.password-file-mode"}},
	} {
		env := tc.env
		if env == "" {
			env = Production
		}
		o := validOptions(env)
		tc.modify(&o)
		r := Validate(o)
		if got := ids(r.Errors()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: errors %v, want %v", tc.name, got, tc.want)
		}
		if got := ids(r.Warnings()); !slices.Equal(got, tc.warn) {
			t.Errorf("%s: warnings %v, want %v", tc.name, got, tc.warn)
		}
		for _, f := range r.Findings {
			if strings.Contains(f.Message+f.Fix, testPassword) || strings.Contains(f.Message+f.Fix, "x7Kp2mQ9") || strings.Contains(f.Message+f.Fix, "second-line") {
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
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{{Name: "app", Password: first, Rules: "~* +@all"}}})
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

// A Kubernetes secret volume with fsGroup: NAME is a link to ..data/NAME,
// ..data a link to a timestamped directory, the file root-owned 0440. It is
// accepted in production; the same volume with the default 0644 is not.
func TestPasswordFileKubernetesVolume(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a root-owned file")
	}
	root := t.TempDir()
	os.Chmod(root, os.ModeSticky|0o777)
	ts := filepath.Join(root, "..2026_12_02_10_00_00.1")
	if err := os.Mkdir(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(ts, "password")
	if err := os.WriteFile(file, []byte(testPassword+"\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	os.Chmod(file, 0o440)
	os.Symlink(filepath.Base(ts), filepath.Join(root, "..data"))
	link := filepath.Join(root, "password")
	os.Symlink("..data/password", link)

	o := validOptions(Production)
	o.Password, o.PasswordFile = "", link
	if r := Validate(o); len(r.Errors())+len(r.Warnings()) != 0 {
		t.Fatalf("Kubernetes volume with defaultMode 0440: %v %v", ids(r.Errors()), ids(r.Warnings()))
	}
	os.Chmod(file, 0o644)
	r := Validate(o)
	if got := ids(r.Errors()); !slices.Equal(got, []string{"auth.password-file-mode"}) {
		t.Fatalf("Kubernetes volume with 0644: errors %v", got)
	}
	if f := r.Errors()[0]; !strings.Contains(f.Message, "has mode 0644") || !strings.Contains(f.Fix, "defaultMode 0440") {
		t.Fatalf("finding %q / %q", f.Message, f.Fix)
	}
}
