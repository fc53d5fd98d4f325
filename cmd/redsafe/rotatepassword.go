package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/cmd/internal/passrotate"
	"github.com/redsafe/redsafe/internal/backup"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/internal/termsafe"
)

var rotatePasswordCmd = &command{
	name:    "rotate-password",
	summary: "change a Redis user's password without dropping a connection",
	usage: `Usage: redsafe rotate-password --add        --admin-password-file F [--env-file F] [flags]
       redsafe rotate-password --remove-old --admin-password-file F [--env-file F] [flags]
       redsafe rotate-password --status     --admin-password-file F [--env-file F]

Rotates the password of the service's ACL user (the user of REDIS_URL or
REDIS_USERNAME) in three steps, none of which drops a connection:

  1. --add         ACL SETUSER USER >NEW: now the old and the new password
                   both work. The new password is written where the service
                   reads it: the file named by REDIS_PASSWORD_FILE, or
                   REDIS_PASSWORD in --env-file (old file kept as a backup,
                   mode 0600).
  2.               Clients move over. A service that reads REDIS_PASSWORD_FILE
                   picks the new password up on its next connection, without
                   a restart; others pick it up when they restart.
  3. --remove-old  Proves the new password logs in, then removes every other
                   password of the user (by hash: the old password is never
                   needed), and proves the new one still logs in.

On a Redis Cluster every step runs on every node, masters and replicas
(Redis does not replicate ACLs): --add adds the new password on each and
proves it logs in on all of them; --remove-old removes nothing anywhere
until the new password logs in on every node.

Through Sentinels (REDIS_URL with ?master_set=), the Sentinels name the
master, the replicas and the other Sentinels, and every step runs on every
data node. When the user is the one the Sentinels log into the data nodes
as (seen on the master: their links' CLIENT LIST entries), --add then sets
every Sentinel's auth-pass (SENTINEL SET), one at a time, and waits until
each has logged in again and sees the master and replicas healthy; a
Sentinel that does not is set back. --remove-old sets every Sentinel to
the password it keeps, proves the same, and only then removes the others.
With --sentinels the user is one of the Sentinels' own (default
REDIS_SENTINEL_USERNAME, written to REDIS_SENTINEL_PASSWORD_FILE): ACL
SETUSER on every Sentinel, saved with SENTINEL FLUSHCONFIG. The admin user
and password are the same on the Sentinels (redsafe up --sentinel), so
rotating the admin user (--user admin --password-file F with F the
--admin-password-file) changes it on every data node and every Sentinel.

The user replicas log into their master as (masteruser, the replication
user of redsafe up --cluster and --sentinel) is found on the nodes (CONFIG
GET masteruser, and the user of their replica connections): --add then
sets the new password as every node's masterauth (CONFIG SET, then CONFIG
REWRITE when the node has a configuration file, whose mode is narrowed
back to 0600 when it is on this machine), cuts every replica's link on its
master and waits until each has logged in again; --remove-old does the
same with the password it keeps before removing the others, and once
more after. A single master whose replicas are not found (no cluster, no
Sentinels) is refused: their masterauth cannot be changed from here.

Every step is verified on fresh connections, and saved with ACL SAVE when the
server keeps an ACL file. The changes need an operations user (admin in a
redsafe conf or up deployment); its password is read from a file, never from
the command line.

Flags:
  --add | --remove-old | --status   the step
  --env-file FILE             the service's env file (read, and updated by --add)
  --user NAME                 the user to rotate (default: the service's user)
  --password-file FILE        the password of a --user that is not the service's
                              (the Sentinels' monitor user): --add reads the
                              current one and writes the new one there,
                              --remove-old keeps the one it holds
  --sentinels                 rotate a user of the Sentinels, not of the data nodes
  --admin-user NAME           the operations user (default admin)
  --admin-password-file FILE  its password (required)
  --new-password-file FILE    --add: use this password instead of generating one
  --json                      print the result as JSON

Examples:
  redsafe rotate-password --add --env-file .redsafe/.env.secure \
      --admin-password-file .redsafe/secrets/admin.password
  # deploy, or wait until every service has reconnected, then:
  redsafe rotate-password --remove-old --env-file .redsafe/.env.secure \
      --admin-password-file .redsafe/secrets/admin.password

  # Sentinels: the user they log into the data nodes as, then their own
  redsafe rotate-password --add --env-file .redsafe/.env.secure --user sentinel \
      --password-file .redsafe/secrets/sentinel.password \
      --admin-password-file .redsafe/secrets/admin.password
  redsafe rotate-password --add --sentinels --env-file .redsafe/.env.secure \
      --admin-password-file .redsafe/secrets/admin.password
  redsafe rotate-password --status --env-file .redsafe/.env.secure \
      --admin-password-file .redsafe/secrets/admin.password
`,
	run: runRotatePassword,
}

func runRotatePassword(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	add := fs.Bool("add", false, "")
	removeOld := fs.Bool("remove-old", false, "")
	status := fs.Bool("status", false, "")
	envFile := fs.String("env-file", "", "")
	user := fs.String("user", "", "")
	onSentinels := fs.Bool("sentinels", false, "")
	passwordFileFlag := fs.String("password-file", "", "")
	adminUser := fs.String("admin-user", "admin", "")
	adminFile := fs.String("admin-password-file", "", "")
	newFile := fs.String("new-password-file", "", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	if n := countTrue(*add, *removeOld, *status); n != 1 {
		c.errorf("rotate-password: choose one step: --add, --remove-old or --status")
		return 2
	}
	if *adminFile == "" {
		c.errorf("rotate-password: --admin-password-file is required: the operations user changes the password (admin in a redsafe deployment: secrets/admin.password)")
		return 2
	}
	adminPassword, err := secretFrom(*adminFile, nil)
	if err != nil {
		c.errorf("rotate-password: %v", err)
		return 1
	}
	opts, err := c.options(*envFile)
	if err != nil {
		c.errorf("rotate-password: %v", err)
		return 2
	}
	conn, err := opts.Connection()
	if errors.Is(err, redsafe.ErrSentinelConnection) {
		// Through the Sentinels: the master they name now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err = opts.MasterConnection(ctx)
		cancel()
	}
	if err != nil {
		c.errorf("rotate-password: the service's configuration is refused by its policy, or no Sentinel named the master; run `redsafe check` for every problem:\n%v", termsafe.Error(err))
		return 1
	}
	if *onSentinels && conn.Sentinels == nil {
		c.errorf("rotate-password: --sentinels rotates a user of the Sentinels, and REDIS_URL names none (?master_set=)")
		return 2
	}
	// The user, its current password, and where the new one is written:
	// the service's own user (of the data nodes, or with --sentinels of
	// the Sentinels) by default, any other user from --password-file.
	ownUser, ownPassword := conn.Username, conn.Password
	destination := func() (passwordFile, error) { return passwordDestination(opts, *envFile) }
	if *onSentinels {
		ownUser, ownPassword = conn.Sentinels.Username, conn.Sentinels.Password
		destination = func() (passwordFile, error) { return sentinelPasswordDestination(opts, *envFile) }
	}
	if *user == "" {
		*user = ownUser
	}
	if *user == "" || *user == "default" {
		c.errorf("rotate-password: name an ACL user with --user or in REDIS_URL (REDIS_SENTINEL_USERNAME with --sentinels); the default user is not rotated")
		return 2
	}
	current := ownPassword
	switch {
	case *passwordFileFlag != "":
		current, err = secretFrom(*passwordFileFlag, nil)
		if err != nil {
			c.errorf("rotate-password: %v", err)
			return 1
		}
		destination = func() (passwordFile, error) { return passwordFile{path: *passwordFileFlag}, nil }
	case *user != ownUser && !*status:
		c.errorf("rotate-password: %s is not the service's user: name the file that holds its password with --password-file (--add reads the current one there and writes the new one, --remove-old keeps the one it holds)", *user)
		return 2
	}

	srv := passrotate.Server{Addr: conn.Addr, TLS: conn.TLS, NodeRoots: conn.NodeRootCAs, AdminUser: *adminUser, AdminPassword: adminPassword}
	var rot *rotation
	if conn.Sentinels != nil {
		rot, err = sentinelRotation(srv, conn, *user, current, *onSentinels, *removeOld)
	} else {
		rot, err = plainRotation(srv, *user)
	}
	if err != nil {
		c.errorf("rotate-password: %v; nothing was changed", termsafe.Error(err))
		return 1
	}

	var res *passrotate.Result
	switch {
	case *status && rot.sentinels != nil:
		var ok bool
		if res, ok = sentinelStatus(c, rot, *user, *asJSON); !ok {
			err = errors.New("a process did not answer (above)")
		} else if !*asJSON {
			printPasswordCount(c, *user, res.Passwords)
		}
	case *status:
		most := 0
		for _, node := range rot.nodes {
			n, err := node.Passwords(*user)
			if err != nil {
				c.errorf("rotate-password: %v", termsafe.Error(err))
				return 1
			}
			if len(rot.nodes) > 1 && !*asJSON {
				fmt.Fprintf(c.stdout, "  %s: %d password(s)\n", node.Addr, n)
			}
			most = max(most, n)
		}
		res = &passrotate.Result{User: *user, Passwords: most}
		if !*asJSON {
			printPasswordCount(c, *user, most)
		}
	case *add:
		res, err = rotateAdd(rot, opts, destination, *user, current, *newFile)
	case *removeOld:
		if current == "" {
			c.errorf("rotate-password: the service's configuration has no password to keep")
			return 1
		}
		res, err = rot.remove(*user, current)
	}
	if err != nil {
		c.errorf("rotate-password: %v", termsafe.Error(err)) // it can quote the server's replies
		if *add || *removeOld {
			c.errorf("rotate-password: the old password still logs in wherever it did; see `redsafe rotate-password --status%s` and run the step again once the cause is fixed", nextFlags(*envFile, *user, ownUser, *onSentinels, *passwordFileFlag, *adminUser, *adminFile))
		}
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
		return 0
	}
	if *status {
		return 0
	}
	for _, s := range res.Steps {
		fmt.Fprintf(c.stdout, "  ok    %-14s %s\n", s.Name, s.Detail)
	}
	if res.SaveNote != "" {
		fmt.Fprintf(c.stdout, "  warn  %-14s %s\n", "saved", res.SaveNote)
	}
	switch {
	case *add:
		fmt.Fprintf(c.stdout, "added on %s\nnext: let every client reconnect with the new password, then run\n  redsafe rotate-password --remove-old%s\n", rot.what, nextFlags(*envFile, *user, ownUser, *onSentinels, *passwordFileFlag, *adminUser, *adminFile))
	case *removeOld:
		fmt.Fprintf(c.stdout, "done: %s has only the new password on %s\n", *user, rot.what)
	}
	return 0
}

func printPasswordCount(c *cli, user string, most int) {
	fmt.Fprintf(c.stdout, "%s has %d password(s)%s\n", user, most, map[bool]string{true: ": a rotation is in progress; finish it with --remove-old", false: ""}[most > 1])
}

// nextFlags are the flags that name the same rotation in the command
// printed as the next step.
func nextFlags(envFile, user, ownUser string, onSentinels bool, passwordFile, adminUser, adminFile string) string {
	s := envFlag(envFile)
	if onSentinels {
		s += " --sentinels"
	}
	if user != ownUser {
		s += " --user " + user
	}
	if passwordFile != "" {
		s += " --password-file " + passwordFile
	}
	if adminUser != "admin" {
		s += " --admin-user " + adminUser
	}
	return s + " --admin-password-file " + adminFile
}

// rotateAdd adds the new password and then writes it where the service
// reads it, so that the change and the configuration cannot drift apart
// unnoticed.
func rotateAdd(rot *rotation, opts redsafe.Options, destination func() (passwordFile, error), user, current, newFile string) (*passrotate.Result, error) {
	dest, err := destination()
	if err != nil {
		return nil, err
	}
	next, err := secretFrom(newFile, func() string { return redsafe.GeneratePassword(redsafe.Validate(opts).Environment) })
	if err != nil {
		return nil, err
	}
	if next == current {
		return nil, errors.New("the new password is the current one; generate a new one (leave out --new-password-file)")
	}
	check := opts
	check.Password, check.PasswordFile, check.Credentials = next, "", nil
	for _, f := range redsafe.Validate(check).Errors() {
		if strings.HasPrefix(f.ID, "auth.password") {
			return nil, fmt.Errorf("the new password is refused by the policy: %s; %s", f.Message, f.Fix)
		}
	}
	if err := dest.check(next); err != nil {
		return nil, err
	}
	res, err := rot.add(user, current, next)
	if err != nil {
		return nil, err
	}
	bak, err := dest.write(next)
	if err != nil {
		return nil, fmt.Errorf("the new password is active on %s, but writing it to %s failed: %w; the old password still works, so nothing is locked out; fix the file and run --add again", rot.what, dest.path, err)
	}
	res.Steps = append(res.Steps, passrotate.Step{Name: "config", Detail: fmt.Sprintf("wrote the new password to %s (mode 0600; the previous file is %s)", dest.describe(), bak)})
	return res, nil
}

// passwordFile is where the service reads its password: a password file, or
// one variable of an env file.
type passwordFile struct {
	path     string
	variable string // "" for a password file
}

func passwordDestination(opts redsafe.Options, envFile string) (passwordFile, error) {
	switch {
	case opts.PasswordFile != "":
		return passwordFile{path: opts.PasswordFile}, nil
	case envFile != "":
		return passwordFile{path: envFile, variable: redsafe.EnvPassword}, nil
	}
	return passwordFile{}, errors.New("--add must write the new password where the service reads it: pass its --env-file, or set REDIS_PASSWORD_FILE")
}

func (p passwordFile) describe() string {
	if p.variable == "" {
		return p.path
	}
	return p.variable + " in " + p.path
}

// check refuses, before the server is touched, a password that the env
// file format cannot carry.
func (p passwordFile) check(password string) error {
	if p.variable == "" {
		return nil
	}
	return envfile.CheckValue(p.variable, password)
}

// write replaces the password, keeping the old file as a timestamped backup.
// Services read the file for every new connection: the backup is a hard
// link and the new file is renamed over the old one, so the path never
// disappears, and a failed write leaves the old file in place.
func (p passwordFile) write(password string) (string, error) {
	data := []byte(password + "\n")
	if p.variable != "" {
		old, err := secretfile.Read(p.path, secretfile.Named) // the env file holds secrets too
		if err != nil {
			return "", err
		}
		data, err = envfile.Set(old, p.variable, password)
		clear(old)
		if err != nil {
			return "", err
		}
	}
	bak, err := backup.LinkAside(p.path, time.Now())
	if err != nil {
		return "", err
	}
	return bak, secretfile.Replace(p.path, data, secretfile.Mode)
}

func envFlag(envFile string) string {
	if envFile == "" {
		return ""
	}
	return " --env-file " + envFile
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
