package serverconf

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
)

// validSpec is a Spec that passes normalize, with host-style paths.
func validSpec() Spec {
	return Spec{TLSDir: "/srv/redis/tls", ACLFile: "/srv/redis/users.acl", DataDir: "/srv/redis/data"}
}

func TestSpecDefaults(t *testing.T) {
	t.Parallel()
	s, err := validSpec().normalize()
	if err != nil {
		t.Fatal(err)
	}
	if s.Environment != redsafe.Production || s.Port != DefaultPort || s.MaxClients != DefaultMaxClients ||
		s.MaxMemory != DefaultMaxMemory || s.KeyPattern != DefaultKeyPattern ||
		strings.Join(s.Bind, " ") != "127.0.0.1 -::1" {
		t.Fatalf("defaults not applied: %+v", s)
	}
	if s.CAFile() != "/srv/redis/tls/ca.crt" || s.CertFile() != "/srv/redis/tls/server.crt" || s.KeyFile() != "/srv/redis/tls/server.key" {
		t.Fatalf("TLS files: %s %s %s", s.CAFile(), s.CertFile(), s.KeyFile())
	}
}

// TestSpecEnvironmentFailsClosed: anything that is not a known
// non-production environment gets production's TLS 1.3 only.
func TestSpecEnvironmentFailsClosed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  redsafe.Environment
		want string
	}{
		{"", "TLSv1.3"},
		{redsafe.Production, "TLSv1.3"},
		{"prod", "TLSv1.3"},        // an alias is not parsed here: production
		{"Development", "TLSv1.3"}, // nor is another spelling
		{"qa", "TLSv1.3"},
		{redsafe.Staging, "TLSv1.2 TLSv1.3"},
		{redsafe.Development, "TLSv1.2 TLSv1.3"},
		{redsafe.Testing, "TLSv1.2 TLSv1.3"},
	} {
		s := validSpec()
		s.Environment = tt.env
		if got := s.TLSProtocols(); got != tt.want {
			t.Errorf("%q: TLSProtocols = %q, want %q", tt.env, got, tt.want)
		}
		conf, err := RedisConf(s)
		if err != nil {
			t.Fatal(err)
		}
		if line := `tls-protocols "` + tt.want + `"`; !hasLine(conf, line) {
			t.Errorf("%q: redis.conf lacks %s", tt.env, line)
		}
		if hasTLS12Ciphers := strings.Contains(string(conf), "\ntls-ciphers "); hasTLS12Ciphers != (tt.want != "TLSv1.3") {
			t.Errorf("%q: tls-ciphers present = %v", tt.env, hasTLS12Ciphers)
		}
	}
}

// TestSpecRefused: every input that would change the meaning of a config
// file, or make the server unsafe, is refused with the field named.
func TestSpecRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		modify func(*Spec)
		want   string
	}{
		{"negative port", func(s *Spec) { s.Port = -1 }, "port -1 is out of range"},
		{"port too large", func(s *Spec) { s.Port = 65536 }, "port 65536 is out of range"},
		{"host name bind", func(s *Spec) { s.Bind = []string{"localhost"} }, `bind address "localhost"`},
		{"bind with a second directive", func(s *Spec) { s.Bind = []string{"127.0.0.1\nport 6379"} }, "bind address"},
		{"bind with a space", func(s *Spec) { s.Bind = []string{"127.0.0.1 0.0.0.0"} }, "bind address"},
		{"missing TLSDir", func(s *Spec) { s.TLSDir = "" }, "TLSDir is required"},
		{"missing ACLFile", func(s *Spec) { s.ACLFile = "" }, "ACLFile is required"},
		{"missing DataDir", func(s *Spec) { s.DataDir = "" }, "DataDir is required"},
		{"relative TLSDir", func(s *Spec) { s.TLSDir = "certs" }, `TLSDir "certs" must be absolute`},
		{"relative pid file", func(s *Spec) { s.PidFile = "redis.pid" }, "PidFile"},
		{"quote in path", func(s *Spec) { s.ACLFile = `/srv/a"cl` }, "quote or backslash"},
		{"single quote in path", func(s *Spec) { s.DataDir = `/srv/it's` }, "quote or backslash"},
		{"backslash in path", func(s *Spec) { s.DataDir = `/srv/a\x` }, "quote or backslash"},
		{"backtick in path", func(s *Spec) { s.LogFile = "/srv/`id`" }, "quote or backslash"},
		{"newline in path", func(s *Spec) { s.DataDir = "/srv/data\nenable-debug-command yes" }, "newline or control character"},
		{"DEL in path", func(s *Spec) { s.TLSDir = "/srv/tls\x7f" }, "control character"},
		{"negative maxclients", func(s *Spec) { s.MaxClients = -5 }, "MaxClients -5"},
		{"unlimited memory", func(s *Spec) { s.MaxMemory = "0" }, `MaxMemory "0"`},
		{"unlimited memory with unit", func(s *Spec) { s.MaxMemory = "000mb" }, `MaxMemory "000mb"`},
		{"negative memory", func(s *Spec) { s.MaxMemory = "-1" }, "MaxMemory"},
		{"unknown unit", func(s *Spec) { s.MaxMemory = "1tb" }, "MaxMemory"},
		{"memory with a second directive", func(s *Spec) { s.MaxMemory = "1gb maxmemory-policy allkeys-lru" }, "MaxMemory"},
		{"key pattern with rules", func(s *Spec) { s.KeyPattern = "* +@all" }, "must not contain spaces"},
		{"key pattern with a tab", func(s *Spec) { s.KeyPattern = "svc:*\t+@all" }, "must not contain spaces"},
		{"key pattern with a newline", func(s *Spec) { s.KeyPattern = "svc:*\nuser evil on nopass +@all" }, "must not contain spaces"},
		{"key pattern with ACL prefix", func(s *Spec) { s.KeyPattern = "~svc:*" }, "without the ACL prefix"},
		{"key pattern with read prefix", func(s *Spec) { s.KeyPattern = "%R~*" }, "without the ACL prefix"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.modify(&s)
			for what, render := range map[string]func() error{
				"RedisConf": func() error { _, err := RedisConf(s); return err },
				"ACL":       func() error { _, err := ACL(s, NewUsers(s.Environment)); return err },
			} {
				err := render()
				if err == nil {
					t.Fatalf("%s accepted %+v", what, s)
				}
				if !strings.HasPrefix(err.Error(), "serverconf: ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s error %q does not say %q", what, err, tt.want)
				}
			}
		})
	}
}

// TestSpecAccepted: values that look unusual but are valid are kept.
func TestSpecAccepted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		modify func(*Spec)
		line   string
	}{
		{"bind list", func(s *Spec) { s.Bind = []string{"10.0.0.5", "-::1", "*", "::*"} }, "bind 10.0.0.5 -::1 * ::*"},
		{"space in a path", func(s *Spec) { s.DataDir = "/srv/my redis" }, `dir "/srv/my redis"`},
		{"non-ASCII path", func(s *Spec) { s.DataDir = "/srv/rédis" }, `dir "/srv/r\xc3\xa9dis"`},
		{"memory in gigabytes", func(s *Spec) { s.MaxMemory = "2GB" }, "maxmemory 2GB"},
		{"memory in bytes", func(s *Spec) { s.MaxMemory = "1048576" }, "maxmemory 1048576"},
		{"port", func(s *Spec) { s.Port = 16380 }, "tls-port 16380"},
		{"maxclients", func(s *Spec) { s.MaxClients = 7 }, "maxclients 7"},
		{"pid and log files", func(s *Spec) {
			s.PidFile, s.LogFile = "/run/redsafe/redis.pid", "/var/log/redsafe.log"
		}, `pidfile "/run/redsafe/redis.pid"`},
		{"never daemonized", func(s *Spec) { s.PidFile = "/run/redsafe/redis.pid" }, "daemonize no"},
		{"mutual TLS", func(s *Spec) { s.MutualTLS = true }, "tls-auth-clients yes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.modify(&s)
			conf, err := RedisConf(s)
			if err != nil {
				t.Fatal(err)
			}
			if !hasLine(conf, tt.line) {
				t.Fatalf("redis.conf lacks %q:\n%s", tt.line, conf)
			}
		})
	}
}

func TestContainerSpec(t *testing.T) {
	t.Parallel()
	s := Spec{
		Environment: redsafe.Staging, Port: 7000, Bind: []string{"10.1.1.1"}, MutualTLS: true,
		TLSDir: "/home/op/certs", ACLFile: "/home/op/users.acl", DataDir: "/home/op/data",
		PidFile: "/home/op/redis.pid", LogFile: "/home/op/redis.log",
		MaxClients: 9, MaxMemory: "1gb", KeyPattern: "svc:*",
	}
	c := ContainerSpec(s)
	want := s
	want.TLSDir, want.ACLFile, want.DataDir = ContainerTLSDir, ContainerACLFile, ContainerDataDir
	want.PidFile, want.LogFile = "", ""
	if c.Environment != want.Environment || c.Port != want.Port || c.MutualTLS != want.MutualTLS ||
		c.TLSDir != want.TLSDir || c.ACLFile != want.ACLFile || c.DataDir != want.DataDir ||
		c.PidFile != "" || c.LogFile != "" ||
		c.MaxClients != 9 || c.MaxMemory != "1gb" || c.KeyPattern != "svc:*" || strings.Join(c.Bind, ",") != "10.1.1.1" {
		t.Fatalf("ContainerSpec = %+v", c)
	}
	if SecretFileName("app") != "secrets/app.password" {
		t.Fatalf("SecretFileName = %s", SecretFileName("app"))
	}
}

// hasLine reports whether text has line as one whole line.
func hasLine(text []byte, line string) bool {
	for _, l := range strings.Split(string(text), "\n") {
		if l == line {
			return true
		}
	}
	return false
}
