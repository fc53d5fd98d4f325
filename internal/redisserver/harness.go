package redisserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
)

const (
	// StartTimeout bounds how long Start waits for a server to be ready.
	StartTimeout = 10 * time.Second
	// portAttempts: retries after losing a port race with another process.
	portAttempts = 5
)

// Server is a running redis-server owned by one test.
type Server struct {
	Addr          string // "127.0.0.1:PORT" of the main port (TLS unless Plaintext)
	Port          int
	PlaintextAddr string // set with ExtraPlaintextPort
	BusPort       int    // the cluster bus port of a cluster node
	Dir           string
	Password      string // default user's password ("" with NoAuth)

	// TLS material exists even for Plaintext servers, so tests can aim a
	// properly configured TLS client at a plaintext port.
	CA                            *certs.Authority
	CAFile, CAKeyFile             string
	CertFile, KeyFile             string // server certificate and key
	ClientCertFile, ClientKeyFile string // always generated, signed by CA
	ClientCert                    *certs.Pair

	cfg       Config
	files     files
	server    *certs.Pair
	adminUser string // who Do and the readiness probe authenticate as
	adminPass string
	mu        sync.Mutex
	proc      *Process
}

// Start launches a server and returns once it answers PING; it is stopped
// by t.Cleanup even when the test fails. Any failure is fatal and reports
// the end of the redis log. Safe for parallel tests.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	return start(t, cfg, FreePorts)
}

// start takes the port picker as a parameter so tests can force collisions.
func start(t testing.TB, cfg Config, pick func(n int) ([]int, error)) *Server {
	t.Helper()
	bin := RedisServerPath(t)
	s, err := prepare(t.TempDir(), cfg)
	if err != nil {
		t.Fatalf("redisserver: %v", err)
	}
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(s.Stop)
	for attempt := 1; ; attempt++ {
		err = s.launch(bin, pick)
		if err == nil {
			t.Cleanup(func() { s.reportCrash(t) })
			return s
		}
		if !errors.Is(err, ErrPortInUse) || attempt == portAttempts {
			t.Fatalf("redisserver: start redis-server (attempt %d): %v", attempt, err)
		}
	}
}

// reportCrash logs a server that died without Stop, with its log tail, so
// that a test failing on "connection refused" says why.
func (s *Server) reportCrash(t testing.TB) {
	if err := s.process().Crashed(); err != nil {
		t.Logf("redisserver: %v", err)
	}
}

// prepare resolves the config and writes certificates and the ACL file.
func prepare(dir string, cfg Config) (*Server, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	f := files{
		dir: dir, conf: filepath.Join(dir, "redis.conf"),
		log: filepath.Join(dir, "redis.log"), pid: filepath.Join(dir, "redis.pid"),
		ca: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key"),
	}
	m, err := newMaterial(cfg, f)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Dir: dir, Password: cfg.Password,
		CA: m.ca, CAFile: f.ca, CAKeyFile: filepath.Join(dir, "ca.key"),
		CertFile: f.cert, KeyFile: f.key,
		ClientCertFile: filepath.Join(dir, "client.crt"), ClientKeyFile: filepath.Join(dir, "client.key"),
		ClientCert: m.client,
		cfg:        cfg, files: f, server: m.server,
		adminUser: "default", adminPass: cfg.Password,
	}
	if cfg.DisableDefaultUser {
		s.adminUser, s.adminPass = cfg.Users[0].Name, cfg.Users[0].Password
	}
	if len(cfg.Users) > 0 && cfg.sentinel == nil { // a Sentinel's users are in its own file
		s.files.acl = filepath.Join(dir, "users.acl")
		if err := writeFile(s.files.acl, []byte(aclFile(cfg)), 0o600); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// launch makes one attempt on fresh ports and waits for readiness.
func (s *Server) launch(bin string, pick func(int) ([]int, error)) error {
	n := 1
	if s.cfg.ExtraPlaintextPort {
		n++
	}
	if s.cfg.cluster != nil {
		n++
	}
	pp, err := pick(n)
	if err != nil {
		return err
	}
	p := ports{main: pp[0]}
	rest := pp[1:]
	if s.cfg.ExtraPlaintextPort {
		p.plain, rest = rest[0], rest[1:]
	}
	if s.cfg.cluster != nil {
		p.bus = rest[0]
		s.BusPort = p.bus
	}
	// 0600: the file may contain requirepass.
	if err := writeFile(s.files.conf, []byte(redisConf(s.cfg, s.files, p)), 0o600); err != nil {
		return err
	}
	s.mu.Lock()
	s.Port, s.Addr = p.main, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.main))
	if p.plain != 0 {
		s.PlaintextAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.plain))
	}
	s.mu.Unlock()
	pr, err := Launch{
		Binary: bin, Dir: s.Dir, Conf: s.files.conf, LogFile: s.files.log, Timeout: StartTimeout,
		Ready: s.ping, Sentinel: s.cfg.sentinel != nil,
	}.Start(context.Background())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = pr
	s.mu.Unlock()
	return nil
}

// ping checks the configuration end to end with an authenticated PING.
// Only a refused dial can be transient; a bad reply or a TLS failure is a
// configuration problem that waiting will not fix.
func (s *Server) ping(ctx context.Context) error {
	reply, err := s.do(s.Addr, s.adminTLS(), "PING")
	if err == nil && reply == "+PONG" {
		return nil
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return err
	}
	return Permanent(fmt.Errorf("PING failed: reply %q, err %v", reply, err))
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits for
// it to exit. Idempotent.
func (s *Server) Stop() {
	if pr := s.process(); pr != nil {
		pr.Stop()
	}
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it
// to exit: a master that dies without a word, for failover tests. Only its
// own pid is signalled. Stop (and t.Cleanup's) after it does nothing more.
func (s *Server) Kill() {
	if pr := s.process(); pr != nil {
		pr.Kill()
	}
}

// process is the running process, nil before the first launch.
func (s *Server) process() *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// LogTail returns the last n lines of the server's log: what a Sentinel
// did during a failover, say.
func (s *Server) LogTail(n int) string { return s.process().LogTail(n) }

// Pid is the redis-server process id.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.Pid()
}

// URL returns a redis URL for the main port with properly escaped userinfo:
// rediss:// for TLS servers, redis:// for Plaintext ones.
func (s *Server) URL(user, password string) string {
	u := url.URL{Scheme: "rediss", Host: s.Addr, Path: "/0"}
	if s.cfg.Plaintext {
		u.Scheme = "redis"
	}
	switch {
	case password != "":
		u.User = url.UserPassword(user, password)
	case user != "":
		u.User = url.User(user)
	}
	return u.String()
}

// TLSConfig returns a new client config that trusts only this server's CA
// and verifies it as 127.0.0.1 (an IP SAN) at the real current time, so
// expired or mismatched certificates fail as they would for users. It
// carries the client certificate when MutualTLS is set. Nil for Plaintext.
func (s *Server) TLSConfig() *tls.Config {
	if s.cfg.Plaintext {
		return nil
	}
	c := &tls.Config{RootCAs: s.CA.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if s.cfg.MutualTLS {
		c.Certificates = []tls.Certificate{s.clientTLSCert()}
	}
	return c
}

// adminTLS is the harness's own config: it still verifies the chain but
// against the first configured host and at a time inside the certificate's
// validity, so deliberately expired or oddly named certificates do not
// stop the harness from managing the server.
func (s *Server) adminTLS() *tls.Config {
	if s.cfg.Plaintext {
		return nil
	}
	c := s.TLSConfig()
	nb, na := s.server.Cert.NotBefore, s.server.Cert.NotAfter
	mid := nb.Add(na.Sub(nb) / 2)
	c.Time = func() time.Time { return mid }
	c.ServerName = strings.Trim(s.cfg.Hosts[0], "[]")
	return c
}

func (s *Server) clientTLSCert() tls.Certificate {
	c, err := s.ClientCert.TLSCertificate()
	if err != nil { // we generated it moments ago; cannot happen
		panic(err)
	}
	return c
}

// Do runs one command on a new connection authenticated as the admin user
// (default user, or Users[0] when DisableDefaultUser) and returns the reply
// as rendered by Conn.Do. I/O failures are fatal; error replies are not.
func (s *Server) Do(t testing.TB, args ...string) string {
	t.Helper()
	reply, err := s.do(s.Addr, s.adminTLS(), args...)
	if err != nil {
		t.Fatalf("redisserver: %v: %v", args, err)
	}
	return reply
}

// Ask is Do for polls that race with the server: a connection that fails
// (a Sentinel disconnects a node's clients when it changes the node's role)
// is "" and the error, not a failed test.
func (s *Server) Ask(args ...string) (string, error) {
	return s.do(s.Addr, s.adminTLS(), args...)
}

func (s *Server) do(addr string, cfg *tls.Config, args ...string) (string, error) {
	c, err := resp.Dial(addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if s.adminUser != "default" || s.adminPass != "" {
		reply, err := c.Do("AUTH", s.adminUser, s.adminPass)
		if err != nil {
			return "", err
		}
		if reply != "+OK" {
			return "", fmt.Errorf("AUTH %s: %s", s.adminUser, reply)
		}
	}
	return c.Do(args...)
}
