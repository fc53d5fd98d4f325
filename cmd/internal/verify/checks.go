package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/audit"
	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/seal"
)

// run carries what earlier checks learned.
type run struct {
	target Target
	node   string // another node of the cluster or Sentinel deployment to check; "" for the URL's
	// sentinel: node is a Sentinel, logged into as the Sentinels' user;
	// master is where the first Sentinel asked said the master is (what a
	// Sentinel must name too, and a replica replicate).
	sentinel bool
	master   string
	peers    int // the other Sentinels a Sentinel must hear from
	conn     *redsafe.Connection
	state    *tls.ConnectionState
}

// otherNodes are the other nodes of the cluster the URL's server belongs
// to (package topology), as the application user may list them; nil for
// one server, or when the TLS handshake or the login failed (their checks
// say so). An error says the server would not tell whether it has other
// nodes: only it was checked.
func (r *run) otherNodes() ([]string, error) {
	if r.state == nil {
		return nil, nil
	}
	c, err := r.auth()
	if err != nil {
		return nil, nil
	}
	defer c.Close()
	found, err := topology.Read(c.DoValue, r.conn.TLS != nil, r.conn.Host)
	if err != nil {
		return nil, err
	}
	var nodes []string
	for _, n := range found {
		if n.Addr != r.conn.Addr {
			nodes = append(nodes, n.Addr)
		}
	}
	return nodes, nil
}

func (r *run) dial() (*resp.Conn, error) {
	return resp.DialTimeout(r.conn.Addr, r.conn.TLS, r.target.Timeout)
}

// auth opens an authenticated probe connection as the application user.
func (r *run) auth() (*resp.Conn, error) {
	c, err := r.dial()
	if err != nil {
		return nil, err
	}
	if err := r.login(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// login authenticates c as the application user.
func (r *run) login(c *resp.Conn) error {
	args := []string{"AUTH", r.conn.Password}
	if r.conn.Username != "" {
		args = []string{"AUTH", r.conn.Username, r.conn.Password}
	}
	reply, err := c.Do(args...)
	if err == nil && reply != "+OK" {
		err = fmt.Errorf("AUTH refused: %s", resp.FirstWord(reply))
	}
	return err
}

func checkHandshake(ctx context.Context, r *run) Result {
	conn, err := r.connection(ctx)
	switch {
	case errors.Is(err, redsafe.ErrNoMaster):
		return Result{Severity: Fail, Message: err.Error(), Fix: "check that the Sentinels run (`redsafe status`), and REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD(_FILE)"}
	case err != nil:
		return Result{Severity: Fail, Message: "the configuration is refused by its policy", Fix: "run `redsafe check` for every problem and its fix"}
	}
	r.conn = conn
	if conn.TLS == nil {
		return Result{Severity: Fail, Message: "TLS is off: the URL is redis://", Fix: "use a rediss:// URL to the server's TLS port"}
	}
	c, err := r.dial()
	if err != nil {
		// A plaintext Redis waits for a command and never answers a
		// ClientHello, so the handshake only times out; say what it is.
		if resp.AnswersPlaintext(conn.Addr, r.target.Timeout) {
			return Result{Severity: Fail, Message: conn.Addr + " speaks plaintext RESP, not TLS",
				Fix: "point REDIS_URL at the server's TLS port, or enable TLS on the server (`redsafe conf` writes a TLS-only redis.conf)"}
		}
		return Result{Severity: Fail, Message: "TLS handshake with " + conn.Addr + " failed: " + err.Error(), Fix: handshakeFix(err)}
	}
	defer c.Close()
	st := c.Conn.(*tls.Conn).ConnectionState()
	r.state = &st
	detail := fmt.Sprintf("%s with %s", tls.VersionName(st.Version), conn.Addr)
	if conn.TLS.InsecureSkipVerify {
		return Result{Severity: Warn, Message: detail + ", but the certificate's host name is not verified", Fix: "set REDIS_TLS_CERT_REQS=required"}
	}
	return Result{Severity: Pass, Message: detail + ", certificate and host name verified"}
}

// connection is where r's checks connect, and as whom: the URL's server,
// or for a master_set= URL the master the Sentinels name now; another
// node of the deployment, verified against its own name with the CA file
// alone; or a Sentinel, as the Sentinels' user.
func (r *run) connection(ctx context.Context) (*redsafe.Connection, error) {
	conn, err := r.target.Options.Connection()
	if errors.Is(err, redsafe.ErrSentinelConnection) {
		conn, err = r.target.Options.MasterConnection(ctx)
	}
	if err != nil || r.node == "" {
		return conn, err
	}
	from := conn.Addr
	if r.sentinel {
		s := conn.Sentinels
		conn = &redsafe.Connection{Seeds: []string{r.node}, TLS: s.TLS, NodeRootCAs: conn.NodeRootCAs, Username: s.Username, Password: s.Password, Sentinels: s}
		from = s.Addrs[0]
	}
	conn.TLS = topology.TLSFor(conn.TLS, conn.NodeRootCAs, from, r.node)
	conn.Addr = r.node
	conn.Host, _, _ = net.SplitHostPort(r.node)
	return conn, nil
}

func handshakeFix(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unknown authority"):
		return "set REDIS_TLS_CA_CERT to the CA that signed the server certificate"
	case strings.Contains(msg, "not valid for") || strings.Contains(msg, "valid for"):
		return "connect with a host name the certificate lists, or set REDIS_TLS_SERVER_NAME"
	case strings.Contains(msg, "expired"):
		return "renew the server certificate under the same CA with `redsafe certs renew`, then load it without a restart with `redsafe certs reload`"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "the server answered in plaintext: point REDIS_URL at its TLS port, or enable TLS"
	case strings.Contains(msg, "connection refused"):
		return "start the server (`redsafe up`), or fix the host and port in REDIS_URL"
	}
	return "check that REDIS_URL names the server's TLS port"
}

func checkCertificate(ctx context.Context, r *run) Result {
	if r.state == nil || len(r.state.PeerCertificates) == 0 {
		return Result{Severity: Skip, Message: "no TLS connection"}
	}
	leaf := r.state.PeerCertificates[0]
	// The audit's rule (audit.CertExpiry): the chain verified, so what is
	// left to judge is how long it stays valid.
	if f, ok := audit.CertExpiry(leaf, time.Now()); ok {
		return Result{Severity: f.Severity, Message: f.Message + ": " + f.Evidence, Fix: f.Fix}
	}
	left := time.Until(leaf.NotAfter)
	return Result{Severity: Pass, Message: fmt.Sprintf("chain valid: %s, expires %s (%d days)", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"), int(left.Hours()/24))}
}

func checkAuthRequired(ctx context.Context, r *run) Result {
	if r.state == nil {
		return Result{Severity: Skip, Message: "no TLS connection"}
	}
	c, err := r.dial()
	if err != nil {
		return Result{Severity: Fail, Message: err.Error()}
	}
	defer c.Close()
	a, reply, err := audit.PingWithoutCredentials(c)
	switch {
	case err != nil:
		return Result{Severity: Fail, Message: "PING without credentials: " + err.Error()}
	case a == audit.AuthRequired && strings.HasPrefix(reply.Str, "NOAUTH"):
		return Result{Severity: Pass, Message: "a connection without a password gets NOAUTH"}
	}
	return Result{Severity: Fail, Message: "a connection without a password got " + resp.FirstWord(reply.String()), Fix: "disable the default user (`user default off`) or give it a password"}
}

func checkWrongPassword(ctx context.Context, r *run) Result {
	if r.state == nil {
		return Result{Severity: Skip, Message: "no TLS connection"}
	}
	c, err := r.dial()
	if err != nil {
		return Result{Severity: Fail, Message: err.Error()}
	}
	defer c.Close()
	wrong := make([]byte, 24)
	rand.Read(wrong)
	user := r.conn.Username
	if user == "" {
		user = "default"
	}
	reply, err := c.Do("AUTH", user, hex.EncodeToString(wrong))
	switch {
	case err != nil:
		return Result{Severity: Fail, Message: "AUTH with a wrong password: " + err.Error()}
	case strings.HasPrefix(reply, "-WRONGPASS"):
		return Result{Severity: Pass, Message: "a wrong password for " + user + " is refused"}
	}
	return Result{Severity: Fail, Message: "a wrong password for " + user + " got " + resp.FirstWord(reply), Fix: "give the user a password (ACL SETUSER " + user + " resetpass >...)"}
}

// checkDenied proves the application user may not run a command, without
// ever running it, with the audit's probe (audit.WouldRun): inside MULTI,
// Redis checks ACLs when a command is queued and refuses it there, and
// whatever was queued is discarded.
func checkDenied(args ...string) func(context.Context, *run) Result {
	return func(ctx context.Context, r *run) Result {
		if r.state == nil {
			return Result{Severity: Skip, Message: "no TLS connection"}
		}
		c, err := r.auth()
		if err != nil {
			return Result{Severity: Fail, Message: "cannot authenticate as the application user: " + err.Error(), Fix: "check REDIS_USERNAME and REDIS_PASSWORD"}
		}
		defer c.Close()
		v, reply, err := audit.WouldRun(c, args...)
		name := strings.Join(args, " ")
		switch {
		case err != nil:
			return Result{Severity: Fail, Message: name + ": " + err.Error()}
		case v == audit.Denied:
			return Result{Severity: Pass, Message: "the application user cannot run " + args[0]}
		case v == audit.Allowed:
			return Result{Severity: Fail, Message: "the application user may run " + name + " (probed inside MULTI and discarded)",
				Fix: "deny it in the user's ACL: -" + strings.ToLower(args[0]) + " (see `redsafe conf`)"}
		}
		return Result{Severity: Fail, Message: name + " got " + resp.FirstWord(reply.String())}
	}
}

func checkNoPlaintext(ctx context.Context, r *run) Result {
	if r.conn == nil {
		return Result{Severity: Skip, Message: "no connection settings"}
	}
	// Only a port that accepts connections can be said not to answer
	// plaintext: a server that is down, or a host that does not resolve,
	// proves nothing.
	if err := accepts(r.conn.Addr, r.target.Timeout); err != nil {
		return Result{Severity: Fail, Message: "not proven: " + err.Error() + "; a server that cannot be reached says nothing about plaintext",
			Fix: "start the server, or fix the host and port in REDIS_URL, then run verify again"}
	}
	ports := []string{r.conn.Addr}
	how := "the TLS port does not answer plaintext"
	if port, ok := r.configuredPort(); ok {
		if port != "0" {
			ports = append(ports, net.JoinHostPort(r.conn.Host, port))
		}
		how += fmt.Sprintf("; the server's plaintext port is %s", map[bool]string{true: "off (port 0)", false: port}[port == "0"])
	}
	for _, addr := range ports {
		if resp.AnswersPlaintext(addr, r.target.Timeout) {
			return Result{Severity: Fail, Message: addr + " answers plaintext RESP", Fix: "set `port 0` so that only tls-port listens"}
		}
	}
	return Result{Severity: Pass, Message: how}
}

// accepts reports why addr does not accept a TCP connection, or nil.
func accepts(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	return c.Close()
}

// configuredPort reads `port` with the admin credentials, when given.
func (r *run) configuredPort() (string, bool) {
	a := r.target.Admin
	if a == nil || r.conn.TLS == nil {
		return "", false
	}
	c, err := r.dial()
	if err != nil {
		return "", false
	}
	defer c.Close()
	if reply, err := c.Do("AUTH", a.Username, a.Password); err != nil || reply != "+OK" {
		return "", false
	}
	reply, err := c.Do("CONFIG", "GET", "port")
	lines := strings.Split(reply, "\n")
	if err != nil || len(lines) != 2 {
		return "", false
	}
	return lines[1], true
}

func checkEncryptedRoundTrip(ctx context.Context, r *run) Result {
	if r.state == nil {
		return Result{Severity: Skip, Message: "no TLS connection"}
	}
	o := r.target.Options
	o.DialTimeout = r.target.Timeout
	ctx, cancel := context.WithTimeout(ctx, 2*r.target.Timeout)
	defer cancel()
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		// The library keeps each fix in a field, out of Error()'s one line.
		var fix string
		var connErr *redsafe.ConnectError
		var confErr *redsafe.ConfigError
		switch {
		case errors.As(err, &connErr):
			fix = connErr.Fix
		case errors.As(err, &confErr) && len(confErr.Report.Errors()) > 0:
			fix = confErr.Report.Errors()[0].Fix
		}
		return Result{Severity: Fail, Message: "the library cannot open: " + err.Error(), Fix: fix}
	}
	defer c.Close()
	nonce := make([]byte, 8)
	rand.Read(nonce)
	key, err := probeKey(o.KeyPrefix, r.target.KeyPattern, "redsafe:verify:"+hex.EncodeToString(nonce))
	if err != nil {
		return Result{Severity: Fail, Message: err.Error(), Fix: "pass a pattern with a `*`, such as --key-pattern 'orders:*'"}
	}
	plaintext := []byte("redsafe verify " + hex.EncodeToString(nonce) + " plaintext")
	if err := c.Set(ctx, key, plaintext, time.Minute); err != nil {
		if strings.Contains(err.Error(), "NOPERM") {
			return Result{Severity: Fail, Message: "SET of the probe key " + o.KeyPrefix + key + " was refused (NOPERM): the application user may not write it", Fix: noPermFix(o.KeyPrefix, r.target.KeyPattern)}
		}
		return Result{Severity: Fail, Message: "SET through the library: " + err.Error(), Fix: "allow the application user to write " + o.KeyPrefix + key}
	}
	defer c.Delete(context.WithoutCancel(ctx), key)
	got, err := c.Get(ctx, key)
	if err != nil || !bytes.Equal(got, plaintext) {
		return Result{Severity: Fail, Message: "GET through the library did not return the value: " + errText("", err)}
	}
	stored, err := o.StoredKey(key)
	if err != nil {
		return Result{Severity: Fail, Message: "the configuration is refused by its policy", Fix: "run `redsafe check` for every problem and its fix"}
	}
	raw, err := r.rawGet(stored)
	if err != nil {
		return Result{Severity: Fail, Message: "raw GET: " + err.Error()}
	}
	format, isToken := seal.TokenFormat([]byte(raw))
	if bytes.Contains([]byte(raw), plaintext) || !isToken || format != o.ValueFormat {
		return Result{Severity: Fail, Message: "the value stored in Redis is not a " + o.ValueFormat.String() + " token"}
	}
	if ring, err := o.KeyRing(); err != nil {
		return Result{Severity: Fail, Message: "the encryption keys do not parse: " + err.Error(), Fix: "run `redsafe check` for each key problem and its fix"}
	} else if pt, err := ring.OpenFor(nil, stored, []byte(raw), 0); err != nil || !bytes.Equal(pt, plaintext) {
		return Result{Severity: Fail, Message: "the stored token does not open with the configured encryption keys"}
	}
	return Result{Severity: Pass, Message: fmt.Sprintf("round trip through the library; Redis holds a %d-byte %s token, not the plaintext", len(raw), map[seal.Format]string{seal.Fernet: "Fernet", seal.Sealed: "sealed"}[format])}
}

// rawGet reads what Redis holds for key, bypassing the library. On a
// cluster the key may live on another node: one MOVED redirect is
// followed, to the node it names, verified as every node is (by the name
// it is reached by).
func (r *run) rawGet(key string) (string, error) {
	reply, err := r.rawGetAt(r.conn.Addr, key)
	if err != nil || !strings.HasPrefix(reply, "-MOVED ") {
		return reply, err
	}
	fields := strings.Fields(reply)
	if len(fields) != 3 {
		return "", errors.New("GET: unexpected redirect " + resp.FirstWord(reply))
	}
	return r.rawGetAt(fields[2], key)
}

func (r *run) rawGetAt(addr, key string) (string, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", err
	}
	// The node a redirect names is checked as every topology-named node
	// is: against the host it is reached by and the CA file alone.
	c, err := resp.DialTimeout(addr, topology.TLSFor(r.conn.TLS, r.conn.NodeRootCAs, r.conn.Addr, addr), r.target.Timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := r.login(c); err != nil {
		return "", err
	}
	if r.conn.DB != 0 {
		if reply, err := c.Do("SELECT", fmt.Sprint(r.conn.DB)); err != nil || reply != "+OK" {
			return "", errors.New("SELECT: " + errText(reply, err))
		}
	}
	return c.Do("GET", key)
}

func errText(reply string, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.FirstWord(reply)
}
