package serverconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redistest"
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

	cmd     *exec.Cmd
	out     *redistest.LockedBuffer
	done    chan struct{}
	waitErr error // valid after done
	once    sync.Once
}

const (
	readyMarker  = "Ready to accept connections"
	startTimeout = 10 * time.Second
	portAttempts = 5
)

// startServer renders spec and users and runs redis-server on them. The
// paths of spec are filled in under a temporary directory whose name has a
// space, so that every path goes through confQuote for real. Port and Bind
// are chosen here; everything else in spec is kept. Users with empty
// passwords get fresh ones for spec's environment.
func startServer(t *testing.T, spec Spec, users Users) *testServer {
	t.Helper()
	bin := redistest.RedisServerPath(t)
	root := filepath.Join(t.TempDir(), "redsafe server")
	spec.TLSDir = filepath.Join(root, "tls dir")
	spec.ACLFile = filepath.Join(root, "users.acl")
	spec.DataDir = filepath.Join(root, "data")
	for _, d := range []string{spec.TLSDir, spec.DataDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	fresh := NewUsers(spec.environment())
	for _, p := range []struct{ u, f *User }{{&users.Admin, &fresh.Admin}, {&users.App, &fresh.App}, {&users.Health, &fresh.Health}} {
		if p.u.Password == "" {
			p.u.Password = p.f.Password
		}
	}
	users = users.withDefaults()

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
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		spec.Port = port
		conf, err := RedisConf(spec)
		if err != nil {
			t.Fatalf("RedisConf: %v", err)
		}
		confPath := filepath.Join(root, "redis.conf")
		if err := os.WriteFile(confPath, conf, 0o600); err != nil {
			t.Fatal(err)
		}
		s := &testServer{
			Spec: spec, Users: users, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			CA: ca, Client: client, Conf: conf, ACL: acl,
			out: &redistest.LockedBuffer{}, done: make(chan struct{}),
		}
		s.cmd = exec.Command(bin, confPath)
		s.cmd.Dir = root
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		s.cmd.SysProcAttr = sysProcAttr()
		if spec.LogFile != "" {
			os.Remove(spec.LogFile) // so that what waitReady reads is this attempt's
		}
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()
		t.Cleanup(s.stop)
		err = s.waitReady()
		if err == nil {
			return s
		}
		s.stop()
		if !strings.Contains(s.log(), "Address already in use") || attempt == portAttempts {
			t.Fatalf("redis-server did not start (attempt %d): %v\n--- redis.conf ---\n%s\n--- output ---\n%s", attempt, err, conf, s.log())
		}
	}
}

// waitReady waits for the server to log that it accepts connections. A
// daemonizing server forks: the process we started exits at once, and the
// daemon logs to Spec.LogFile.
func (s *testServer) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for !strings.Contains(s.log(), readyMarker) {
		select {
		case <-s.done:
			if !s.Spec.Daemonize || s.waitErr != nil {
				return fmt.Errorf("redis-server exited: %v", s.waitErr)
			}
		default:
		}
		if s.Spec.Daemonize && strings.Contains(s.log(), "Address already in use") {
			s.stop() // the daemon may still be exiting
			return errors.New("port in use")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", startTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// log is what the server has logged so far.
func (s *testServer) log() string {
	if s.Spec.LogFile != "" {
		b, _ := os.ReadFile(s.Spec.LogFile)
		return s.out.String() + string(b)
	}
	return s.out.String()
}

// stop sends SIGTERM, then SIGKILL after a grace period, and waits. A
// daemon is found by its pid file.
func (s *testServer) stop() {
	s.once.Do(func() {
		if s.Spec.Daemonize {
			<-s.done
			s.stopDaemon()
			return
		}
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	})
	<-s.done
}

func (s *testServer) stopDaemon() {
	b, err := os.ReadFile(s.Spec.PidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	_ = p.Signal(syscall.SIGTERM)
	// Redis removes its pid file as the last step of shutting down. (The
	// exited daemon is not our child, and may stay a zombie that answers
	// signal 0 until init reaps it.)
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(s.Spec.PidFile); errors.Is(err, fs.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = p.Signal(syscall.SIGKILL)
}

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

// freePort asks the kernel for a free loopback port. It may be taken again
// before redis binds it; startServer retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
