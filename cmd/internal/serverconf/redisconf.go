package serverconf

import (
	"fmt"
	"github.com/redsafe/redsafe/internal/redisserver"
	"net"
	"path"
	"strings"

	"github.com/redsafe/redsafe"
)

// tls12Ciphers restricts TLS 1.2 (allowed outside production) to forward
// secret AEAD suites, as Mozilla's "intermediate" profile does. TLS 1.3
// suites are all sound and keep OpenSSL's defaults.
const tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" +
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

// RedisConf renders redis.conf for s. Each setting carries the reason for
// it, so that the file can be reviewed on its own.
func RedisConf(s Spec) ([]byte, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	var b confWriter
	comment, set := b.comment, b.set
	replication := func(u User) {
		comment("A replica logs in to its master as the replication user, which may",
			"run PSYNC, REPLCONF and PING only. This line makes the file a secret.")
		set("masteruser", u.Name)
		set("masterauth", redisserver.ConfQuote(u.Password))
		comment("A replica loads a full sync straight from the socket, never through",
			"a dump.rdb on disk: persistence is off, and such a file would hold",
			"every key name and reload stale data after a restart.")
		set("repl-diskless-sync", "yes")
		set("repl-diskless-load", "swapdb")
	}
	section := func(title string) {
		b.WriteString("\n# --- " + title + " " + strings.Repeat("-", 60-len(title)) + "\n")
	}

	comment(
		fmt.Sprintf("redis.conf for a TLS-only Redis (environment: %s), written by redsafe.", s.Environment),
		"Every setting below is a security decision with its reason. Regenerate",
		"with `redsafe conf` or `redsafe up` rather than loosening it by hand.",
	)

	section("network: TLS only")
	comment("No plaintext listener at all: a client that forgets TLS gets",
		"\"connection refused\", not a server that answers in clear text.")
	set("port", "0")
	set("tls-port", fmt.Sprint(s.Port))
	comment("Listen only where told. The default is loopback; the compose",
		"deployment widens it on its command line, inside an internal network.")
	set("bind", s.Bind...)
	comment("Refuse unauthenticated clients from other hosts even if the ACL file",
		"were ever replaced by one with a password-less default user. The",
		"official docker image compiles this off by default, so say it.")
	set("protected-mode", "yes")
	comment("No unix socket is configured: every connection goes through TLS and ACLs.")

	section("TLS")
	set("tls-cert-file", redisserver.ConfQuote(s.CertFile()))
	set("tls-key-file", redisserver.ConfQuote(s.KeyFile()))
	set("tls-ca-cert-file", redisserver.ConfQuote(s.CAFile()))
	if s.MutualTLS {
		comment("Mutual TLS: clients must present a certificate signed by the CA.")
	} else {
		comment("Clients authenticate with ACL passwords; set --mutual-tls to also",
			"require client certificates.")
	}
	set("tls-auth-clients", yesNo(s.MutualTLS))
	if s.Environment == redsafe.Production {
		comment("Production accepts TLS 1.3 only, as the redsafe production policy requires.")
	} else {
		comment("TLS 1.2 is accepted outside production, with forward-secret AEAD ciphers only.")
	}
	set("tls-protocols", redisserver.ConfQuote(s.TLSProtocols()))
	if s.Environment != redsafe.Production {
		set("tls-ciphers", redisserver.ConfQuote(tls12Ciphers))
	}
	set("tls-prefer-server-ciphers", "yes")
	comment("Session resumption saves a full handshake on every reconnect.")
	set("tls-session-caching", "yes")
	set("tls-session-cache-timeout", "300")
	comment("If replication is ever configured, it must not fall back to plaintext.")
	set("tls-replication", "yes")
	if n := s.Cluster; n != nil {
		section("cluster")
		comment("A Redis Cluster node. The cluster bus speaks TLS too, and announces",
			"the TLS ports to clients (CLUSTER SLOTS, MOVED). Nodes authenticate",
			"each other on the bus with certificates: each presents the client",
			"certificate below, signed by the CA every node trusts.")
		set("cluster-enabled", "yes")
		set("cluster-config-file", redisserver.ConfQuote(n.ConfigFile))
		set("cluster-port", fmt.Sprint(n.BusPort))
		set("cluster-node-timeout", "5000")
		set("tls-cluster", "yes")
		set("tls-client-cert-file", redisserver.ConfQuote(path.Join(s.TLSDir, ClientCertFileName)))
		set("tls-client-key-file", redisserver.ConfQuote(path.Join(s.TLSDir, ClientKeyFileName)))
		replication(n.Replication)
	}
	if m := s.Monitored; m != nil {
		section("replication, watched by Sentinels")
		comment("A data node of a Sentinel deployment. When the master fails, the",
			"Sentinels promote a replica and point the others at it (REPLICAOF,",
			"then CONFIG REWRITE of this file), so every node, the master too,",
			"carries the replication login. ACLs are not replicated: every node",
			"gets the same ACL file.")
		replication(m.Replication)
		if m.ReplicaOf != "" {
			host, port, _ := net.SplitHostPort(m.ReplicaOf)
			set("replicaof", host, port)
		}
		set("replica-read-only", "yes")
	}

	section("users and permissions")
	comment("Users live in the ACL file: the default user is off, the app user",
		"has a cache's commands only, passwords are stored as SHA-256 hashes.",
		"rename-command is not used: it hides commands from everyone, breaks",
		"clients and tools, and cannot express per-user rights. ACLs can.")
	set("aclfile", redisserver.ConfQuote(s.ACLFile))
	comment("Users created later with ACL SETUSER get no pub/sub channels either.")
	set("acl-pubsub-default", "resetchannels")
	comment("Refused commands and failed logins are kept for ACL LOG.")
	set("acllog-max-len", "128")
	comment("Even the admin user cannot load modules, run DEBUG (which can crash",
		"or inspect the server) or change protected settings such as dir and",
		"dbfilename at runtime: those are the classic paths from a leaked",
		"password to code execution.")
	set("enable-debug-command", "no")
	set("enable-module-command", "no")
	set("enable-protected-configs", "no")

	section("limits")
	set("maxclients", fmt.Sprint(s.MaxClients))
	comment("A cache must not grow until the host kills it. When full, only keys",
		"with a TTL are evicted (least recently used first); a write that would",
		"need to evict a key without a TTL fails with OOM instead of silently",
		"deleting data someone meant to keep.")
	set("maxmemory", s.MaxMemory)
	set("maxmemory-policy", "volatile-lru")

	section("persistence: off")
	comment("This is a cache: after a restart it is empty and refills. Nothing is",
		"written to disk, so no snapshot of (encrypted) values and (plaintext)",
		"key names lingers in backups or on a volume. To persist, set",
		"`appendonly yes` and give `dir` a private volume (mode 0700) instead",
		"of the tmpfs the compose file mounts.")
	set("save", `""`)
	set("appendonly", "no")
	set("dir", redisserver.ConfQuote(s.DataDir))

	section("process")
	// Never daemonize: redis stays the child of whoever started it, so that
	// its pid is known without trusting a pid file (redisserver launches
	// `redsafe up`'s server detached instead), and in a container it is the
	// container's process.
	set("daemonize", "no")
	if s.PidFile != "" {
		set("pidfile", redisserver.ConfQuote(s.PidFile))
	}
	if s.LogFile == "" {
		comment("Log to stdout (docker logs, journald).")
	}
	set("logfile", redisserver.ConfQuote(s.LogFile))
	set("loglevel", "notice")
	set("always-show-logo", "no")
	return []byte(b.String()), nil
}

// confWriter writes a redis.conf or sentinel.conf, one directive or
// comment per line.
type confWriter struct{ strings.Builder }

func (w *confWriter) comment(lines ...string) {
	for _, l := range lines {
		w.WriteString("# " + l + "\n")
	}
}

func (w *confWriter) set(key string, values ...string) {
	w.WriteString(key + " " + strings.Join(values, " ") + "\n")
}
