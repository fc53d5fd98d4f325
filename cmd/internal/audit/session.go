package audit

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe/internal/resp"
)

// dialRaw opens an unauthenticated connection the way the audit talks to
// this server: TLS without verification when it speaks TLS (nothing secret
// is sent on it), plaintext otherwise.
func (r *run) dialRaw() (*resp.Conn, error) {
	if r.plaintext {
		return resp.DialTimeout(r.ep.addr, nil, r.target.Timeout)
	}
	return resp.DialTimeout(r.ep.addr, r.inspectConfig(), r.target.Timeout)
}

// openSession authenticates as the audited user. Credentials are only sent
// where the service itself would send them: over TLS that its own settings
// accept, or in plaintext when it is configured for plaintext. A server
// that fails verification or drops to plaintext behind a rediss:// URL gets
// none, and the audit goes on with what an anonymous client sees.
func openSession(r *run) {
	ep := r.ep
	hasCreds := ep.password != "" || ep.username != ""
	switch {
	case !hasCreds && r.anonymous:
		// The service does not authenticate and needs not: audit as default.
	case !hasCreds:
		r.noSession = "no credentials were given: set REDIS_USERNAME and REDIS_PASSWORD to audit as the service's user"
		return
	case ep.tls != nil && r.plaintext:
		r.noSession = "the URL asks for TLS but the server speaks plaintext, so the password was not sent"
		return
	case ep.tls != nil && !r.trusted:
		r.noSession = "the server certificate did not verify with the service's TLS settings (" + r.untrustedWhy + "), so the password was not sent"
		return
	}
	cfg := ep.tls
	switch {
	case r.plaintext:
		cfg = nil
	case !r.trusted:
		cfg = r.inspectConfig() // only without credentials: nothing secret is sent
	}
	c, err := resp.DialTimeout(ep.addr, cfg, r.target.Timeout)
	if err != nil {
		r.fatal = fmt.Errorf("cannot connect to %s: %v", ep.addr, err)
		return
	}
	if hasCreds {
		args := []string{"AUTH", ep.password}
		if ep.username != "" {
			args = []string{"AUTH", ep.username, ep.password}
		}
		v, err := c.DoValue(args...)
		switch {
		case err != nil && r.unusableReply(err):
			c.Close()
			r.fatal = r.replyFailure("AUTH", err)
			return
		case err != nil:
			c.Close()
			r.fatal = fmt.Errorf("the server closed the connection instead of answering AUTH (%v); if it requires client certificates, set REDIS_TLS_CERT and REDIS_TLS_KEY", err)
			return
		case v.IsError():
			c.Close()
			r.fatal = fmt.Errorf("AUTH as %s was refused (%s); check REDIS_USERNAME and REDIS_PASSWORD, or the user and password in the URL", ep.shown(), replyWord(v, err))
			return
		}
	}
	if ep.db != 0 {
		if v, err := c.DoValue("SELECT", strconv.Itoa(ep.db)); err != nil || v.IsError() {
			c.Close()
			r.fatal = fmt.Errorf("SELECT %d failed (%s); check the database number in the URL", ep.db, replyWord(v, err))
			return
		}
	}
	r.sess = c
}

// do runs a command on the session. Without one it returns an error reply
// naming why, so that callers treat it like a refused command.
func (r *run) do(args ...string) (resp.Value, error) {
	if r.sess == nil {
		return resp.Value{Type: '-', Str: "NOSESSION " + r.noSession}, nil
	}
	v, err := r.sess.DoValue(args...)
	if err != nil {
		// A broken connection ends the audit: nothing after it can be seen.
		r.fatal = r.replyFailure(strings.ToUpper(args[0]), err)
		r.sess.Close()
		r.sess = nil
		r.noSession = "the connection broke"
	}
	return v, err
}

// unusableReply reports whether err is a reply the audit refused (past a
// limit, not RESP) or one that did not come in time, rather than a
// connection the server closed.
func (r *run) unusableReply(err error) bool {
	var ne net.Error
	return errors.Is(err, resp.ErrLimit) || errors.Is(err, resp.ErrMalformed) || errors.As(err, &ne) && ne.Timeout()
}

// replyFailure says why cmd got no usable reply, and what to do: a reply
// past a limit is no Redis server's, a slow one may only need --timeout.
func (r *run) replyFailure(cmd string, err error) error {
	switch {
	case errors.Is(err, resp.ErrLimit), errors.Is(err, resp.ErrMalformed):
		return fmt.Errorf("the reply to %s was refused (%v): no Redis server sends such a reply; check that the URL names the server you mean to audit", cmd, err)
	case r.unusableReply(err):
		return fmt.Errorf("no complete reply to %s within %s (%v): the server stopped answering, or answers too slowly; raise --timeout if it is only slow", cmd, r.target.Timeout, err)
	}
	return fmt.Errorf("%s: %v", cmd, err)
}

// why explains a refused reply for audit.limited-visibility.
func why(v resp.Value, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case strings.HasPrefix(v.Str, "NOSESSION "):
		return strings.TrimPrefix(v.Str, "NOSESSION ")
	case strings.HasPrefix(v.Str, "NOPERM"):
		return "the user may not run it"
	}
	return firstWords(v.Str, 6)
}

// config returns a CONFIG GET value. ok is false when the user may not
// read it, or the server does not know the parameter; cannotSee then gets
// the reason.
func (r *run) config(name string) (value string, ok bool) {
	if v, ok := r.configs[name]; ok {
		return v, true
	}
	if r.configErr != "" {
		return "", false
	}
	v, err := r.do("CONFIG", "GET", name)
	if err != nil || v.IsError() {
		r.configErr = "CONFIG GET: " + why(v, err)
		return "", false
	}
	if r.configs == nil {
		r.configs = map[string]string{}
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		r.configs[v.Elems[i].Str] = v.Elems[i+1].Str
	}
	value, ok = r.configs[name]
	return value, ok
}

// infoField returns one field of INFO (all sections), read once.
func (r *run) infoField(name string) (string, bool) {
	if r.info == nil {
		r.info = map[string]string{}
		if v, err := r.do("INFO"); err == nil && !v.IsError() {
			for _, line := range strings.Split(v.Str, "\n") {
				if k, val, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
					r.info[k] = val
				}
			}
		}
	}
	v, ok := r.info[name]
	return v, ok
}

// settingOf reads a setting from CONFIG GET, or else from an INFO field
// that mirrors it.
func (r *run) settingOf(config, info string) (string, bool) {
	if v, ok := r.config(config); ok {
		return v, true
	}
	if info != "" {
		return r.infoField(info)
	}
	return "", false
}

// replyWord is the first word of an error reply, or the I/O error: enough to
// tell WRONGPASS from NOPERM without echoing anything else.
func replyWord(v resp.Value, err error) string {
	if err != nil {
		return err.Error()
	}
	if f := strings.Fields(v.Str); len(f) > 0 {
		return f[0]
	}
	return v.String()
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "…")
	}
	return strings.Join(f, " ")
}

// inspectConfig is the service's TLS configuration without verification,
// for looking at what the server offers: nothing secret is sent on it.
func (r *run) inspectConfig() *tls.Config {
	var cfg *tls.Config
	if r.ep.tls != nil {
		cfg = r.ep.tls.Clone()
	} else {
		cfg = &tls.Config{}
	}
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = nil
	cfg.ClientSessionCache = nil
	cfg.ServerName = r.ep.serverName()
	cfg.MinVersion = tls.VersionTLS12
	return cfg
}
