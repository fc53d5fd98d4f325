package audit

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/resp"
)

// Brute-force thresholds: failed authentications in ACL LOG.
const (
	bruteForceWarning = 5
	bruteForceError   = 100
)

// Anonymity is what a connection without credentials may do.
type Anonymity int

const (
	// AuthRequired: PING was refused with NOAUTH (or another refusal).
	AuthRequired Anonymity = iota
	// AnonymousRuns: the default user has no password; commands run.
	AnonymousRuns
	// AnonymousConfined: logged in as a password-less default user that
	// may not run PING (NOPERM).
	AnonymousConfined
	// ProtectedModeOnly: DENIED; only protected mode refuses the client.
	ProtectedModeOnly
)

// PingWithoutCredentials sends PING on c, a new connection that has not
// authenticated, and says what that shows. verify's auth.required asks it
// the same way. reply is the server's answer.
func PingWithoutCredentials(c *resp.Conn) (a Anonymity, reply resp.Value, err error) {
	v, err := c.DoValue("PING")
	switch {
	case err != nil:
		return AuthRequired, v, err
	case v.Type == '+':
		return AnonymousRuns, v, nil
	case strings.HasPrefix(v.Str, "NOPERM"):
		return AnonymousConfined, v, nil
	case strings.HasPrefix(v.Str, "DENIED"):
		return ProtectedModeOnly, v, nil
	}
	return AuthRequired, v, nil
}

// checkNoAuth sends PING on a new connection without credentials.
func checkNoAuth(r *run) {
	c, err := r.dialRaw()
	if err != nil {
		r.cannotSee("auth.none", "cannot open a connection without credentials: "+err.Error())
		return
	}
	defer c.Close()
	a, v, err := PingWithoutCredentials(c)
	fix := "require authentication: switch the default user off (`user default off` in the ACL file) and give each service its own user and password; `redsafe conf` writes such a users.acl"
	exposed := "anyone who reaches the port can read, change and delete every key"
	if r.sentinel {
		fix = "require authentication on every Sentinel: `user default off` in sentinel.conf (or ACL SETUSER default off, then SENTINEL FLUSHCONFIG), a user of its own for clients (REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD_FILE) and sentinel-user/sentinel-pass for the Sentinels' links to each other"
		exposed = "anyone who reaches the port can learn where the master is and, with the SENTINEL commands the default user may run, force a failover or point the Sentinel elsewhere"
	}
	switch {
	case err != nil:
		r.cannotSee("auth.none", "PING without credentials: "+err.Error())
	case a == AnonymousRuns:
		r.anonymous = true
		r.add("auth.none", sevCritical, "a connection without credentials can run commands",
			fmt.Sprintf("PING on a new connection to %s without AUTH answered %s: %s", r.ep.addr, v.String(), exposed), fix)
	case a == AnonymousConfined:
		r.anonymousConfined = true
	case a == ProtectedModeOnly:
		r.add("auth.none", sevError, "only protected mode stops clients without credentials",
			"PING without AUTH was refused with DENIED: the default user has no password, and protected mode refuses clients from other hosts only while no bind address is set", fix)
	}
}

// checkWeakPassword judges the password in use against the policy of the
// environment, as redsafe.Validate does.
func checkWeakPassword(r *run) {
	pw := r.ep.password
	if pw == "" {
		return
	}
	env := r.ep.policy.Environment
	sev := redsafe.Severity("")
	var problems []string
	for _, f := range redsafe.Validate(redsafe.Options{Environment: env, Password: pw}).Errors() {
		switch f.ID {
		case "auth.password-placeholder", "auth.password-repeated":
			sev = sevCritical
		case "auth.password-short", "auth.password-weak":
			if sev == "" {
				sev = sevError
			}
		default:
			continue
		}
		problems = append(problems, f.Message)
	}
	if sev == "" {
		return
	}
	p := redsafe.PolicyFor(env)
	r.add("auth.weak-password", sev, fmt.Sprintf("the password of %s is below the %s policy", r.ep.shown(), env),
		strings.Join(problems, "; ")+fmt.Sprintf(" (%s requires at least %d characters and %.0f bits)", env, p.MinPasswordLength, p.MinPasswordBits),
		fmt.Sprintf("generate one with `redsafe password --environment %s`, set its hash in the ACL file and the password in REDIS_PASSWORD", env))
}

// checkDefaultUser looks at the default user: on without a password, or on
// with every command.
func checkDefaultUser(r *run) {
	const id = "auth.default-user"
	off := "switch the default user off (`user default off` in the ACL file, or ACL SETUSER default off and ACL SAVE) and give each service a named user"
	if r.anonymous {
		r.add(id, sevCritical, "the default user is on without a password",
			"a client that sends no credentials is logged in as default and may run commands", off)
		return
	}
	v, err := r.do("ACL", "GETUSER", "default")
	if err != nil || v.IsError() || v.Nil {
		if r.anonymousConfined {
			r.add(id, sevWarning, "the default user is on without a password",
				"a client without credentials is logged in as default; it may not run PING, but its other rights could not be read ("+why(v, err)+")", off)
			return
		}
		r.cannotSee(id, "ACL GETUSER default: "+why(v, err))
		return
	}
	u := pairs(v)
	flags := texts(u["flags"])
	if slices.Contains(flags, "off") {
		return
	}
	if slices.Contains(flags, "nopass") {
		r.add(id, sevCritical, "the default user is on without a password",
			"ACL GETUSER default shows flags "+strings.Join(flags, " ")+": every connection is logged in as default", off)
		return
	}
	if cmds := u["commands"].Str; strings.HasPrefix(cmds, "+@all") {
		r.add(id, sevWarning, "the default user is on with every command",
			fmt.Sprintf("ACL GETUSER default: on, commands %q: a client that only knows the requirepass password is an administrator", firstWords(cmds, 8)), off)
	}
}

// checkBruteForce counts failed authentications in ACL LOG.
func checkBruteForce(r *run) {
	v, err := r.do("ACL", "LOG", "128")
	if err != nil || v.IsError() {
		r.cannotSee("auth.brute-force", "ACL LOG: "+why(v, err))
		return
	}
	failures, entries := 0, 0
	var addrs []string
	for _, e := range v.Elems {
		m := pairs(e)
		if m["reason"].Str != "auth" {
			continue
		}
		entries++
		n, err := strconv.Atoi(m["count"].Str)
		if err != nil || n < 1 {
			n = 1
		}
		failures += n
		if ip := clientIP(m["client-info"].Str); ip != "" && !slices.Contains(addrs, ip) {
			addrs = append(addrs, ip)
		}
	}
	if failures < bruteForceWarning {
		return
	}
	slices.Sort(addrs)
	sev := sevWarning
	if failures >= bruteForceError {
		sev = sevError
	}
	r.add("auth.brute-force", sev, "repeated authentication failures",
		fmt.Sprintf("ACL LOG holds %d failed authentications (%d entries) from %s", failures, entries, strings.Join(addrs, ", ")),
		"find the clients at these addresses: a service with a stale password, or someone guessing; block unknown addresses at the firewall, rotate the passwords of the users tried (ACL LOG names them), then ACL LOG RESET")
}

// clientIP is the IP of "addr=IP:PORT" in CLIENT LIST format.
func clientIP(info string) string {
	for _, f := range strings.Fields(info) {
		if a, ok := strings.CutPrefix(f, "addr="); ok {
			if host, _, err := net.SplitHostPort(a); err == nil {
				return host
			}
			return a
		}
	}
	return ""
}

// pairs reads a RESP2 map (an array of alternating names and values).
func pairs(v resp.Value) map[string]resp.Value {
	m := map[string]resp.Value{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = v.Elems[i+1]
	}
	return m
}

// texts returns the strings of an array reply.
func texts(v resp.Value) []string {
	var out []string
	for _, e := range v.Elems {
		out = append(out, e.Str)
	}
	return out
}
