package serverconf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Redis ACL files cannot hold comments (a line must start with "user"), so
// the reasons for every rule are here.

// DefaultUserRules switch the default user off and strip it of passwords,
// keys, channels and commands: every connection must log in as a named user,
// and a client that sends no AUTH can do nothing but AUTH/HELLO.
const DefaultUserRules = "off resetpass resetkeys resetchannels -@all"

// AdminRules give operations every command, key and channel. Runtime DEBUG,
// MODULE and protected configs are still refused by redis.conf.
const AdminRules = "~* &* +@all"

// ReplicationRules allow what a replica sends its master: PSYNC, REPLCONF
// and PING, no keys, no channels.
const ReplicationRules = "resetkeys resetchannels -@all +psync +replconf +ping"

// SentinelMonitorRules are what a Sentinel needs on a data node, as
// Redis's Sentinel documentation lists them, with one channel instead of
// allchannels: the Sentinels find each other through __sentinel__:hello,
// and nobody else may publish there (whoever can forge a hello can forge
// topology).
const SentinelMonitorRules = "resetkeys resetchannels &__sentinel__:hello -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill"

// SentinelMonitorName is the default name of the user the Sentinels log
// into the data nodes as.
const SentinelMonitorName = "sentinel"

// appSentinelCommand is what the app user adds on a Sentinel deployment's
// data nodes: ROLE, which rueidis asks of the master the Sentinels name,
// to refuse one that is a replica by now. It comes after the deny list,
// which removes ROLE with @admin and @dangerous.
const appSentinelCommand = "+role"

// ReplicationName is the default name of the replication user.
const ReplicationName = "replication"

// HealthRules allow PING and nothing else: no keys, no channels. AUTH and
// HELLO need no permission (redis allows them to every user), which is all
// a health check needs besides PING.
const HealthRules = "resetkeys resetchannels -@all +ping"

// appCommands are the commands a cache and the redsafe library need.
// Everything else is refused because it is not in this list.
//
//   - hello, ping, echo, select: connection set-up as rueidis does it
//     (HELLO 3 AUTH ... SETNAME; ECHO is its no-op in BCAST tracking mode).
//   - client: CLIENT ID, SETNAME, SETINFO, TRACKING, CACHING, INFO, ...;
//     the dangerous subcommands (KILL, LIST, PAUSE, UNPAUSE, UNBLOCK,
//     NO-EVICT) are removed again by -@dangerous below. NO-EVICT is admin
//     only on purpose: it exempts a connection from client eviction.
//   - strings: GET/SET (with EX/PX/EXAT/PXAT/KEEPTTL/NX/XX/GET), the older
//     SETEX/PSETEX that Python services use, GETEX, GETDEL, MGET, MSET.
//     No INCR/APPEND/SETRANGE: values are sealed tokens, so in-place edits
//     can only corrupt them.
//   - keyspace: DEL, UNLINK, EXISTS, TYPE, TTL/PTTL, EXPIRETIME/PEXPIRETIME,
//     EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT, PERSIST, SCAN. Not KEYS (blocks the
//     server), RANDOMKEY, RENAME, COPY, DUMP/RESTORE (admin only), SORT,
//     OBJECT, MEMORY.
//   - transactions: WATCH/UNWATCH/MULTI/EXEC/DISCARD, for check-and-set
//     without Lua (key rotation) and for rueidis's client-side caching,
//     which reads "PTTL key; GET key" inside MULTI/EXEC.
//   - WAIT: Cache.SetWait asks how many replicas acknowledged a write.
//   - UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: rueidis sends them when it
//     recycles a connection; with no channels they can do nothing else.
var appCommands = []string{
	"+hello", "+ping", "+echo", "+select", "+client",
	"+get", "+set", "+setex", "+psetex", "+getex", "+getdel", "+mget", "+mset",
	"+del", "+unlink", "+exists", "+type", "+ttl", "+pttl", "+expiretime", "+pexpiretime",
	"+expire", "+pexpire", "+expireat", "+pexpireat", "+persist", "+scan",
	"+watch", "+unwatch", "+multi", "+exec", "+discard",
	"+wait", // Cache.SetWait: how many replicas hold a write; it blocks only its own connection
	"+unsubscribe", "+punsubscribe", "+sunsubscribe",
	// CLUSTER SLOTS and SHARDS: how rueidis learns a cluster's nodes, and
	// that a server is not one. Read-only, and in neither @dangerous nor
	// @admin, so the deny list below leaves them.
	"+cluster|slots", "+cluster|shards",
}

// appDenied comes after the allow list, so it wins even if that list ever
// grows by mistake. Blocking Lua (EVAL, EVALSHA, FUNCTION, SCRIPT) removes
// the attack surface of the 2025 Lua CVEs (CVE-2025-49844, -46817, -46818,
// -46819) for the app user. Naming commands that -@all already refused is
// deliberate: the file says what it refuses.
var appDenied = []string{
	"-@dangerous", "-@scripting", "-@admin",
	"-flushall", "-flushdb", "-keys", "-config", "-debug", "-module", "-shutdown", "-migrate",
}

// AppRules returns the ACL rules of the app user (without "on" and the
// password), the single definition that `redsafe audit` compares a live
// server against. keyPattern "" means "*". The pattern must have been
// validated (see Spec); ACL refuses a pattern with spaces.
//
// The app user can read and write keys matching keyPattern only, and has
// no pub/sub channels. Two commands reveal key NAMES (never values)
// outside the pattern, a limit of redis ACLs rather than a choice: SCAN
// lists every key, and CLIENT TRACKING in BCAST mode without a PREFIX
// reports invalidations of every key. Both are needed by caching clients;
// give each service its own server (the default, pattern "*") when key
// names themselves are secret.
func AppRules(keyPattern string) string {
	if keyPattern == "" {
		keyPattern = DefaultKeyPattern
	}
	rules := []string{"resetkeys", "~" + keyPattern, "resetchannels", "-@all"}
	rules = append(rules, appCommands...)
	rules = append(rules, appDenied...)
	return strings.Join(rules, " ")
}

// ACL renders the ACL file for s and u. Passwords appear only as
// "#<sha256 hex>" hashes. The file is a secret all the same (mode 0600):
// hashes of weak passwords could be brute-forced, so u is checked against
// the policy of s's environment first.
func ACL(s Spec, u Users) ([]byte, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	u = u.withDefaults()
	if err := u.check(s.Environment); err != nil {
		return nil, err
	}
	var own []User // users of a deployment's servers, besides u
	if n := s.Cluster; n != nil {
		own = append(own, n.Replication)
	}
	if m := s.Monitored; m != nil {
		own = append(own, m.Replication, m.Monitor)
	}
	for i, o := range own {
		if problems := passwordProblems(o.Password, s.Environment); len(problems) > 0 {
			return nil, fmt.Errorf("serverconf: the password of %q is refused by the %s policy: %s", o.Name, s.Environment, strings.Join(problems, "; "))
		}
		for _, x := range append(u.list(), own[:i]...) {
			if x.Name == o.Name || x.Password == o.Password {
				return nil, fmt.Errorf("serverconf: the user %q must have a name and password of its own (%q shares one)", o.Name, x.Name)
			}
		}
	}
	var b strings.Builder
	line := func(name, rules string, password string) {
		b.WriteString("user " + name + " ")
		if password != "" {
			b.WriteString("on " + passwordHash(password) + " ")
		}
		b.WriteString(rules + "\n")
	}
	line("default", DefaultUserRules, "")
	line(u.Admin.Name, AdminRules, u.Admin.Password)
	app := AppRules(s.KeyPattern)
	if s.Monitored != nil {
		app += " " + appSentinelCommand
	}
	line(u.App.Name, app, u.App.Password)
	line(u.Health.Name, HealthRules, u.Health.Password)
	if s.Cluster != nil {
		line(s.Cluster.Replication.Name, ReplicationRules, s.Cluster.Replication.Password)
	}
	if m := s.Monitored; m != nil {
		line(m.Replication.Name, ReplicationRules, m.Replication.Password)
		line(m.Monitor.Name, SentinelMonitorRules, m.Monitor.Password)
	}
	return []byte(b.String()), nil
}

// passwordHash is the ACL form of a password: "#" and the hex SHA-256.
func passwordHash(pw string) string {
	h := sha256.Sum256([]byte(pw))
	return "#" + hex.EncodeToString(h[:])
}
