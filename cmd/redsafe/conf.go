package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/backup"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/secretfile"
)

var confCmd = &command{
	name:    "conf",
	summary: "write redis.conf, the ACL file and a compose file for a TLS-only Redis",
	usage: `Usage: redsafe conf [--dir redis-secure] [--environment production] [flags]

Writes a complete, reviewed server deployment into DIR:

  redis.conf                 TLS port only (port 0), TLS 1.3 in production,
                             protected mode, maxclients, maxmemory with
                             volatile-lru (keys without a TTL are never evicted)
  users.acl                  default user off; admin; app (a cache's commands on
                             its key pattern only: no FLUSHALL, FLUSHDB, KEYS,
                             CONFIG, DEBUG, MODULE, SHUTDOWN, MIGRATE, Lua or
                             other @dangerous commands); health (PING only).
                             Passwords appear only as SHA-256 hashes. (0600)
  docker-compose.secure.yml  Redis on an internal network, no published port,
                             read-only mounts, a health check that logs in
                             without putting the password on a command line
  secrets/NAME.password      the plaintext password of each user (0600)
  certs/                     created with redsafe certs when missing

Existing passwords in DIR/secrets are kept. Existing files are refused unless
--force, which moves each to a timestamped backup before replacing it.

Flags:
  --dir DIR            the deployment directory (default redis-secure)
  --environment ENV    production (default), staging, development or testing
  --port PORT          the TLS port (default 6380)
  --bind LIST          addresses redis.conf binds (default 127.0.0.1,-::1);
                       the compose file binds the container's own interfaces
  --key-pattern P      keys the app user may touch (default *), such as svc:*
  --mutual-tls         require client certificates (tls-auth-clients yes)
  --maxclients N       (default 1000)
  --maxmemory SIZE     (default 256mb)
  --image IMAGE        a pinned redis image (default ` + serverconf.DefaultImage + `)
  --service NAME       the compose service and host name (default redis)
  --user UID:GID       the container's user (default: yours; 999:1000 as root)
  --force              replace existing files, keeping backups

Examples:
  redsafe conf
  redsafe conf --dir deploy/redis --environment staging --key-pattern orders:*
  cd redis-secure && docker compose -f docker-compose.secure.yml up -d
`,
	run: runConf,
}

func runConf(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", "redis-secure", "")
	envName := fs.String("environment", string(redsafe.Production), "")
	port := fs.Int("port", serverconf.DefaultPort, "")
	bind := fs.String("bind", "", "")
	keyPattern := fs.String("key-pattern", "", "")
	mutualTLS := fs.Bool("mutual-tls", false, "")
	maxClients := fs.Int("maxclients", serverconf.DefaultMaxClients, "")
	maxMemory := fs.String("maxmemory", serverconf.DefaultMaxMemory, "")
	image := fs.String("image", serverconf.DefaultImage, "")
	service := fs.String("service", "redis", "")
	user := fs.String("user", "", "")
	force := fs.Bool("force", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	env, err := redsafe.ParseEnvironment(*envName)
	if err != nil {
		c.errorf("conf: %v", err)
		return 2
	}
	if *user == "" {
		*user = containerUser()
		if os.Getuid() == 0 {
			fmt.Fprintf(c.stderr, "note: running as root, so the container runs as %s; run `chown -R %s %s` so it can read its 0600 files\n", *user, *user, *dir)
		}
	}
	spec := serverconf.Spec{
		Environment: env, Port: *port, Bind: splitList(*bind), MutualTLS: *mutualTLS,
		MaxClients: *maxClients, MaxMemory: *maxMemory, KeyPattern: *keyPattern,
	}
	compose := serverconf.ComposeOptions{Image: *image, Service: *service, User: *user}

	users, kept, err := deploymentUsers(filepath.Join(*dir, serverconf.SecretsDirName), env)
	if err != nil {
		c.errorf("conf: %v", err)
		return 1
	}
	files, err := serverconf.Deployment(spec, users, compose)
	if err != nil {
		c.errorf("conf: %s", strings.TrimPrefix(err.Error(), "serverconf: "))
		return 2
	}
	// Secrets that are already there are kept as they are, not rewritten.
	files = slices.DeleteFunc(files, func(f serverconf.File) bool { return kept[f.Name] })

	certDir := filepath.Join(*dir, serverconf.CertsDirName)
	_, statErr := os.Stat(filepath.Join(certDir, certs.CAFile))
	needCerts := errors.Is(statErr, os.ErrNotExist)

	written, err := serverconf.Write(*dir, files, *force, time.Now())
	if err != nil {
		var exists *backup.ExistsError
		if errors.As(err, &exists) {
			c.errorf("conf: %s already exist; pass --force to replace them (the old files are moved to timestamped backups)", strings.Join(exists.Paths, ", "))
			return 1
		}
		c.errorf("conf: %v", err)
		return 1
	}
	for _, w := range written {
		fmt.Fprintf(c.stdout, "wrote %s (%04o)\n", w.Path, w.Mode)
		if w.Backup != "" {
			fmt.Fprintf(c.stdout, "  the previous file is in %s\n", w.Backup)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(kept)) {
		fmt.Fprintf(c.stdout, "kept  %s\n", filepath.Join(*dir, name))
	}
	if needCerts {
		o := certs.GenerateOptions{Hosts: []string{*service, "localhost", "127.0.0.1", "::1"}}
		if *mutualTLS {
			o.Client = "client"
		}
		if _, err := certs.Generate(certDir, o); err != nil {
			c.errorf("conf: creating certificates: %v", err)
			return 1
		}
		fmt.Fprintf(c.stdout, "wrote %s: a CA and a server certificate for %s (keys 0600)\n", certDir, strings.Join(o.Hosts, ", "))
	}
	// A confined app user may not write verify's probe key unless verify
	// knows the pattern. Spec refused patterns with spaces; the quotes
	// keep the shell from expanding the glob.
	shownPattern := "'" + strings.ReplaceAll(*keyPattern, "'", `'\''`) + "'"
	verifyFlags := ""
	if *keyPattern != "" && *keyPattern != serverconf.DefaultKeyPattern {
		verifyFlags = " --key-pattern " + shownPattern
	}
	fmt.Fprintf(c.stdout, `
next:
  cd %[1]s && docker compose -f %[2]s up -d
  redsafe env --environment %[3]s --host %[4]s --port %[5]d \
      --password-file %[6]s --certs %[7]s
  redsafe verify --env-file .env.secure%[8]s
`, *dir, serverconf.ComposeFileName, env, *service, *port,
		filepath.Join(*dir, serverconf.SecretFileName(serverconf.AppName)), certDir, verifyFlags)
	if verifyFlags != "" {
		fmt.Fprintf(c.stdout, `
note: the app user may read and write only keys matching %[1]s, but it may
  still list the NAME of every key in the server: Redis does not filter SCAN
  by key pattern (nor CLIENT TRACKING invalidations in BCAST mode without a
  PREFIX). When key names are sensitive, give each service its own server.
  `+"`redsafe audit`"+` reports it as acl.key-names-visible.
`, shownPattern)
	}
	return 0
}

// deploymentUsers loads the passwords already in secrets/ and generates the
// missing ones. kept names the secret files that exist and must not be
// rewritten. An existing password that is too weak for env is refused by
// serverconf when the ACL is rendered.
func deploymentUsers(secrets string, env redsafe.Environment) (serverconf.Users, map[string]bool, error) {
	u := serverconf.NewUsers(env)
	kept := map[string]bool{}
	for _, x := range []*serverconf.User{&u.Admin, &u.App, &u.Health} {
		name := serverconf.SecretFileName(x.Name)
		// The one reader of secret files: one line, this user's, mode 0600.
		pw, err := secretfile.ReadLine(filepath.Join(filepath.Dir(secrets), name), secretfile.Owned)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return u, nil, fmt.Errorf("%w; remove it to have a new password generated", err)
		}
		x.Password, kept[name] = pw, true
	}
	return u, kept, nil
}

// containerUser is the uid:gid the compose service runs as: the caller's, so
// that the container can read the 0600 files it mounts, but never root.
func containerUser() string {
	if uid := os.Getuid(); uid > 0 {
		return fmt.Sprintf("%d:%d", uid, os.Getgid())
	}
	return serverconf.DefaultContainerUser
}
