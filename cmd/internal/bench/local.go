package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

// Local is a redis-server that `redsafe bench --local` starts in a
// directory of its own and always stops: it is a child process, not a
// daemon, killed by the kernel should this process die first (Linux), and
// stopped by Stop on every other path, interrupts included. It is
// configured as `redsafe up` configures a production server: TLS 1.3 only,
// the ACL users of serverconf, the app user's rules.
type Local struct {
	Addr    string
	KeyType certs.KeyType
	dir     string
	caFile  string
	users   serverconf.Users
	key     string
	proc    *redisserver.Process
}

// StartLocal creates certificates of keyType, users, redis.conf and the ACL
// file in dir (which must exist and be private), and starts redis-server on
// a free loopback port.
func StartLocal(ctx context.Context, dir string, keyType certs.KeyType) (*Local, error) {
	bin, err := redisserver.RedisServer()
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "certs")
	if _, err := certs.Generate(certDir, certs.GenerateOptions{KeyType: keyType, Hosts: []string{"localhost", "127.0.0.1", "::1"}}); err != nil {
		return nil, err
	}
	l := &Local{
		KeyType: keyType, dir: dir, caFile: filepath.Join(certDir, certs.CAFile),
		users: serverconf.NewUsers(redsafe.Production), key: seal.GenerateKey().Encode(),
	}
	spec := serverconf.Spec{
		Environment: redsafe.Production, TLSDir: certDir,
		ACLFile: filepath.Join(dir, "users.acl"), DataDir: dir,
		LogFile: filepath.Join(dir, "redis.log"),
		// Room for every stack's values in a cell (dataBudget each) with
		// their encryption overhead, and for 256 callers' writes in flight.
		MaxMemory: "1gb",
	}
	acl, err := serverconf.ACL(spec, l.users)
	if err != nil {
		return nil, err
	}
	if err := secretfile.Create(spec.ACLFile, acl); err != nil {
		return nil, err
	}
	// A free port can be taken before redis binds it: try a few.
	for attempt := 1; ; attempt++ {
		err = l.launch(ctx, bin, spec)
		if err == nil || attempt == 3 || !errors.Is(err, redisserver.ErrPortInUse) {
			return l, err
		}
	}
}

func (l *Local) launch(ctx context.Context, bin string, spec serverconf.Spec) error {
	ports, err := redisserver.FreePorts(1)
	if err != nil {
		return err
	}
	spec.Port = ports[0]
	conf, err := serverconf.RedisConf(spec)
	if err != nil {
		return err
	}
	confFile := filepath.Join(l.dir, "redis.conf")
	os.Remove(confFile)
	if err := os.WriteFile(confFile, conf, 0o600); err != nil {
		return err
	}
	l.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.Port))
	// Attached: the end of ctx (an interrupt), Stop, or this process's
	// death stops it.
	l.proc, err = redisserver.Launch{
		Binary: bin, Dir: l.dir, Conf: confFile, LogFile: spec.LogFile,
		Ready: func(context.Context) error { return l.ping() }, Timeout: 15 * time.Second,
	}.Start(ctx)
	return err
}

func (l *Local) tlsConfig() *tls.Config {
	pem, _ := os.ReadFile(l.caFile)
	cfg := &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
	cfg.RootCAs = certPool(pem)
	return cfg
}

// ping authenticates as the admin user and sends PING.
func (l *Local) ping() error {
	c, err := resp.DialTimeout(l.Addr, l.tlsConfig(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if r, err := c.Do("AUTH", l.users.Admin.Name, l.users.Admin.Password); err != nil || r != "+OK" {
		return fmt.Errorf("AUTH: %q %v", r, err)
	}
	if r, err := c.Do("PING"); err != nil || r != "+PONG" {
		return fmt.Errorf("PING: %q %v", r, err)
	}
	return nil
}

// Options are the production options of a service that uses the server
// as its app user.
func (l *Local) Options() redsafe.Options {
	u := url.URL{Scheme: "rediss", User: url.User(l.users.App.Name), Host: l.Addr, Path: "/0"}
	return redsafe.Options{
		Environment:   redsafe.Production,
		URL:           u.String(),
		Password:      l.users.App.Password,
		EncryptionKey: l.key,
		TLS:           redsafe.TLSOptions{CAFile: l.caFile},
	}
}

// Pid is the server's process id.
func (l *Local) Pid() int { return l.proc.Pid() }

// Stop stops the server, SIGTERM then SIGKILL after 5 s, and waits for it
// to exit. It is safe to call more than once.
func (l *Local) Stop() {
	if l != nil && l.proc != nil {
		l.proc.Stop()
	}
}

func certPool(pem []byte) *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pem)
	return p
}
