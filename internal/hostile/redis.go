package hostile

import (
	"path"
	"strconv"
	"strings"
)

// session is the Redis 7 a connection talks to until the attack: enough
// of one for the handshakes of rueidis and of the CLI's probes (HELLO,
// AUTH, CLIENT ..., SELECT, PING, CONFIG GET, INFO, ACL LOG, SCAN, ...).
type session struct {
	proto  int  // 2 or 3, as HELLO chose
	escape bool // plant Escape in the strings a client may print
}

// reply builds one RESP reply in the session's protocol.
type reply struct {
	b     []byte
	proto int
}

func (r *reply) simple(s string) *reply { r.b = append(r.b, '+'); return r.line(s) }
func (r *reply) err(s string) *reply    { r.b = append(r.b, '-'); return r.line(s) }
func (r *reply) int(n int64) *reply {
	r.b = append(r.b, ':')
	return r.line(strconv.FormatInt(n, 10))
}
func (r *reply) line(s string) *reply { r.b = append(append(r.b, s...), "\r\n"...); return r }

func (r *reply) bulk(s string) *reply {
	r.b = append(r.b, '$')
	r.line(strconv.Itoa(len(s)))
	return r.line(s)
}

func (r *reply) null() *reply {
	if r.proto == 3 {
		return r.line("_")
	}
	return r.line("$-1")
}

func (r *reply) array(n int) *reply {
	r.b = append(r.b, '*')
	return r.line(strconv.Itoa(n))
}

// mapOf starts a map of n pairs: a RESP3 map, a flat array in RESP2.
func (r *reply) mapOf(n int) *reply {
	if r.proto == 3 {
		r.b = append(r.b, '%')
		return r.line(strconv.Itoa(n))
	}
	return r.array(2 * n)
}

// pairs writes a map of string keys and bulk values.
func (r *reply) pairs(kv ...string) *reply {
	r.mapOf(len(kv) / 2)
	for _, s := range kv {
		r.bulk(s)
	}
	return r
}

func (sess *session) taint(s string) string {
	if sess.escape {
		return s + Escape
	}
	return s
}

// answer is a Redis 7's reply to cmd.
func (sess *session) answer(cmd []string) []byte {
	if len(cmd) == 0 {
		return nil // Redis ignores an empty line
	}
	name := strings.ToUpper(cmd[0])
	sub := ""
	if len(cmd) > 1 {
		sub = strings.ToUpper(cmd[1])
	}
	r := &reply{proto: sess.proto}
	switch name {
	case "HELLO":
		if len(cmd) > 1 {
			v, err := strconv.Atoi(cmd[1])
			if err != nil || v < 2 || v > 3 {
				return r.err("NOPROTO unsupported protocol version").b
			}
			sess.proto, r.proto = v, v
		}
		r.mapOf(7)
		r.bulk("server").bulk("redis")
		r.bulk("version").bulk("7.0.15")
		r.bulk("proto").int(int64(sess.proto))
		r.bulk("id").int(3)
		r.bulk("mode").bulk("standalone")
		r.bulk("role").bulk("master")
		r.bulk("modules").array(0)
	case "AUTH", "SELECT", "SET", "MULTI", "DISCARD", "QUIT", "RESET", "WATCH", "UNWATCH", "FLUSHDB":
		r.simple("OK")
	case "PING":
		if len(cmd) > 1 {
			return r.bulk(cmd[1]).b
		}
		r.simple("PONG")
	case "ECHO":
		if len(cmd) < 2 {
			return sess.wrongArgs(r, cmd[0]).b
		}
		r.bulk(cmd[1])
	case "CLIENT":
		switch sub {
		case "ID":
			r.int(3)
		case "GETNAME":
			r.null()
		case "LIST", "INFO":
			r.bulk("id=3 addr=" + sess.taint("127.0.0.1:50000") + " laddr=127.0.0.1:6379 fd=8 name= age=0 idle=0 flags=N db=0 user=default cmd=client|list\n")
		default: // SETNAME, SETINFO, TRACKING, NO-EVICT, NO-TOUCH, CAPA, ...
			r.simple("OK")
		}
	case "CONFIG":
		if sub != "GET" || len(cmd) < 3 {
			return r.simple("OK").b
		}
		sess.config(r, cmd[2:])
	case "INFO":
		r.bulk(sess.info())
	case "ACL":
		sess.acl(r, sub, cmd)
	case "DBSIZE", "DEL", "EXISTS", "UNLINK", "TOUCH":
		r.int(0)
	case "TTL", "PTTL":
		r.int(-2)
	case "TYPE":
		r.simple("none")
	case "GET", "GETDEL", "DUMP":
		r.null()
	case "MGET":
		r.array(len(cmd) - 1)
		for range cmd[1:] {
			r.null()
		}
	case "SCAN":
		r.array(2).bulk("0").array(0)
	case "EXEC", "COMMAND", "KEYS":
		r.array(0)
	case "CLUSTER": // a standalone Redis 7
		r.err("ERR This instance has cluster support disabled")
	default:
		r.err("ERR unknown command '" + sess.taint(cmd[0]) + "', with args beginning with: ")
	}
	return r.b
}

func (sess *session) wrongArgs(r *reply, name string) *reply {
	return r.err("ERR wrong number of arguments for '" + sess.taint(strings.ToLower(name)) + "' command")
}

// config answers CONFIG GET for the parameters a probe looks at.
func (sess *session) config(r *reply, patterns []string) {
	params := [][2]string{
		{"dir", sess.taint("/var/lib/redis")},
		{"logfile", sess.taint("")},
		{"port", "6379"},
		{"tls-port", "0"},
		{"bind", "127.0.0.1 -::1"},
		{"protected-mode", "yes"},
		{"requirepass", ""},
		{"aclfile", ""},
		{"maxmemory", "0"},
		{"maxmemory-policy", "noeviction"},
		{"save", "3600 1 300 100 60 10000"},
		{"appendonly", "no"},
		{"tls-auth-clients", "yes"},
		{"tls-protocols", ""},
		{"tls-replication", "no"},
		{"enable-debug-command", "no"},
		{"enable-module-command", "no"},
		{"enable-protected-configs", "no"},
		{"rename-command", ""},
	}
	var kv []string
	for _, p := range params {
		for _, pat := range patterns {
			if ok, _ := path.Match(strings.ToLower(pat), p[0]); ok {
				kv = append(kv, p[0], p[1])
				break
			}
		}
	}
	r.pairs(kv...)
}

func (sess *session) info() string {
	return strings.Join([]string{
		"# Server",
		"redis_version:7.0.15",
		"redis_mode:standalone",
		"os:" + sess.taint("Linux 6.1.0 x86_64"),
		"arch_bits:64",
		"tcp_port:6379",
		"executable:" + sess.taint("/usr/bin/redis-server"),
		"config_file:" + sess.taint(""),
		"",
		"# Clients",
		"connected_clients:1",
		"",
		"# Memory",
		"used_memory:1000000",
		"maxmemory:0",
		"maxmemory_policy:noeviction",
		"",
		"# Persistence",
		"rdb_last_bgsave_status:ok",
		"aof_enabled:0",
		"",
		"# Replication",
		"role:master",
		"connected_slaves:0",
		"",
		"# Keyspace",
		"",
	}, "\r\n")
}

func (sess *session) acl(r *reply, sub string, cmd []string) {
	switch sub {
	case "WHOAMI":
		r.bulk("default")
	case "USERS":
		r.array(1).bulk("default")
	case "LIST":
		r.array(1).bulk("user default on nopass ~* &* +@all")
	case "GETUSER":
		r.mapOf(6)
		r.bulk("flags").array(2).bulk("on").bulk("nopass")
		r.bulk("passwords").array(0)
		r.bulk("commands").bulk("+@all")
		r.bulk("keys").bulk(sess.taint("~*"))
		r.bulk("channels").bulk("&*")
		r.bulk("selectors").array(0)
	case "LOG":
		if len(cmd) > 2 && strings.EqualFold(cmd[2], "RESET") {
			r.simple("OK")
			return
		}
		r.array(1)
		r.mapOf(10)
		r.bulk("count").int(1)
		r.bulk("reason").bulk("auth")
		r.bulk("context").bulk("toplevel")
		r.bulk("object").bulk(sess.taint("AUTH"))
		r.bulk("username").bulk(sess.taint("admin"))
		r.bulk("age-seconds").bulk("1.5")
		r.bulk("client-info").bulk("id=7 addr=" + sess.taint("10.0.0.9:41234") + " laddr=127.0.0.1:6379 fd=9 name= age=0 idle=0 flags=N db=0 user=default cmd=auth")
		r.bulk("entry-id").int(0)
		r.bulk("timestamp-created").int(1700000000000)
		r.bulk("timestamp-last-updated").int(1700000000000)
	default:
		r.err("ERR unknown subcommand '" + sess.taint(sub) + "'. Try ACL HELP.")
	}
}
