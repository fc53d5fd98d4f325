package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/cmd/internal/verify"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

var upCmd = &command{
	name:    "up",
	summary: "start a TLS-only local Redis, verified end to end",
	usage: `Usage: redsafe up [--dir .redsafe] [--port 6380] [--environment development] [--key-type ecdsa-p256]
                  [--timeout 15s] [--fix-permissions]

Creates whatever is missing in DIR, starts redis-server on 127.0.0.1 in the
background, and proves it is secure:

  DIR/certs/             CA and server certificate (localhost, 127.0.0.1, ::1)
  DIR/secrets/           admin, app and health passwords, the encryption key (0600)
  DIR/redis.conf         TLS port only (port 0), protected mode, limits
  DIR/users.acl          default user off; app user without dangerous commands
  DIR/.env.secure        the REDIS_* variables for your service (0600)
  DIR/redis.pid, redis.log

Then it runs every check of redsafe verify and prints each as it passes.
Running it again while the server is up changes nothing and verifies again.
Stop the server with redsafe down.

Flags:
  --dir DIR            where everything lives (default .redsafe)
  --port PORT          the TLS port (default 6380)
  --environment ENV    the policy for passwords and TLS (default development)
  --key-type TYPE      ecdsa-p256 (default) or rsa-4096
  --timeout D          how long to wait for the server (default 15s)
  --fix-permissions    narrow the modes of your own files and directories in
                       DIR that others could read or change, instead of
                       refusing them (files owned by another user are
                       always refused)

DIR must be yours and writable by nobody else, every directory above it
yours or root's and writable by nobody else unless sticky (as /tmp is),
and every file up reuses from it must be yours with mode 0600 (secrets)
or not writable by others: otherwise another user could have chosen your
passwords, key or configuration. Nothing is ever written through a symbolic link.

Examples:
  redsafe up
  set -a; . ./.redsafe/.env.secure; set +a     # then run your service
  redsafe up --port 6390 --environment production --dir /tmp/redsafe-prod
`,
	run: runUp,
}

func runUp(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", ".redsafe", "")
	port := fs.Int("port", 6380, "")
	envName := fs.String("environment", string(redsafe.Development), "")
	keyTypeName := fs.String("key-type", string(certs.ECDSAP256), "")
	timeout := fs.Duration("timeout", 15*time.Second, "")
	fixPerms := fs.Bool("fix-permissions", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	env, err := redsafe.ParseEnvironment(*envName)
	if err != nil {
		c.errorf("up: %v", err)
		return 2
	}
	keyType, err := certs.ParseKeyType(*keyTypeName)
	if err != nil {
		c.errorf("up: %v", err)
		return 2
	}
	if *port < 1 || *port > 65535 {
		c.errorf("up: --port %d is not a port number", *port)
		return 2
	}
	if _, err := redisserver.RedisServer(); err != nil {
		c.errorf("up: %v", err)
		return 1
	}
	l, err := prepareLocal(c, *dir, env, keyType, *port, *fixPerms)
	if err != nil {
		c.errorf("up: %v", err)
		return 1
	}

	// Ctrl-C during the start ends it: the half-started server is stopped.
	sigCtx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithTimeout(sigCtx, *timeout)
	defer cancel()
	if pid, running := l.server.Pid(); running {
		fmt.Fprintf(c.stdout, "redis-server is already running (pid %d) on 127.0.0.1:%d; verifying it\n", pid, l.port)
	} else {
		fmt.Fprintf(c.stdout, "starting redis-server on 127.0.0.1:%d (TLS only)\n", l.port)
		p, err := l.server.Start(ctx, l.ready)
		if err != nil {
			c.errorf("up: %v", err)
			if errors.Is(err, redisserver.ErrPortInUse) {
				c.errorf("up: port %d is taken; choose another with --port (and a new --dir)", l.port)
			}
			return 1
		}
		fmt.Fprintf(c.stdout, "redis-server is running (pid %d), logging to %s\n", p.Pid(), l.server.LogFile)
	}

	opts := redsafe.OptionsFromLookup(overlay(l.env, func(string) (string, bool) { return "", false }))
	opts.Logger = quietLogger()
	fmt.Fprintln(c.stdout, "verifying:")
	// Its own --timeout: a slow start does not eat the verification's time.
	ctx, cancel = context.WithTimeout(sigCtx, *timeout)
	defer cancel()
	results := verify.Run(ctx, verify.Target{Options: opts, Admin: &redsafe.Credentials{Username: l.users.Admin.Name, Password: l.users.Admin.Password}}, printResult(c.stdout))
	code := summarize(c.stdout, results)
	if code == 0 {
		fmt.Fprintf(c.stdout, "\nload the settings into your shell:\n  set -a; . %s; set +a\nstop the server with: redsafe down --dir %s\n", shellPath(l.envFile), *dir)
	}
	return code
}

// local is the state of an `up` directory.
type local struct {
	server  redisserver.Dir
	port    int
	users   serverconf.Users
	env     map[string]string // the variables of .env.secure
	envFile string
	ca      *x509.CertPool
}

// prepareLocal creates whatever is missing in dir and loads the rest. What
// exists is kept, so that a second run changes nothing.
func prepareLocal(c *cli, dir string, env redsafe.Environment, keyType certs.KeyType, port int, fixPerms bool) (*local, error) {
	srv, err := redisserver.In(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(srv.Dir, 0o700); err != nil {
		return nil, err
	}
	note := func(format string, args ...any) { fmt.Fprintf(c.stdout, "  "+format+"\n", args...) }
	l := &local{server: srv, port: port, envFile: filepath.Join(dir, ".env.secure")}

	// Before anything is read or written: nobody else may have planted or
	// be able to replace what follows.
	guard := upGuard{fix: fixPerms, note: note}
	certDir := filepath.Join(srv.Dir, "certs")
	secrets := filepath.Join(srv.Dir, "secrets")
	aclFile := filepath.Join(srv.Dir, "users.acl")
	for _, d := range []string{srv.Dir, certDir, secrets} {
		if _, err := os.Lstat(d); d != srv.Dir && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		check := guard.subdir
		if d == srv.Dir {
			check = guard.dir // --dir itself may be a link the operator made
		}
		if err := check(d); err != nil {
			return nil, err
		}
	}
	if err := guard.inPlace(srv, aclFile, l.envFile, certDir); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(certDir, "ca.crt")); errors.Is(err, fs.ErrNotExist) {
		if _, err := certs.Generate(certDir, certs.GenerateOptions{KeyType: keyType, Hosts: []string{"localhost", "127.0.0.1", "::1"}}); err != nil {
			return nil, fmt.Errorf("creating certificates: %w", err)
		}
		note("created %s: a CA and a server certificate for localhost, 127.0.0.1 and ::1 (%s keys)", rel(certDir), keyType)
	}
	caPEM, err := os.ReadFile(filepath.Join(certDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	l.ca = x509.NewCertPool()
	l.ca.AppendCertsFromPEM(caPEM)

	created, err := loadOrCreateUsers(guard, secrets, env, &l.users)
	if err != nil {
		return nil, err
	}
	key, keyCreated, err := loadOrCreate(guard, filepath.Join(secrets, "encryption.key"), func() string { return seal.GenerateKey().Encode() })
	if err != nil {
		return nil, err
	}
	if created || keyCreated {
		note("created %s: admin, app and health passwords and an encryption key (mode 0600)", rel(secrets))
	}

	spec := serverconf.Spec{
		Environment: env, Port: port, TLSDir: certDir, ACLFile: aclFile,
		DataDir: srv.Dir, PidFile: srv.PidFile, LogFile: srv.LogFile,
	}
	if existing, ok := confPort(srv.Conf); ok {
		l.port, spec.Port = existing, existing
		if existing != port && port != 6380 {
			return nil, fmt.Errorf("%s is set up for port %d; run `redsafe down --dir %s` and remove the directory to change the port", dir, existing, dir)
		}
	} else {
		conf, err := serverconf.RedisConf(spec)
		if err != nil {
			return nil, err
		}
		if err := secretfile.CreatePublic(srv.Conf, conf); err != nil {
			return nil, err
		}
		note("created %s: TLS port %d only, TLS %s", rel(srv.Conf), port, map[bool]string{true: "1.3", false: "1.2 and 1.3"}[env == redsafe.Production])
	}
	if _, err := os.Stat(spec.ACLFile); errors.Is(err, fs.ErrNotExist) {
		acl, err := serverconf.ACL(spec, l.users)
		if err != nil {
			return nil, err
		}
		if err := secretfile.Create(spec.ACLFile, acl); err != nil {
			return nil, err
		}
		note("created %s: default user off, passwords stored as SHA-256 hashes", rel(spec.ACLFile))
	}

	if _, err := os.Stat(l.envFile); errors.Is(err, fs.ErrNotExist) {
		s := envSpec{Environment: env, Host: "127.0.0.1", Port: l.port, User: l.users.App.Name,
			PasswordFile: filepath.Join(secrets, l.users.App.Name+".password"), Key: key, CAFile: filepath.Join(certDir, "ca.crt")}
		data, err := s.render(time.Now())
		if err != nil {
			return nil, fmt.Errorf("cannot write %s: %w; use a --dir whose path an env file can carry", rel(l.envFile), err)
		}
		if err := secretfile.Create(l.envFile, data); err != nil {
			return nil, err
		}
		note("created %s: the REDIS_* settings for your service (mode 0600)", rel(l.envFile))
	}
	if l.env, err = guard.envFile(l.envFile); err != nil {
		return nil, err
	}
	return l, nil
}

// ready reports whether the server answers an authenticated PING over TLS.
func (l *local) ready(ctx context.Context) error {
	addr := "127.0.0.1:" + strconv.Itoa(l.port)
	conn, err := resp.Dial(addr, &tls.Config{RootCAs: l.ca, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	defer conn.Close()
	if reply, err := conn.Do("AUTH", l.users.Admin.Name, l.users.Admin.Password); err != nil || reply != "+OK" {
		return fmt.Errorf("AUTH as %s: %s", l.users.Admin.Name, strings.SplitN(reply+fmt.Sprint(err), " ", 2)[0])
	}
	if reply, err := conn.Do("PING"); err != nil || reply != "+PONG" {
		return fmt.Errorf("PING: %v %s", err, reply)
	}
	return nil
}

func loadOrCreateUsers(guard upGuard, dir string, env redsafe.Environment, u *serverconf.Users) (created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	if err := guard.subdir(dir); err != nil {
		return false, err
	}
	fresh := serverconf.NewUsers(env)
	*u = fresh
	for _, p := range []struct {
		user  *serverconf.User
		fresh string
	}{{&u.Admin, fresh.Admin.Password}, {&u.App, fresh.App.Password}, {&u.Health, fresh.Health.Password}} {
		pw, made, err := loadOrCreate(guard, filepath.Join(dir, p.user.Name+".password"), func() string { return p.fresh })
		if err != nil {
			return false, err
		}
		p.user.Password, created = pw, created || made
	}
	return created, nil
}

// loadOrCreate reads a one-line secret file, checked by guard, or writes a
// new secret to it with mode 0600.
func loadOrCreate(guard upGuard, path string, generate func() string) (secret string, created bool, err error) {
	secret, err = guard.readLine(path)
	if err == nil {
		return secret, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	secret = generate()
	return secret, true, secretfile.Create(path, []byte(secret+"\n"))
}

var tlsPortLine = regexp.MustCompile(`(?m)^tls-port\s+(\d+)`)

// confPort reads the TLS port of an existing redis.conf (bounded, and
// never through a link).
func confPort(path string) (int, bool) {
	b, err := secretfile.ReadPublic(path, 1<<20, false)
	if err != nil {
		return 0, false
	}
	m := tlsPortLine.FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	p, err := strconv.Atoi(string(m[1]))
	return p, err == nil
}

// rel shortens an absolute path under the working directory for messages.
func rel(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if r, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
