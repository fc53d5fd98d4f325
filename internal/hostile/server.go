// Package hostile is a deliberately hostile fake Redis server for tests:
// it answers like a Redis 7 for as many replies as a test asks, then
// attacks the next reply (endless nesting, an endless line, a huge claimed
// count or length, a slow drip, terminal escapes). It is the one exception
// to "real servers, no mocks": no real server misbehaves on demand.
//
// Every attack is bounded (Config.MaxBytes, Config.MaxDuration) and stops as
// soon as the client goes away; Start's cleanup closes the listener and
// every connection and waits for every goroutine.
package hostile

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
)

// Config says when and how the server attacks.
type Config struct {
	// Plaintext serves RESP without TLS. Default: TLS, with a fresh CA and
	// a certificate for 127.0.0.1 and localhost.
	Plaintext bool

	// Handshake is how many replies, on each connection, the server gives
	// like a Redis 7 before it attacks the next one. 0 attacks the first
	// reply (the one to HELLO, for most clients).
	Handshake int

	// Attack is what the server does to the attacked reply. nil: it never
	// attacks, and answers like a Redis 7 throughout.
	Attack Attack

	// MaxBytes bounds what one attack writes. Default 2 GiB.
	MaxBytes int64

	// MaxDuration bounds one attack. Default 60 s.
	MaxDuration time.Duration
}

// Server is a running hostile server.
type Server struct {
	Addr   string // 127.0.0.1:port
	CAFile string // PEM of the CA that signed the server certificate; "" in plaintext

	cfg    Config
	ln     net.Listener
	tls    *tls.Config // the server's
	pool   *x509.CertPool
	closed chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	commands [][]string
	attacked int
}

// Start starts a server on 127.0.0.1:0 and stops it when the test ends.
func Start(t testing.TB, c Config) *Server {
	t.Helper()
	if c.MaxBytes <= 0 {
		c.MaxBytes = 2 << 30
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = time.Minute
	}
	s := &Server{cfg: c, closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	if !c.Plaintext {
		if err := s.issue(t.TempDir()); err != nil {
			t.Fatalf("hostile: %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hostile: %v", err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// issue creates the CA and the server certificate, and writes the CA.
func (s *Server) issue(dir string) error {
	ca, err := certs.NewAuthority("hostile CA", certs.Options{Organization: "hostile"})
	if err != nil {
		return err
	}
	pair, err := ca.IssueServer([]string{"127.0.0.1", "localhost"}, certs.Options{})
	if err != nil {
		return err
	}
	cert, err := pair.TLSCertificate()
	if err != nil {
		return err
	}
	s.CAFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(s.CAFile, ca.CertPEM, certs.CertFileMode); err != nil {
		return err
	}
	s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.pool = ca.Pool()
	return nil
}

// TLSConfig is a client configuration that trusts the server; nil in
// plaintext.
func (s *Server) TLSConfig() *tls.Config {
	if s.pool == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// CertPool holds the server's CA; nil in plaintext.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Commands are the commands the server received so far, on every
// connection, in the order it read them.
func (s *Server) Commands() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.commands...)
}

// Attacked is how many attacks the server has started.
func (s *Server) Attacked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attacked
}

func (s *Server) close() {
	close(s.closed)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		select {
		case <-s.closed:
			s.mu.Unlock()
			conn.Close()
			return
		default:
		}
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(conn)
	}
}

func (s *Server) forget(conn net.Conn) {
	conn.Close()
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

// serve answers one connection: a goroutine reads commands, this one
// replies, so that an attack in progress notices at once that the client
// went away.
func (s *Server) serve(raw net.Conn) {
	defer s.wg.Done()
	defer s.forget(raw)
	conn := raw
	if s.tls != nil {
		tc := tls.Server(raw, s.tls)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
		conn = tc
	}
	cmds := make(chan []string, 1024)
	gone := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(gone)
		r := resp.NewReader(conn, resp.DefaultLimits)
		for {
			cmd, err := r.ReadCommand()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.commands = append(s.commands, cmd)
			s.mu.Unlock()
			// Never blocks, so that the client's leaving is seen at once even
			// while an attack reads no commands; a client that pipelines more
			// than the buffer during an attack loses the rest.
			select {
			case cmds <- cmd:
			default:
			}
		}
	}()
	sess := &session{proto: 2}
	for replies := 0; ; replies++ {
		var cmd []string
		select {
		case cmd = <-cmds:
		case <-gone:
			return
		case <-s.closed:
			return
		}
		s.mu.Lock()
		attack := s.cfg.Attack != nil && replies >= s.cfg.Handshake
		if attack {
			s.attacked++
		}
		s.mu.Unlock()
		if attack {
			st := &Stream{Cmd: cmd, sess: sess, conn: conn, cmds: cmds, gone: gone, closed: s.closed,
				max: s.cfg.MaxBytes, deadline: time.Now().Add(s.cfg.MaxDuration)}
			stop := st.watch()
			s.cfg.Attack(st)
			stop()
			return
		}
		if _, err := conn.Write(sess.answer(cmd)); err != nil {
			return
		}
	}
}
