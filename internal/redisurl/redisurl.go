// Package redisurl parses and redacts Redis connection URLs.
//
// It follows the conventions of redis-cli, go-redis and redis-py:
//
//	redis://[[user]:password@]host[:port][/db]    plaintext
//	rediss://[[user]:password@]host[:port][/db]   TLS
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
}

// Addr returns host:port, bracketing IPv6 literals.
func (u URL) Addr() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid Redis URL")

// Parse parses raw. Errors never contain the password: they quote the
// redacted URL.
func Parse(raw string) (URL, error) {
	var u URL
	fail := func(format string, args ...any) (URL, error) {
		return URL{}, fmt.Errorf("%w %q: %s", ErrInvalid, Redact(raw), fmt.Sprintf(format, args...))
	}
	p := split(raw)
	switch strings.ToLower(p.scheme) {
	case "rediss":
		u.TLS = true
	case "redis":
	case "":
		return fail("missing scheme; use rediss://host:port/db (TLS) or redis://host:port/db")
	case "unix":
		return fail("unix sockets are not supported: redsafe always connects over TLS")
	default:
		return fail("scheme %q is not redis:// or rediss://", p.scheme)
	}
	if p.hasUserinfo {
		user, pass, hasPass := strings.Cut(p.userinfo, ":")
		u.Username = unescape(user)
		if hasPass {
			u.Password, u.HasPassword = unescape(pass), true
		}
	}
	if p.hasQuery {
		return fail("query parameters are not supported; set TLS and credentials with the REDIS_* variables instead")
	}
	host, port, err := splitHostPort(p.hostport)
	if err != nil {
		return fail("%v", err)
	}
	u.Host, u.Port = host, port
	if db := strings.Trim(p.path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return fail("database %q is not a non-negative number", db)
		}
		u.DB = n
	}
	return u, nil
}

// Redact returns raw with any password replaced by "xxxxx". A userinfo
// without ':' is redacted whole, because some clients read it as a password.
// Redact never fails: text that is not a URL is returned unchanged unless it
// has a userinfo.
func Redact(raw string) string {
	p := split(raw)
	if !p.hasUserinfo {
		return raw
	}
	user, _, hasPass := strings.Cut(p.userinfo, ":")
	redacted := "xxxxx"
	if hasPass {
		redacted = user + ":xxxxx"
	}
	var b strings.Builder
	if p.scheme != "" {
		b.WriteString(p.scheme + "://")
	}
	b.WriteString(redacted + "@" + p.hostport + p.path)
	if p.hasQuery {
		b.WriteString("?" + p.query)
	}
	return b.String()
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

func splitHostPort(hostport string) (string, int, error) {
	if hostport == "" {
		return "", 0, errors.New("missing host")
	}
	host, portText := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", 0, errors.New("unclosed '[' in IPv6 host")
		}
		host, portText = hostport[1:end], strings.TrimPrefix(hostport[end+1:], ":")
		if rest := hostport[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return "", 0, fmt.Errorf("unexpected %q after IPv6 host", rest)
		}
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		if strings.Count(hostport, ":") > 1 {
			return "", 0, errors.New("IPv6 hosts must be in brackets, like [::1]:6379")
		}
		host, portText = hostport[:i], hostport[i+1:]
	}
	if host == "" {
		return "", 0, errors.New("missing host")
	}
	if portText == "" {
		return host, DefaultPort, nil
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 1 to 65535", portText)
	}
	return host, port, nil
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
