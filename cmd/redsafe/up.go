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
	"slices"
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
                  [--cluster N [--replicas 1] | --sentinel [--replicas 1]]
                  [--timeout 15s] [--fix-permissions]

Creates whatever is missing in DIR, starts redis-server on 127.0.0.1 in the
background, and proves it is secure:

  DIR/certs/             CA and server certificate (localhost, 127.0.0.1, ::1)
  DIR/secrets/           admin, app and health passwords, the encryption key (0600)
  DIR/redis.conf         TLS port only (port 0), protected mode, limits
  DIR/users.acl          default user off; app user without dangerous commands
  DIR/.env.secure        the REDIS_* variables for your service (0600); it names
                         the app password and key files (REDIS_PASSWORD_FILE,
                         REDIS_ENCRYPTION_KEY_FILE) instead of holding them
  DIR/redis.pid, redis.log

With --cluster N it starts a Redis Cluster instead: N masters with
--replicas replicas each, on ports PORT, PORT+1, ... (cluster bus on
PORT+10000, ...), each node in DIR/nodes/PORT/ with its own redis.conf
(0600: it holds the replication password), pid file, log and nodes.conf.
Every node shares the CA, the ACL file and the users; TLS covers clients,
the cluster bus (nodes present DIR/certs/client.crt to each other) and
replication, where replicas log in as a replication user that may only
replicate. .env.secure then names every master in REDIS_URL (addr=).

With --sentinel it starts a master and --replicas replicas on ports PORT,
PORT+1, ... (DIR/nodes/PORT/), and three Redis Sentinels on PORT+20000,
PORT+20001 and PORT+20002 (DIR/sentinels/PORT/sentinel.conf, 0600, which
each Sentinel rewrites with what it learns). TLS covers clients,
replication and the Sentinels' links; the default user is off on every
process. The data nodes share the ACL file (Redis does not replicate
ACLs): admin, app (with ROLE, which the library asks of the master),
health, replication (+psync +replconf +ping) and sentinel, the user the
Sentinels log in as (Redis's documented minimal set, with only the
__sentinel__:hello channel). The Sentinels have their own users: admin,
sentinel-client (where the master is, and the failover channels; nothing
that changes the deployment) and sentinel-peer (the Sentinels' own
logins to each other: PING, their hellos, the failover vote). A master
that does not answer for 2 s (down-after-milliseconds 2000) is failed
over when two Sentinels agree. .env.secure names the Sentinels in
REDIS_URL (?master_set=redsafe&addr=...), with REDIS_SENTINEL_USERNAME
and REDIS_SENTINEL_PASSWORD_FILE. Run again after a failover, up waits
for the Sentinels to fail over from a dead master before restarting it,
and brings it back as a replica of the new master.

When the server certificate expires within 30 days, up renews it under the
same CA and installs it on the running servers (redsafe certs renew, then
redsafe certs reload): clients keep their ca.crt, and nothing restarts.

Then it runs every check of redsafe verify and prints each as it passes.
Running it again while the server is up changes nothing and verifies again.
Stop the server with redsafe down.

Flags:
  --dir DIR            where everything lives (default .redsafe)
  --port PORT          the TLS port (default 6380)
  --environment ENV    the policy for passwords and TLS (default development)
  --key-type TYPE      ecdsa-p256 (default) or rsa-4096
  --cluster N          start a Redis Cluster of N masters (3 to 16) instead of one server
  --sentinel           start a master, its replicas and three Sentinels instead of one server
  --replicas R         replicas of each master with --cluster (0 to 2, default 1),
                       of the master with --sentinel (1 or 2, default 1)
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
  redsafe up --cluster 3 --dir .redsafe-cluster --port 7000
  redsafe up --sentinel --dir .redsafe-sentinel --port 6400   # Sentinels on 26400-26402
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
	masters := fs.Int("cluster", 0, "")
	sentinel := fs.Bool("sentinel", false, "")
	replicas := fs.Int("replicas", 1, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	switch {
	case *masters != 0 && (*masters < 3 || *masters > 16):
		c.errorf("up: --cluster %d: a cluster needs 3 to 16 masters (3 is the least that survives losing one)", *masters)
		return 2
	case *replicas < 0 || *replicas > 2:
		c.errorf("up: --replicas %d must be 0, 1 or 2", *replicas)
		return 2
	case *masters != 0 && *sentinel:
		c.errorf("up: --cluster and --sentinel are two shapes of deployment: choose one")
		return 2
	case *sentinel && *replicas < 1:
		c.errorf("up: --sentinel needs at least one replica to fail over to (--replicas 1 or 2)")
		return 2
	case *masters == 0 && !*sentinel && isSet(fs, "replicas"):
		c.errorf("up: --replicas needs --cluster or --sentinel")
		return 2
	}
	shape := upShape{masters: *masters, replicas: *replicas, sentinel: *sentinel}
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
	if *port < 1 || *port+shape.nodes()-1 > 65535 || (shape.masters > 0 && *port+10000+shape.nodes()-1 > 65535) ||
		(shape.sentinel && *port+sentinelPortOffset+upSentinels-1 > 65535) {
		c.errorf("up: --port %d is not a port number (a cluster needs PORT+10000+nodes below 65536 for its bus, Sentinels PORT+%d+%d)", *port, sentinelPortOffset, upSentinels-1)
		return 2
	}
	if _, err := redisserver.RedisServer(); err != nil {
		c.errorf("up: %v", err)
		return 1
	}
	l, err := prepareLocal(c, *dir, env, keyType, *port, *fixPerms, shape)
	if err != nil {
		c.errorf("up: %v", err)
		return 1
	}

	// Ctrl-C during the start ends it: the half-started server is stopped.
	sigCtx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithTimeout(sigCtx, *timeout)
	defer cancel()
	if err := l.start(ctx, c.stdout); err != nil {
		c.errorf("up: %v", err)
		if errors.Is(err, redisserver.ErrPortInUse) {
			c.errorf("up: a port is taken; choose another with --port (and a new --dir)")
		}
		return 1
	}

	if code := l.renewIfExpiring(c, *dir, c.stdout); code != 0 {
		return code
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

// local is the state of an `up` directory: one server, or the nodes of a
// cluster.
type local struct {
	nodes       []localNode // one without --cluster or --sentinel
	sentinels   []localNode // with --sentinel
	shape       upShape
	users       serverconf.Users
	replication serverconf.User   // the replicas' user of a cluster or Sentinel deployment
	sentinel    sentinelUsers     // with --sentinel
	env         map[string]string // the variables of .env.secure
	envFile     string
	ca          *x509.CertPool
}

// localNode is one redis-server of an `up` directory.
type localNode struct {
	server redisserver.Dir
	port   int
}

// prepareLocal creates whatever is missing in dir and loads the rest. What
// exists is kept, so that a second run changes nothing.
func prepareLocal(c *cli, dir string, env redsafe.Environment, keyType certs.KeyType, port int, fixPerms bool, shape upShape) (*local, error) {
	top, err := redisserver.In(dir) // a single server's files live at the top
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(top.Dir, 0o700); err != nil {
		return nil, err
	}
	note := func(format string, args ...any) { fmt.Fprintf(c.stdout, "  "+format+"\n", args...) }
	l := &local{shape: shape, envFile: filepath.Join(dir, ".env.secure")}

	// Before anything is read or written: nobody else may have planted or
	// be able to replace what follows.
	guard := upGuard{fix: fixPerms, note: note}
	certDir := filepath.Join(top.Dir, "certs")
	secrets := filepath.Join(top.Dir, "secrets")
	aclFile := filepath.Join(top.Dir, "users.acl")
	nodesDir := filepath.Join(top.Dir, "nodes")
	for _, d := range []string{top.Dir, certDir, secrets, nodesDir} {
		if _, err := os.Lstat(d); d != top.Dir && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		check := guard.subdir
		if d == top.Dir {
			check = guard.dir // --dir itself may be a link the operator made
		}
		if err := check(d); err != nil {
			return nil, err
		}
	}
	if err := l.layout(top, nodesDir, port, guard); err != nil {
		return nil, err
	}
	for _, n := range append(slices.Clone(l.nodes), l.sentinels...) {
		if err := guard.inPlace(n.server, shape.many(), aclFile, l.envFile, certDir); err != nil {
			return nil, err
		}
	}

	if _, err := os.Stat(filepath.Join(certDir, "ca.crt")); errors.Is(err, fs.ErrNotExist) {
		o := certs.GenerateOptions{KeyType: keyType, Hosts: []string{"localhost", "127.0.0.1", "::1"}}
		if shape.masters > 0 {
			o.Client = "client" // what each node presents on the cluster bus
		}
		if _, err := certs.Generate(certDir, o); err != nil {
			return nil, fmt.Errorf("creating certificates: %w", err)
		}
		note("created %s: a CA and a server certificate for localhost, 127.0.0.1 and ::1 (%s keys)", rel(certDir), keyType)
	} else if _, err := os.Stat(filepath.Join(certDir, serverconf.ClientCertFileName)); shape.masters > 0 && err != nil {
		return nil, fmt.Errorf("%s has no %s, which cluster nodes present to each other on the bus: create it with `redsafe certs --dir %s --renew --client client`", rel(certDir), serverconf.ClientCertFileName, certDir)
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
	keyFile := filepath.Join(secrets, "encryption.key")
	_, keyCreated, err := loadOrCreate(guard, keyFile, func() string { return seal.GenerateKey().Encode() })
	if err != nil {
		return nil, err
	}
	var more string // the passwords besides admin, app and health
	if shape.many() {
		l.replication.Name = serverconf.ReplicationName
		pw, made, err := loadOrCreate(guard, filepath.Join(secrets, serverconf.ReplicationName+".password"), func() string { return redsafe.GeneratePassword(env) })
		if err != nil {
			return nil, err
		}
		l.replication.Password, created = pw, created || made
		more = ", the replication password"
	}
	if shape.sentinel {
		made, err := l.sentinel.loadOrCreate(guard, secrets, env)
		if err != nil {
			return nil, err
		}
		created = created || made
		more = ", the replication and Sentinel passwords"
	}
	if created || keyCreated {
		note("created %s: admin, app and health passwords%s and an encryption key (mode 0600)", rel(secrets), more)
	}

	var spec serverconf.Spec
	wrote := 0
	for i, n := range l.nodes {
		spec = serverconf.Spec{
			Environment: env, Port: n.port, TLSDir: certDir, ACLFile: aclFile,
			DataDir: n.server.Dir, PidFile: n.server.PidFile, LogFile: n.server.LogFile,
		}
		if shape.masters > 0 {
			spec.Cluster = &serverconf.ClusterNode{BusPort: n.port + 10000, ConfigFile: filepath.Join(n.server.Dir, "nodes.conf"), Replication: l.replication}
		}
		if shape.sentinel {
			spec.Monitored = &serverconf.MonitoredNode{Replication: l.replication, Monitor: l.sentinel.monitor}
			if i > 0 {
				spec.Monitored.ReplicaOf = hostPort("127.0.0.1", l.nodes[0].port)
			}
		}
		if existing, ok := confPort(n.server.Conf); ok {
			if !shape.many() {
				l.nodes[i].port = existing
				if existing != port && port != 6380 {
					return nil, fmt.Errorf("%s is set up for port %d; run `redsafe down --dir %s` and remove the directory to change the port", dir, existing, dir)
				}
			}
			continue
		}
		conf, err := serverconf.RedisConf(spec)
		if err != nil {
			return nil, err
		}
		write := secretfile.CreatePublic
		if shape.many() {
			write = secretfile.Create // masterauth: the replication password
		}
		if err := write(n.server.Conf, conf); err != nil {
			return nil, err
		}
		wrote++
		if !shape.many() {
			note("created %s: TLS port %d only, TLS %s", rel(n.server.Conf), n.port, map[bool]string{true: "1.3", false: "1.2 and 1.3"}[env == redsafe.Production])
		}
	}
	if shape.masters > 0 && wrote > 0 {
		note("created %s: %d nodes (%s), TLS only on ports %d-%d, the cluster bus and replication", rel(nodesDir), len(l.nodes), shape, l.nodes[0].port, l.nodes[len(l.nodes)-1].port)
	}
	if shape.sentinel {
		if wrote > 0 {
			note("created %s: %d data nodes, TLS only on ports %d-%d and replication", rel(nodesDir), len(l.nodes), l.nodes[0].port, l.nodes[len(l.nodes)-1].port)
		}
		if err := l.writeSentinelConfs(env, certDir, note); err != nil {
			return nil, err
		}
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
		s := envSpec{Environment: env, Host: "127.0.0.1", Port: l.nodes[0].port, User: l.users.App.Name,
			PasswordFile: filepath.Join(secrets, l.users.App.Name+".password"), EncryptionKeyFile: keyFile, CAFile: filepath.Join(certDir, "ca.crt")}
		for _, m := range l.masters()[1:] {
			s.Addrs = append(s.Addrs, hostPort("127.0.0.1", m.port))
		}
		if shape.sentinel {
			l.sentinel.envSpec(&s, l.sentinels, secrets)
		}
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

// ready reports whether the node on port answers an authenticated PING
// over TLS.
func (l *local) ready(port int) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := l.adminDo(port, "PING")
		return err
	}
}

// adminDo runs one command on the node on port as the admin user, over
// TLS verified against the directory's CA.
func (l *local) adminDo(port int, args ...string) (string, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	conn, err := resp.Dial(addr, &tls.Config{RootCAs: l.ca, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if reply, err := conn.Do("AUTH", l.users.Admin.Name, l.users.Admin.Password); err != nil || reply != "+OK" {
		return "", fmt.Errorf("AUTH as %s: %s", l.users.Admin.Name, strings.SplitN(reply+fmt.Sprint(err), " ", 2)[0])
	}
	reply, err := conn.Do(args...)
	if err == nil && strings.HasPrefix(reply, "-") {
		err = fmt.Errorf("%s: %s", args[0], resp.FirstWord(reply))
	}
	return reply, err
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
