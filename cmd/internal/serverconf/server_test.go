package serverconf

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
)

// testServer is a real redis-server running the redis.conf and ACL file that
// RedisConf and ACL render. There is no fake: every assertion is about what
// the real server does with the generated files.
type testServer struct {
	Spec   Spec
	Users  Users
	Addr   string // 127.0.0.1:PORT, the TLS port
	CA     *certs.Authority
	Client *certs.Pair // a client certificate signed by CA (for mutual TLS)
	Conf   []byte      // the rendered redis.conf
	ACL    []byte      // the rendered ACL file

	proc *redisserver.Process
}

// portAttempts: retries after losing a port race with another process.
const portAttempts = 5

// startServer renders spec and users and runs redis-server on them. The
// paths of spec are filled in under a temporary directory whose name has a
// space, so that every path goes through redisserver.ConfQuote for real. Port and Bind
// are chosen here; everything else in spec is kept. Users with empty
// passwords get fresh ones for spec's environment.
func startServer(t *testing.T, spec Spec, users Users) *testServer {
	t.Helper()
	return startServerWith(t, spec, users, newTestPKI(t))
}

// testPKI is a CA with a server certificate (127.0.0.1, localhost, ::1)
// and a client certificate: the nodes of one test cluster share it.
type testPKI struct {
	ca             *certs.Authority
	server, client *certs.Pair
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, err := certs.NewAuthority("serverconf test CA", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.IssueServer([]string{"127.0.0.1", "localhost", "::1"}, certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("serverconf test client", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{ca: ca, server: srv, client: client}
}

// startServerWith is startServer with the certificates of pki. A cluster
// spec gets its bus port and config file here.
func startServerWith(t *testing.T, spec Spec, users Users, pki *testPKI) *testServer {
	t.Helper()
	bin := redisserver.RedisServerPath(t)
	root := filepath.Join(t.TempDir(), "redsafe server")
	spec.TLSDir = filepath.Join(root, "tls dir")
	spec.ACLFile = filepath.Join(root, "users.acl")
	spec.DataDir = filepath.Join(root, "data")
	for _, d := range []string{spec.TLSDir, spec.DataDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if spec.Cluster != nil {
		n := *spec.Cluster
		n.ConfigFile = filepath.Join(spec.DataDir, "nodes.conf")
		spec.Cluster = &n
	}
	fresh := NewUsers(spec.environment())
	for _, p := range []struct{ u, f *User }{{&users.Admin, &fresh.Admin}, {&users.App, &fresh.App}, {&users.Health, &fresh.Health}} {
		if p.u.Password == "" {
			p.u.Password = p.f.Password
		}
	}
	users = users.withDefaults()

	ca, srv, client := pki.ca, pki.server, pki.client
	for _, w := range []struct {
		write func(string, []byte) error
		path  string
		data  []byte
	}{
		{certs.WriteCert, spec.CAFile(), ca.CertPEM},
		{certs.WriteCert, spec.CertFile(), srv.CertPEM},
		{certs.WriteKey, spec.KeyFile(), srv.KeyPEM},
		{certs.WriteCert, filepath.Join(spec.TLSDir, ClientCertFileName), client.CertPEM},
		{certs.WriteKey, filepath.Join(spec.TLSDir, ClientKeyFileName), client.KeyPEM},
	} {
		if err := w.write(w.path, w.data); err != nil {
			t.Fatal(err)
		}
	}
	acl, err := ACL(spec, users)
	if err != nil {
		t.Fatalf("ACL: %v", err)
	}
	if err := os.WriteFile(spec.ACLFile, acl, 0o600); err != nil {
		t.Fatal(err)
	}

	for attempt := 1; ; attempt++ {
		ports, err := redisserver.FreePorts(2)
		if err != nil {
			t.Fatal(err)
		}
		spec.Port = ports[0]
		if spec.Cluster != nil {
			spec.Cluster.BusPort = ports[1]
		}
		conf, err := RedisConf(spec)
		if err != nil {
			t.Fatalf("RedisConf: %v", err)
		}
		confPath := filepath.Join(root, "redis.conf")
		if err := os.WriteFile(confPath, conf, 0o600); err != nil {
			t.Fatal(err)
		}
		s := &testServer{
			Spec: spec, Users: users, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.Port)),
			CA: ca, Client: client, Conf: conf, ACL: acl,
		}
		s.proc, err = redisserver.Launch{Binary: bin, Dir: root, Conf: confPath, LogFile: spec.LogFile}.Start(context.Background())
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		if !errors.Is(err, redisserver.ErrPortInUse) || attempt == portAttempts {
			t.Fatalf("redis-server did not start (attempt %d): %v\n--- redis.conf ---\n%s", attempt, err, conf)
		}
	}
}

// stop stops the server by its own pid and waits for it to exit.
func (s *testServer) stop() { s.proc.Stop() }

// tlsConfig trusts only the server's CA and verifies 127.0.0.1. It carries
// the client certificate when the server requires one.
func (s *testServer) tlsConfig() *tls.Config {
	c := &tls.Config{RootCAs: s.CA.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if s.Spec.MutualTLS {
		cert, err := s.Client.TLSCertificate()
		if err != nil {
			panic(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// connect opens a TLS connection that is not authenticated.
func (s *testServer) connect(t *testing.T) *resp.Conn {
	t.Helper()
	c, err := resp.Dial(s.Addr, s.tlsConfig())
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// login opens a TLS connection authenticated as u.
func (s *testServer) login(t *testing.T, u User) *resp.Conn {
	t.Helper()
	c := s.connect(t)
	if reply := do(t, c, "AUTH", u.Name, u.Password); reply != "+OK" {
		t.Fatalf("AUTH %s: %s", u.Name, reply)
	}
	return c
}

// admin runs one command as the admin user on a new connection.
func (s *testServer) admin(t *testing.T, args ...string) string {
	t.Helper()
	return do(t, s.login(t, s.Users.Admin), args...)
}

// adminDo runs one command as the admin user on a connection of its own,
// closed after: I/O errors are returned, not fatal.
func (s *testServer) adminDo(args ...string) (string, error) {
	c, err := resp.Dial(s.Addr, s.tlsConfig())
	if err != nil {
		return "", err
	}
	defer c.Close()
	if reply, err := c.Do("AUTH", s.Users.Admin.Name, s.Users.Admin.Password); err != nil || reply != "+OK" {
		return "", fmt.Errorf("AUTH %s: %q %v", s.Users.Admin.Name, reply, err)
	}
	return c.Do(args...)
}

// configGet returns the value of one CONFIG GET parameter.
func (s *testServer) configGet(t *testing.T, name string) string {
	t.Helper()
	reply := s.admin(t, "CONFIG", "GET", name)
	k, v, ok := strings.Cut(reply, "\n")
	if !ok || k != name {
		t.Fatalf("CONFIG GET %s = %q", name, reply)
	}
	return v
}

// do runs a command; I/O errors are fatal, error replies are returned.
func do(t *testing.T, c *resp.Conn, args ...string) string {
	t.Helper()
	reply, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return reply
}
