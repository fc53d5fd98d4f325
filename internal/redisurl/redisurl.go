// Package redisurl parses and redacts Redis connection URLs.
//
// It follows the conventions of redis-cli, go-redis and redis-py:
//
//	redis://[[user]:password@]host[:port][/db]    plaintext
//	rediss://[[user]:password@]host[:port][/db]   TLS
//	rediss://...@host:port?addr=host2:port&addr=host3:port
//	                                              more nodes of a Redis Cluster
//	rediss://...@sentinel:26379/db?master_set=NAME&addr=sentinel2:26379
//	                                              the master NAME, found
//	                                              through these Sentinels
//
// addr= and master_set= are the query parameters, as in rueidis: each addr=
// names one more seed node, reached with the same scheme; with master_set=
// the host and the addr= nodes are Sentinels, and the credentials are the
// data nodes'. Any other parameter is refused, since ?password=... would be
// a password in a place no redactor expects.
//
// Real-world passwords often contain '@', ':' and '%' without being
// percent-encoded, so the userinfo is taken to end at the last '@' and the
// user name at the first ':'. Percent-escapes are decoded when they are valid
// and kept literally when they are not. Parsing and redaction share that one
// split, so a URL that parses is always redacted correctly.
package redisurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe/internal/redact"
)

// DefaultPort is the port used when the URL names none.
const DefaultPort = 6379

// URL is a parsed Redis URL.
type URL struct {
	TLS         bool   // scheme is rediss
	Username    string // "" when absent
	Password    string // "" when absent
	HasPassword bool   // the URL carried a password, possibly empty
	Host        string // host name or IP, without brackets
	Port        int
	DB          int
	// Addrs are the more nodes of addr= parameters, as host:port with IPv6
	// literals bracketed; nil without any.
	Addrs []string
	// MasterSet is master_set=: the name of the master the Sentinels (the
	// host and Addrs) monitor; "" without Sentinels.
	MasterSet string
}

// Addr returns host:port, bracketing IPv6 literals.
func (u URL) Addr() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid Redis URL")

// Parse parses raw. Errors never contain the password, nor any part of a
// URL that does not parse: they show raw as Redact does, and say what is
// wrong without quoting it.
func Parse(raw string) (URL, error) {
	p := split(raw)
	u, reason := parse(p)
	if reason == "" {
		return u, nil
	}
	if shown := p.safe(); shown != "" {
		return URL{}, fmt.Errorf("%w %q: %s", ErrInvalid, shown, reason)
	}
	return URL{}, fmt.Errorf("%w: %s", ErrInvalid, reason)
}

// Redact returns raw in a form that is safe to print. A URL that Parse
// accepts keeps everything but its password, replaced by "xxxxx"; a
// userinfo without ':' is redacted whole, because some clients read it as a
// password. Anything else is shown as its scheme and host only, since the
// part that does not parse may be a password in the wrong place
// (rediss://app:PW/0 reads PW as a port, ?password=PW is a query), and as
// nothing at all when it has no scheme: such text may be a secret whole.
func Redact(raw string) string {
	p := split(raw)
	if _, reason := parse(p); reason != "" {
		return p.safe()
	}
	if !p.hasUserinfo {
		return raw
	}
	user, _, hasPass := strings.Cut(p.userinfo, ":")
	redacted := redact.Hidden
	if hasPass {
		redacted = user + ":" + redact.Hidden
	}
	return p.scheme + "://" + redacted + "@" + p.hostport + p.path + p.queryPart()
}

// queryPart is the query of a URL that parsed: addr= parameters only, which
// hold no secret.
func (p parts) queryPart() string {
	if !p.hasQuery {
		return ""
	}
	return "?" + p.query
}

// parse returns the URL, or why it is not one. The reason never quotes raw.
func parse(p parts) (URL, string) {
	var u URL
	switch strings.ToLower(p.scheme) {
	case "rediss":
		u.TLS = true
	case "redis":
	case "":
		return u, "missing scheme; use rediss://host:port/db (TLS) or redis://host:port/db"
	case "unix":
		return u, "unix sockets are not supported: redsafe always connects over TLS"
	default:
		if isScheme(p.scheme) {
			return u, fmt.Sprintf("the scheme %q is not redis:// or rediss://", p.scheme)
		}
		return u, "the scheme is not redis:// or rediss://"
	}
	if p.hasUserinfo {
		user, pass, hasPass := strings.Cut(p.userinfo, ":")
		u.Username = unescape(user)
		if hasPass {
			u.Password, u.HasPassword = unescape(pass), true
		}
	}
	if p.hasQuery {
		addrs, set, reason := parseQuery(p.query)
		if reason != "" {
			return u, reason
		}
		u.Addrs, u.MasterSet = addrs, set
	}
	host, port, reason := splitHostPort(p.hostport)
	if reason != "" {
		if !p.hasUserinfo && strings.Contains(p.hostport, ":") {
			// rediss://app:PW/0 and redis://:PW: a password without the '@'.
			reason += "; credentials go before an '@': rediss://user:password@host:port/db"
		}
		return u, reason
	}
	u.Host, u.Port = host, port
	if db := strings.Trim(p.path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || !isDigits(db) {
			return u, "the database (after the host) is not a non-negative number"
		}
		u.DB = n
	}
	return u, ""
}

// parseQuery accepts only addr=host[:port] parameters, each one more
// node, and one master_set=NAME. The reason never quotes the query.
func parseQuery(q string) ([]string, string, string) {
	const only = "the only query parameters are addr=host:port (more nodes of a cluster, or more Sentinels) and master_set=NAME (the master the Sentinels monitor); set TLS and credentials with the REDIS_* variables instead"
	var addrs []string
	set := ""
	for _, kv := range strings.Split(q, "&") {
		key, value, ok := strings.Cut(kv, "=")
		switch {
		case ok && key == "master_set":
			if set != "" {
				return nil, "", "master_set= is given twice"
			}
			if set = unescape(value); !isSetName(set) {
				return nil, "", "master_set= is not a master set name (1 to 64 letters, digits, '.', '_' or '-')"
			}
			continue
		case !ok || key != "addr":
			return nil, "", only
		}
		host, port, reason := splitHostPort(unescape(value))
		if reason != "" {
			return nil, "", "addr=: " + reason
		}
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return addrs, set, ""
}

// isSetName: what a Sentinel master set name may be here (Redis takes
// more, but a name that needs quoting is a name to fix).
func isSetName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

type parts struct {
	scheme      string
	hasUserinfo bool
	userinfo    string
	hostport    string
	path        string
	hasQuery    bool
	query       string
}

func split(raw string) parts {
	var p parts
	rest := raw
	if scheme, after, ok := strings.Cut(raw, "://"); ok {
		p.scheme, rest = scheme, after
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		p.hasUserinfo, p.userinfo, rest = true, rest[:at], rest[at+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest, p.hasQuery, p.query = rest[:q], true, rest[q+1:]
	}
	if slash := strings.IndexByte(rest, '/'); slash >= 0 {
		rest, p.path = rest[:slash], rest[slash:]
	}
	p.hostport = rest
	return p
}

// safe is the scheme and the host of a URL that does not parse, so that no
// other part (the port, the path, a query, a userinfo) can carry a password
// into an error or a log. Each is shown only when it has the form of one;
// text without "://" is not a URL, and may be a secret whole.
func (p parts) safe() string {
	if !isScheme(p.scheme) {
		return ""
	}
	host := p.hostport
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || !isIP(host[1:end]) {
			return p.scheme + "://"
		}
		return p.scheme + "://" + host[:end+1]
	}
	host, _, _ = strings.Cut(host, ":")
	if !isHostName(host) {
		host = ""
	}
	return p.scheme + "://" + host
}

// isScheme is RFC 3986's scheme: a letter, then letters, digits, '+', '-'
// and '.'.
func isScheme(s string) bool {
	for i, c := range []byte(s) {
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// isHostName accepts the characters of DNS names, IPv4 addresses and the
// '_' of container names.
func isHostName(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return len(s) <= 253
}

// isDigits refuses the signs that strconv.Atoi accepts.
func isDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// isIP accepts IPv4 and IPv6 addresses, with an IPv6 zone ("fe80::1%eth0").
func isIP(s string) bool {
	addr, zone, _ := strings.Cut(s, "%")
	return net.ParseIP(addr) != nil && (zone == "" || isHostName(zone))
}

// splitHostPort returns the host and port, or why they are not valid. The
// reason never quotes hostport.
func splitHostPort(hostport string) (string, int, string) {
	if hostport == "" {
		return "", 0, "missing host"
	}
	host, portText := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", 0, "unclosed '[' in IPv6 host"
		}
		host, portText = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
		if rest := hostport[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return "", 0, "unexpected text after the IPv6 host"
		}
		if !isIP(host) {
			return "", 0, "the host in brackets is not an IPv6 address"
		}
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		if strings.Count(hostport, ":") > 1 {
			return "", 0, "IPv6 hosts must be in brackets, like [::1]:6379"
		}
		host, portText = hostport[:i], hostport[i+1:]
	}
	if host == "" {
		return "", 0, "missing host"
	}
	if !strings.HasPrefix(hostport, "[") && !isHostName(host) && !isIP(host) {
		return "", 0, "the host is not a host name or an IP address"
	}
	if portText == "" {
		return host, DefaultPort, ""
	}
	port, err := strconv.Atoi(portText)
	if err != nil || !isDigits(portText) || port < 1 || port > 65535 {
		return "", 0, "the port is not a number from 1 to 65535"
	}
	return host, port, ""
}

// unescape decodes valid percent-escapes and leaves the text as it is when
// they are not valid, so an unencoded '%' in a password still works.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}
