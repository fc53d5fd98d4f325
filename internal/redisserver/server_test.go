package redisserver

import (
	"bytes"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTLSServerRequiresAuth(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{})
	if len(s.Password) < 32 {
		t.Fatalf("generated password too short: %d chars", len(s.Password))
	}
	cfg := s.TLSConfig()

	got := last(t)(raw(t, s.Addr, cfg, cmd("AUTH", "default", s.Password), cmd("PING")))
	if got != "+PONG" {
		t.Errorf("authenticated PING = %q", got)
	}
	if got := last(t)(raw(t, s.Addr, cfg, cmd("PING"))); !strings.HasPrefix(got, "-NOAUTH") {
		t.Errorf("unauthenticated PING = %q, want -NOAUTH", got)
	}
	if got := last(t)(raw(t, s.Addr, cfg, cmd("AUTH", "default", "wrong"))); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Errorf("wrong password = %q, want -WRONGPASS", got)
	}
	if got := s.Do(t, "SET", "k", "v"); got != "+OK" {
		t.Errorf("Do SET = %q", got)
	}
	if got := s.Do(t, "GET", "k"); got != "v" {
		t.Errorf("Do GET = %q", got)
	}
}

func TestPlaintextToTLSPortGetsNoReply(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{NoAuth: true}) // even without auth, plain RESP must not work
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return // rejected outright: fine
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if bytes.Contains(buf[:n], []byte("PONG")) || (n > 0 && bytes.ContainsAny(buf[:1], "+-:$*")) {
		t.Errorf("plaintext client got a RESP reply from the TLS port: %q", buf[:n])
	}
}

func TestURLAndFiles(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Password: `p@ss:w/rd "x"`})
	u, err := url.Parse(s.URL("app user", s.Password))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.Scheme != "rediss" || u.Host != "127.0.0.1:"+strconv.Itoa(s.Port) || u.Path != "/0" ||
		u.User.Username() != "app user" || pw != s.Password {
		t.Errorf("URL round trip = %s", u)
	}
	if got := s.Do(t, "PING"); got != "+PONG" { // the quoted requirepass works
		t.Errorf("PING = %q", got)
	}
	for path, want := range map[string]os.FileMode{
		s.files.conf: 0o600, s.KeyFile: 0o600, s.ClientKeyFile: 0o600, s.CAKeyFile: 0o600,
		s.CertFile: 0o644, s.CAFile: 0o644, s.ClientCertFile: 0o644,
	} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v err %v, want %03o", path, fi.Mode(), err, want)
		}
	}
	// The password must not be visible to other local users through argv.
	argv, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid()) + "/cmdline")
	if err == nil && bytes.Contains(argv, []byte(s.Password)) {
		t.Errorf("password on redis-server argv: %q", argv)
	}
}
