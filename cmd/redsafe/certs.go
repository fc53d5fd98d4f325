package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/redsafe/redsafe/internal/backup"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/termsafe"
)

var certsCmd = &command{
	name:    "certs",
	summary: "create a CA and TLS certificates for Redis, or check existing ones",
	usage: `Usage: redsafe certs [--dir certs] [--hosts redis,localhost,127.0.0.1,::1]
                    [--key-type ecdsa-p256|rsa-4096] [--days 365] [--client NAME]
       redsafe certs renew [--dir certs] [--hosts ...] [--days 365] [--client NAME]
       redsafe certs reload [--dir .redsafe | --env-file F] --admin-password-file F [--json]
       redsafe certs rotate-ca [begin|switch|finish] [--dir .redsafe] --admin-password-file F [--json]
       redsafe certs --new-ca [--dir certs] [--hosts ...] [--client NAME]
       redsafe certs check [--dir certs] [--hosts HOST,...] [--json]

Creates a private certificate authority and a server certificate signed by
it, valid for every host in --hosts (names and IP addresses), with SHA-256
signatures:

  DIR/ca.crt, DIR/ca.key            the CA (give ca.crt to clients; keep ca.key offline)
  DIR/server.crt, DIR/server.key    for redis-server
  DIR/NAME.crt, DIR/NAME.key        with --client NAME, for mutual TLS
                                    (what redsafe env --client NAME uses)

Keys are written with mode 0600, certificates 0644, never through a
symbolic link. Existing files are refused; nothing is ever deleted:

  renew      (or --renew) reissues the server certificate and every
             client certificate in the directory (each NAME.crt with its
             NAME.key, keeping its names) signed by the existing ca.key,
             with the CA's key type unless --key-type, so every client's
             ca.crt keeps working. A client certificate it cannot reissue
             (another CA's, half a pair, not a client certificate) stops
             it before any file changes: move it out of the directory, or
             reissue it with --client NAME, which reissues (or creates)
             only that client's certificate, with the server's.
             Use it when a certificate expires or needs other hosts; it
             keeps the old hosts unless --hosts. Then load it with
             "certs reload", without a restart.
  --new-ca   replaces the CA and every certificate. Every client then needs
             the new ca.crt (REDIS_TLS_CA_CERT): use it only when the CA
             itself expires or its key may have leaked.

Both move the files they replace to timestamped backups first.

ECDSA P-256 is the default: a full handshake with it takes about 1 ms,
against about 5.5 ms with RSA 4096. Use rsa-4096 only where policy demands
RSA.

"certs reload" installs the files every data node already names
(CONFIG GET tls-cert-file, tls-key-file, and tls-client-cert-file and
tls-client-key-file when set, the certificate cluster nodes present to each
other) on the running deployment, as the admin user: one CONFIG SET of all
of them per node, after which Redis serves them to new connections (open
ones keep theirs). Before, it verifies the certificate on disk as the
node's clients will (chain, host, dates); after, a fresh handshake, with no
session to resume, must show the file's serial and expiry. Serials are
printed as openssl prints them (openssl s_client -connect HOST:PORT |
openssl x509 -noout -serial). --dir names a redsafe up directory (every
node of a cluster or a Sentinel deployment, found as status finds them),
--env-file a service's configuration (its server, every node of its
cluster, or, when REDIS_URL names Sentinels, the replicas they report and
then the master, last). Nodes are reloaded one at a time; the first that fails stops
the reload, and the nodes after it are not touched. A key that does not
match its certificate is refused by Redis, which keeps serving the
certificate it had: the node is named and the command exits 1. Sentinels
cannot reload a certificate (Redis has no SENTINEL CONFIG SET for tls-*):
it says which still serve an old one and the order to restart them in,
one at a time.

"certs rotate-ca" replaces the CA of a running redsafe up deployment
(single server or cluster) in three steps, each verified on every node
before it reports success, with the clients working throughout:

  begin    creates the new CA (certs/ca-next.crt, ca-next.key) and makes
           ca.crt a bundle of the old and the new CA; every node reads it
           again (CONFIG SET tls-ca-cert-file) and must hold both. Then
           give ca.crt to clients that keep a copy of it; services on
           redsafe that name the file read it again for new connections.
  switch   reissues the server certificate and every client certificate
           under the new CA and reloads every node; a client that trusts
           only the new CA must accept each one.
  finish   makes the new CA the only one (ca.crt, ca.key; the old ones go
           to backups) and reloads every node; a client that trusts only
           the old CA must be refused by each one.

Without a step it says where the rotation is and what to run next. A step
out of order is refused with nothing changed; a step can always be run
again. Sentinel deployments are refused: a Sentinel reads its CA only when
it starts (see the README's runbook).

"certs check" verifies the chain, the host names, key files and their
modes, and the expiry dates. It warns when a certificate has under 30 days
left, and exits 1 when one is expired, does not chain to the CA, or does
not cover a host given with --hosts.

Flags:
  --dir DIR          where the files are (default certs); reload: the
                     redsafe up directory (default .redsafe)
  --hosts LIST       comma-separated host names and IPs (default redis,localhost,127.0.0.1,::1)
  --key-type TYPE    ecdsa-p256 (default) or rsa-4096
  --days N           validity of the server and client certificates (default 365)
  --client NAME      also issue a client certificate NAME.crt (common name
                     NAME); renew: reissue only this client's, with the server's
  --renew            reissue the server and every client certificate under the
                     existing CA (certs renew)
  --env-file FILE    (reload) the service's configuration, instead of --dir
  --admin-password-file FILE  (reload, rotate-ca) the admin user's password (required)
  --admin-user NAME  (reload, rotate-ca) the operations user (default admin)
  --new-ca           replace the CA and every certificate (clients need the new ca.crt)
  --json             (check, reload, rotate-ca) print the report as JSON

Examples:
  redsafe certs
  redsafe certs --dir redis-secure/certs --hosts redis.internal,10.0.0.5 --client api
  redsafe certs renew --dir .redsafe/certs         # server.crt and every client's
  redsafe certs renew --dir certs --client api     # api.crt only, with server.crt
  redsafe certs reload --dir .redsafe --admin-password-file .redsafe/secrets/admin.password
  redsafe certs rotate-ca begin --dir .redsafe --admin-password-file .redsafe/secrets/admin.password
  redsafe certs rotate-ca --dir .redsafe                # where the rotation is
  redsafe certs check --dir redis-secure/certs --hosts redis.internal
  redsafe certs check --json | jq '.certificates[] | {file, days_left}'
`,
	run: runCerts,
}

func runCerts(c *cli, cmd *command, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return runCertsCheck(c, cmd, args[1:])
		case "reload":
			return runCertsReload(c, cmd, args[1:])
		case "rotate-ca":
			return runCertsRotateCA(c, cmd, args[1:])
		case "renew":
			// The subcommand spelling of --renew: one code path.
			return runCerts(c, cmd, append([]string{"--renew"}, args[1:]...))
		}
	}
	fs := c.flags(cmd)
	dir := fs.String("dir", "certs", "")
	hosts := fs.String("hosts", strings.Join(certs.DefaultHosts, ","), "")
	keyTypeName := fs.String("key-type", string(certs.ECDSAP256), "")
	days := fs.Int("days", certs.DefaultDays, "")
	client := fs.String("client", "", "")
	renew := fs.Bool("renew", false, "")
	newCA := fs.Bool("new-ca", false, "")
	force := fs.Bool("force", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	switch {
	case *force:
		// --force used to replace the CA too, breaking every client's
		// ca.crt; the two intents now have their own flags.
		c.errorf("certs: --force is gone: use --renew to reissue the server certificate under the existing CA (clients keep their ca.crt), or --new-ca to replace the CA as well")
		return 2
	case *renew && *newCA:
		c.errorf("certs: choose --renew (keep the CA) or --new-ca (replace it), not both")
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	keyType, err := certs.ParseKeyType(*keyTypeName)
	if err != nil {
		c.errorf("certs: %v", err)
		return 2
	}
	if *renew && !set["key-type"] {
		keyType = "" // the CA's key type
	}
	hostList := splitList(*hosts)
	if *renew && !set["hosts"] {
		hostList = nil // keep the hosts of the current server certificate
	} else if len(hostList) == 0 {
		c.errorf("certs: --hosts is empty; name at least one host, such as --hosts localhost,127.0.0.1")
		return 2
	}
	// Checked here, not left to Generate: it reads Days 0 as the default,
	// but --days 0 is the user's and is refused.
	if err := certs.CheckDays(*days); err != nil {
		c.errorf("%v", err)
		return 2
	}
	if keyType == certs.RSA4096 {
		fmt.Fprintln(c.stderr, "generating RSA 4096 keys; this can take a few seconds")
	}
	o := certs.GenerateOptions{Hosts: hostList, KeyType: keyType, Days: *days, Client: *client, ReplaceCA: *newCA}
	issue := certs.Generate
	if *renew {
		issue = certs.Renew
	}
	files, err := issue(*dir, o)
	if err != nil {
		var exists *backup.ExistsError
		if errors.As(err, &exists) {
			c.errorf("%s already exist; to reissue the server certificate under the same CA use --renew; to replace the CA as well use --new-ca (every client then needs the new ca.crt); old files are moved to timestamped backups, never deleted\ncheck the existing ones with `redsafe certs check --dir %s`", strings.Join(exists.Paths, ", "), *dir)
			return 1
		}
		c.errorf("%v", err)
		return 1
	}
	for _, b := range files.Backups {
		fmt.Fprintf(c.stdout, "moved old file to %s\n", b)
	}
	if *renew {
		fmt.Fprintf(c.stdout, "reissued %sthe server certificate for %s, valid %d days, signed by the existing CA:\n", clientCount(files.Clients), strings.Join(files.Hosts, ", "), *days)
		fmt.Fprintf(c.stdout, "  %-28s unchanged: clients keep trusting it\n", files.CA)
	} else {
		fmt.Fprintf(c.stdout, "created a CA and a server certificate for %s, valid %d days (%s keys):\n", strings.Join(files.Hosts, ", "), *days, keyType)
		fmt.Fprintf(c.stdout, "  %-28s give to clients (REDIS_TLS_CA_CERT)\n", files.CA)
		fmt.Fprintf(c.stdout, "  %-28s keep offline; it can issue certificates (0600)\n", files.CAKey)
	}
	fmt.Fprintf(c.stdout, "  %-28s tls-cert-file\n", files.Server)
	fmt.Fprintf(c.stdout, "  %-28s tls-key-file (0600)\n", files.ServerKey)
	for _, cl := range files.Clients {
		fmt.Fprintf(c.stdout, "  %-28s REDIS_TLS_CERT, client %q\n", cl.Cert, cl.CommonName)
		fmt.Fprintf(c.stdout, "  %-28s REDIS_TLS_KEY (0600)\n", cl.Key)
	}
	if *renew {
		fmt.Fprintf(c.stdout, "next: load it on the running servers without a restart: %s\n", reloadCommand(*dir))
	} else {
		fmt.Fprintf(c.stdout, "next: redsafe conf, or check them with `redsafe certs check --dir %s`\n", *dir)
	}
	return 0
}

func runCertsCheck(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", "certs", "")
	hosts := fs.String("hosts", "", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	report := certs.CheckDir(*dir, certs.CheckOptions{Hosts: splitList(*hosts)})
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else {
		fmt.Fprintf(c.stdout, "checking %s\n", *dir)
		for _, ch := range report.Checks {
			fmt.Fprintf(c.stdout, "  %-4s  %-26s %s\n", strings.ToUpper(string(ch.Status)), ch.Name, ch.Detail)
		}
		if report.OK {
			fmt.Fprintln(c.stdout, "OK")
		} else {
			fmt.Fprintln(c.stdout, "FAIL")
		}
	}
	if !report.OK {
		return 1
	}
	return 0
}

// clientCount is what the renew's first line says of the client
// certificates reissued with the server's: before it, so that it does not
// read as one more host.
func clientCount(clients []certs.ClientCert) string {
	switch len(clients) {
	case 0:
		return ""
	case 1:
		return "1 client certificate and "
	}
	return fmt.Sprintf("%d client certificates and ", len(clients))
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// reloadCommand is the `certs reload` that loads what renew wrote in
// certDir: a redsafe up directory keeps its certificates in certs/, beside
// secrets/admin.password.
func reloadCommand(certDir string) string {
	up := filepath.Dir(filepath.Clean(certDir))
	admin := filepath.Join(up, "secrets", "admin.password")
	if _, err := os.Lstat(admin); err == nil && filepath.Base(filepath.Clean(certDir)) == "certs" {
		return fmt.Sprintf("`redsafe certs reload --dir %s --admin-password-file %s`", termsafe.Escape(up), termsafe.Escape(admin))
	}
	return "`redsafe certs reload --env-file ENV --admin-password-file F` (Sentinels cannot reload one: restart them one at a time)"
}
