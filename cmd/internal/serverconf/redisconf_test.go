package serverconf

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
)

// TestRedisConfText checks the settings that are security decisions as
// whole lines, and that nothing in the file is a secret.
func TestRedisConfText(t *testing.T) {
	t.Parallel()
	s := validSpec()
	s.Port, s.MaxClients, s.MaxMemory = 6390, 55, "64mb"
	conf, err := RedisConf(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"port 0", "tls-port 6390", "bind 127.0.0.1 -::1", "protected-mode yes",
		`tls-cert-file "/srv/redis/tls/server.crt"`, `tls-key-file "/srv/redis/tls/server.key"`, `tls-ca-cert-file "/srv/redis/tls/ca.crt"`,
		"tls-auth-clients no", `tls-protocols "TLSv1.3"`, "tls-replication yes",
		`aclfile "/srv/redis/users.acl"`, "acl-pubsub-default resetchannels",
		"enable-debug-command no", "enable-module-command no", "enable-protected-configs no",
		"maxclients 55", "maxmemory 64mb", "maxmemory-policy volatile-lru",
		`save ""`, "appendonly no", `dir "/srv/redis/data"`, "daemonize no", `logfile ""`,
	} {
		if !hasLine(conf, line) {
			t.Errorf("redis.conf lacks %q", line)
		}
	}
	keys := map[string]int{}
	for _, l := range strings.Split(string(conf), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, _, _ := strings.Cut(l, " ")
		keys[k]++
		switch k {
		case "requirepass", "masterauth", "rename-command", "unixsocket", "port":
			if l != "port 0" {
				t.Errorf("redis.conf sets %s", l)
			}
		}
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("%s is set %d times", k, n)
		}
	}
	if strings.Contains(string(conf), "pidfile") {
		t.Error("pidfile set without a PidFile")
	}
}

// TestProductionServer runs the production redis.conf and checks the live
// server: TLS 1.3 only, no plaintext at all, every setting as rendered.
func TestProductionServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{Environment: redsafe.Production, MaxClients: 123, MaxMemory: "32mb"}, Users{})

	t.Run("settings", func(t *testing.T) {
		for name, want := range map[string]string{
			"port":                     "0",
			"tls-port":                 strconv.Itoa(s.Spec.Port),
			"tls-protocols":            "TLSv1.3",
			"tls-auth-clients":         "no",
			"protected-mode":           "yes",
			"maxclients":               "123",
			"maxmemory":                strconv.Itoa(32 << 20),
			"maxmemory-policy":         "volatile-lru",
			"save":                     "",
			"appendonly":               "no",
			"unixsocket":               "",
			"bind":                     "127.0.0.1 -::1",
			"aclfile":                  s.Spec.ACLFile,
			"dir":                      s.Spec.DataDir,
			"tls-cert-file":            s.Spec.CertFile(),
			"acl-pubsub-default":       "resetchannels",
			"tls-replication":          "yes",
			"enable-debug-command":     "no",
			"enable-module-command":    "no",
			"enable-protected-configs": "no",
		} {
			if got := s.configGet(t, name); got != want {
				t.Errorf("CONFIG GET %s = %q, want %q", name, got, want)
			}
		}
	})
	t.Run("TLS 1.3 only", func(t *testing.T) {
		c, err := resp.Dial(s.Addr, s.tlsConfig())
		if err != nil {
			t.Fatal(err)
		}
		if v := c.Conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS13 {
			t.Errorf("negotiated %s", tls.VersionName(v))
		}
		c.Close()
		cfg := s.tlsConfig()
		cfg.MaxVersion = tls.VersionTLS12
		if c, err := resp.Dial(s.Addr, cfg); err == nil {
			c.Close()
			t.Fatal("a TLS 1.2 handshake succeeded in production")
		}
	})
	t.Run("plaintext gets no reply", func(t *testing.T) {
		assertNoPlaintextReply(t, s.Addr)
	})
	t.Run("unknown CA refused", func(t *testing.T) {
		other, err := certs.NewAuthority("other CA", certs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.tlsConfig()
		cfg.RootCAs = other.Pool()
		if c, err := resp.Dial(s.Addr, cfg); err == nil {
			c.Close()
			t.Fatal("the server certificate verified against another CA")
		}
	})
	t.Run("no client certificate needed", func(t *testing.T) {
		if reply := do(t, s.login(t, s.Users.Health), "PING"); reply != "+PONG" {
			t.Fatal(reply)
		}
	})
}

// assertNoPlaintextReply sends a plaintext PING to addr and fails if
// anything that looks like a RESP reply comes back.
func assertNoPlaintextReply(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return // refused outright
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if n > 0 && strings.ContainsAny(string(buf[:1]), "+-:$*_%>") {
		t.Fatalf("plaintext PING got a RESP reply: %q", buf[:n])
	}
	if err == nil && n == 0 {
		t.Fatal("no error and no bytes")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Log("the server kept a plaintext connection open until the deadline")
	}
}

// TestDevelopmentServer: outside production TLS 1.2 is accepted, with
// forward-secret AEAD ciphers only.
func TestDevelopmentServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{Environment: redsafe.Development}, Users{})
	if got := s.configGet(t, "tls-protocols"); got != "TLSv1.2 TLSv1.3" {
		t.Fatalf("tls-protocols %q", got)
	}
	dial12 := func(suites ...uint16) (*resp.Conn, error) {
		cfg := s.tlsConfig()
		cfg.MaxVersion = tls.VersionTLS12
		cfg.CipherSuites = suites
		return resp.Dial(s.Addr, cfg)
	}
	c, err := dial12()
	if err != nil {
		t.Fatalf("TLS 1.2 refused in development: %v", err)
	}
	st := c.Conn.(*tls.Conn).ConnectionState()
	if st.Version != tls.VersionTLS12 {
		t.Errorf("negotiated %s", tls.VersionName(st.Version))
	}
	c.Close()
	if c, err := dial12(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("ECDHE-ECDSA-AES128-GCM refused: %v", err)
	} else {
		c.Close()
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA} {
		if c, err := dial12(suite); err == nil {
			c.Close()
			t.Errorf("TLS 1.2 with the CBC suite %s was accepted", tls.CipherSuiteName(suite))
		}
	}
	if reply := do(t, s.connect(t), "PING"); !strings.HasPrefix(reply, "-NOAUTH") {
		t.Errorf("PING without AUTH in development: %s", reply)
	}
	assertNoPlaintextReply(t, s.Addr)
	if got := s.configGet(t, "port"); got != "0" {
		t.Errorf("port %s", got)
	}
}

// TestMutualTLSServer: with MutualTLS a client without a certificate from
// the CA cannot even send a command.
func TestMutualTLSServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{MutualTLS: true}, Users{})
	if reply := do(t, s.login(t, s.Users.Health), "PING"); reply != "+PONG" {
		t.Fatal(reply)
	}
	if got := s.configGet(t, "tls-auth-clients"); got != "yes" {
		t.Fatalf("tls-auth-clients %s", got)
	}
	other, err := certs.NewAuthority("other CA", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.IssueClient("intruder", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	foreignCert, err := foreign.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	for name, chain := range map[string][]tls.Certificate{"no certificate": nil, "certificate from another CA": {foreignCert}} {
		cfg := s.tlsConfig()
		cfg.Certificates = chain
		// With TLS 1.3 the refusal arrives after the client's handshake
		// completes, so it surfaces on the first command at the latest.
		c, err := resp.Dial(s.Addr, cfg)
		if err == nil {
			reply, err2 := c.Do("AUTH", s.Users.Health.Name, s.Users.Health.Password)
			c.Close()
			if err2 == nil {
				t.Errorf("%s: the server answered %q", name, reply)
			}
		}
	}
}

// TestLimitsServer: maxclients is enforced, and when memory is full keys
// without a TTL are never evicted: writes fail with OOM instead.
func TestLimitsServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{MaxClients: 3, MaxMemory: "4mb"}, Users{})

	t.Run("maxclients", func(t *testing.T) {
		var conns []*resp.Conn
		for range 3 {
			conns = append(conns, s.login(t, s.Users.Health))
		}
		c, err := resp.Dial(s.Addr, s.tlsConfig())
		if err == nil {
			reply, err := c.Do("PING")
			c.Close()
			if err == nil && !strings.Contains(reply, "max number of clients") {
				t.Fatalf("a fourth client got %q", reply)
			}
		}
		conns[0].Close()
		// Once a slot is free, a client gets in again (so the refusal above
		// was the limit, not a broken server).
		deadline := time.Now().Add(2 * time.Second)
		for {
			c, err := resp.Dial(s.Addr, s.tlsConfig())
			if err == nil {
				reply, err := c.Do("AUTH", s.Users.Health.Name, s.Users.Health.Password)
				c.Close()
				if err == nil && reply == "+OK" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("no client could connect after one left")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("volatile-lru keeps keys without a TTL", func(t *testing.T) {
		c := s.login(t, s.Users.App)
		value := strings.Repeat("x", 64<<10)
		written := 0
		var oom string
		for i := range 200 {
			reply := do(t, c, "SET", "persistent:"+strconv.Itoa(i), value)
			if reply != "+OK" {
				oom = reply
				break
			}
			written++
		}
		if written == 0 || !strings.HasPrefix(oom, "-OOM") {
			t.Fatalf("wrote %d keys without a TTL, then %q; want some, then OOM", written, oom)
		}
		for i := range written {
			if reply := do(t, c, "EXISTS", "persistent:"+strconv.Itoa(i)); reply != ":1" {
				t.Fatalf("key %d without a TTL was evicted", i)
			}
		}
		// Keys with a TTL are what gets evicted to make room: freeing a
		// little room lets volatile keys be written over each other.
		do(t, c, "DEL", "persistent:0", "persistent:1", "persistent:2", "persistent:3")
		for i := range 50 {
			if reply := do(t, c, "SET", "volatile:"+strconv.Itoa(i), value, "EX", "600"); reply != "+OK" {
				t.Fatalf("SET with a TTL %d: %s", i, reply)
			}
		}
		for i := 4; i < written; i++ {
			if reply := do(t, c, "EXISTS", "persistent:"+strconv.Itoa(i)); reply != ":1" {
				t.Fatalf("key %d without a TTL was evicted to make room for keys with one", i)
			}
		}
		if n, _ := strconv.Atoi(strings.TrimPrefix(s.admin(t, "DBSIZE"), ":")); n >= written-4+50 {
			t.Fatalf("no volatile key was evicted: %d keys", n)
		}
	})
}

// TestPidAndLogFiles runs the spec `redsafe up` uses: a pid file and a log
// file, in a directory whose name has a space.
func TestPidAndLogFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	pidFile, logFile := filepath.Join(dir, "redis.pid"), filepath.Join(dir, "redis.log")
	s := startServer(t, Spec{PidFile: pidFile, LogFile: logFile}, Users{})
	if reply := do(t, s.login(t, s.Users.Health), "PING"); reply != "+PONG" {
		t.Fatal(reply)
	}
	if got := s.configGet(t, "pidfile"); got != pidFile {
		t.Errorf("pidfile %q", got)
	}
	if got := s.configGet(t, "logfile"); got != logFile {
		t.Errorf("logfile %q", got)
	}
	b, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(b), "Ready to accept connections") {
		t.Errorf("log file: %v\n%s", err, b)
	}
	// The pid file names the process the launcher started: `redsafe down`
	// finds it there.
	if b, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(s.proc.Pid()) {
		t.Errorf("pid file = %q, %v; want %d", b, err, s.proc.Pid())
	}
}
