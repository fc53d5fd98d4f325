package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// defaultMaxClients is Redis's built-in maxclients.
const defaultMaxClients = 10000

// configWhy says why configuration could not be read.
func (r *run) configWhy() string {
	if r.configErr != "" {
		return r.configErr
	}
	return "not visible to this user"
}

// checkNetwork: net.protected-mode and net.bind-all.
func checkNetwork(r *run) {
	noPassword := r.anonymous || r.anonymousConfined
	if pm, ok := r.config("protected-mode"); !ok {
		r.cannotSee("net.protected-mode", r.configWhy())
	} else if pm == "no" && noPassword {
		r.add("net.protected-mode", sevError, "protected mode is off and the default user needs no password",
			"CONFIG GET protected-mode is no, and a client without credentials is logged in as default: nothing refuses clients from other hosts",
			"require a password (see auth.none), and set `protected-mode yes` as a second line of defence")
	}
	bind, ok := r.config("bind")
	if !ok {
		r.cannotSee("net.bind-all", r.configWhy())
		return
	}
	if all := bindsAll(bind); all != "" {
		sev := sevWarning
		if noPassword {
			sev = sevError
		}
		r.add("net.bind-all", sev, "the server listens on every network interface",
			fmt.Sprintf("CONFIG GET bind is %q (%s): every network that reaches this host reaches Redis", bind, all),
			"bind only the addresses clients use (e.g. `bind 127.0.0.1 -::1`, or the private address of the service network), and firewall the port")
	}
}

// bindsAll describes how a bind setting covers every interface, or "".
func bindsAll(bind string) string {
	if strings.TrimSpace(bind) == "" {
		return "no bind address: all interfaces"
	}
	for _, a := range strings.Fields(bind) {
		switch strings.TrimPrefix(a, "-") {
		case "*", "0.0.0.0":
			return "all IPv4 interfaces"
		case "::*", "::":
			return "all IPv6 interfaces"
		}
	}
	return ""
}

// checkLimits: limits.maxclients and limits.eviction.
func checkLimits(r *run) {
	if v, ok := r.config("maxclients"); !ok {
		r.cannotSee("limits.maxclients", r.configWhy())
	} else if n, err := strconv.Atoi(v); err == nil && n >= defaultMaxClients {
		r.add("limits.maxclients", sevNotice, "maxclients is left at the default",
			fmt.Sprintf("CONFIG GET maxclients is %d: a client that leaks connections, or an attacker, can open that many before anyone is refused, and each costs memory and a file descriptor", n),
			"set maxclients to what the deployment needs with headroom (`redsafe conf` uses 1000), and alert on connected_clients")
	}
	policy, ok := r.config("maxmemory-policy")
	if !ok {
		r.cannotSee("limits.eviction", r.configWhy())
		return
	}
	if strings.HasPrefix(policy, "allkeys-") {
		r.add("limits.eviction", sevWarning, "memory pressure can evict keys that have no TTL",
			fmt.Sprintf("CONFIG GET maxmemory-policy is %s: revocation lists, rate limits, locks and queues kept without a TTL can silently vanish when memory runs short", policy),
			"set `maxmemory-policy volatile-lru` (or volatile-lfu/volatile-ttl, or noeviction) so that only keys with a TTL are evicted, and keep cache entries on a TTL")
	}
}

// checkDangerousFeatures: config.dangerous-features.
func checkDangerousFeatures(r *run) {
	var on, local []string
	for _, name := range []string{"enable-protected-configs", "enable-debug-command", "enable-module-command"} {
		v, ok := r.config(name)
		if !ok {
			if r.configErr != "" {
				r.cannotSee("config.dangerous-features", r.configWhy())
				return
			}
			continue // older servers have no such setting: the feature is always on or off by design
		}
		switch v {
		case "yes":
			on = append(on, name)
		case "local":
			local = append(local, name)
		}
	}
	fix := "set enable-protected-configs, enable-debug-command and enable-module-command to `no` in redis.conf and restart: CONFIG SET dir/dbfilename writes files where an attacker chooses (a known path to code execution), DEBUG can crash or inspect the server, MODULE LOAD runs native code"
	switch {
	case len(on) > 0:
		r.add("config.dangerous-features", sevError, "runtime features that lead to code execution are enabled",
			strings.Join(on, ", ")+" is yes"+andLocal(local), fix)
	case len(local) > 0:
		r.add("config.dangerous-features", sevNotice, "runtime features that lead to code execution are enabled for local clients",
			strings.Join(local, ", ")+" is local: any process on the host (or a tunnel through it) may use them", fix)
	}
}

func andLocal(local []string) string {
	if len(local) == 0 {
		return ""
	}
	return "; " + strings.Join(local, ", ") + " is local"
}

// checkReplication: tls.replication and auth.replica-no-masterauth.
func checkReplication(r *run) {
	role, ok := r.infoField("role")
	if !ok {
		if v, okc := r.config("replicaof"); okc {
			role, ok = map[bool]string{true: "master", false: "slave"}[v == ""], true
		}
	}
	if !ok {
		r.cannotSee("tls.replication", "the replication role is read with INFO or CONFIG GET replicaof: "+r.configWhy())
		r.cannotSee("auth.replica-no-masterauth", r.configWhy())
		return
	}
	master := ""
	if h, ok := r.infoField("master_host"); ok {
		p, _ := r.infoField("master_port")
		master = h + ":" + p
	}
	tlsRepl, okTLS := r.config("tls-replication")
	clientsTLS := !r.plaintext
	switch {
	case role == "slave" && !okTLS:
		r.cannotSee("tls.replication", r.configWhy())
	case role == "slave" && tlsRepl == "no" && clientsTLS:
		r.add("tls.replication", sevError, "replication runs in plaintext while clients use TLS",
			fmt.Sprintf("this server replicates from %s with tls-replication no: the whole dataset and every write cross the network readable", orUnknown(master)),
			"set `tls-replication yes` on the replica, point replicaof at the master's TLS port, and restart")
	case role == "master" && clientsTLS:
		if n, _ := r.infoField("connected_slaves"); n != "" && n != "0" {
			if port, ok := r.settingOf("port", "tcp_port"); ok && port != "0" {
				r.add("tls.replication", sevWarning, "replicas may replicate in plaintext",
					fmt.Sprintf("%s replicas are connected and plaintext port %s is open: replicas without tls-replication use it", n, port),
					"set `port 0` on the master and `tls-replication yes` on every replica")
			}
		}
	}
	if role != "slave" {
		return
	}
	auth, ok := r.config("masterauth")
	if !ok {
		r.cannotSee("auth.replica-no-masterauth", r.configWhy())
		return
	}
	if auth == "" { // the value itself is never kept or shown
		r.add("auth.replica-no-masterauth", sevError, "a replica authenticates to its master without a password",
			fmt.Sprintf("this server replicates from %s with no masterauth: the master accepts unauthenticated replication, so anyone who reaches it can copy the whole dataset", orUnknown(master)),
			"require a password on the master, then set masteruser and masterauth on every replica (a dedicated replication user with +psync +replconf +ping)")
	}
}

func orUnknown(s string) string {
	if s == "" || s == ":" {
		return "its master"
	}
	return s
}

// checkCluster: tls.cluster.
func checkCluster(r *run) {
	enabled, ok := r.settingOf("cluster-enabled", "cluster_enabled")
	if !ok {
		r.cannotSee("tls.cluster", "cluster mode is read with CONFIG GET or INFO: "+r.configWhy())
		return
	}
	if !slices.Contains([]string{"yes", "1"}, enabled) || r.plaintext {
		return
	}
	v, ok := r.config("tls-cluster")
	if !ok {
		r.cannotSee("tls.cluster", r.configWhy())
		return
	}
	if v == "no" {
		bus, _ := r.config("cluster-port")
		r.add("tls.cluster", sevError, "the cluster bus runs in plaintext while clients use TLS",
			fmt.Sprintf("cluster-enabled yes with tls-cluster no (cluster bus port %s): node gossip and failover messages cross the network unauthenticated and readable", orDefault(bus, "tls-port + 10000")),
			"set `tls-cluster yes` on every node, then restart them one at a time")
	}
}

func orDefault(v, def string) string {
	if v == "" || v == "0" {
		return def
	}
	return v
}
