package audit

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/resp"
)

// tlsFacts is what the server showed in an unverified handshake.
type tlsFacts struct {
	version       uint16
	chain         []*x509.Certificate
	certRequested bool // the server asked for a client certificate
}

// checkConnect finds out what the server speaks on the configured address
// (tls.disabled), and whether the service's own TLS settings accept it.
func checkConnect(r *run) {
	ep := r.ep
	if ep.tls == nil {
		plain, perr := r.answersPlaintext()
		switch {
		case plain:
			r.plaintext = true
			r.tlsDisabled(fmt.Sprintf("the URL is redis:// and %s answers plaintext RESP", ep.addr))
			return
		case perr != nil && r.unusableReply(perr) && !errors.Is(perr, resp.ErrMalformed):
			r.fatal = r.replyFailure("PING", perr) // past a limit, or too slow: not a TLS port either
			return
		}
		if _, err := r.inspect(); err == nil {
			r.fatal = fmt.Errorf("%s speaks TLS but the URL is redis://; use rediss:// with the same host and port", ep.addr)
			return
		}
		r.fatal = unreachable(ep.addr, nil, perr)
		return
	}
	facts, err := r.inspect()
	if err != nil {
		plain, perr := r.answersPlaintext()
		switch {
		case plain:
			r.plaintext = true
			r.tlsDisabled(fmt.Sprintf("the URL is rediss:// but %s answers plaintext RESP and no TLS handshake", ep.addr))
			return
		case perr != nil && r.unusableReply(perr) && !errors.Is(perr, resp.ErrMalformed):
			r.fatal = r.replyFailure("PING", perr)
			return
		}
		r.fatal = unreachable(ep.addr, err, perr)
		return
	}
	r.inspection = facts
	c, err := resp.DialTimeout(ep.addr, ep.tls, r.target.Timeout)
	if err != nil {
		r.untrustedWhy = err.Error()
		return
	}
	c.Close()
	r.trusted = true
}

// unreachable explains why addr speaks neither TLS (handshake, when it
// was tried) nor plaintext RESP (plain, the error of a plaintext PING).
func unreachable(addr string, handshake, plain error) error {
	if handshake != nil {
		var op *net.OpError
		if !errors.As(handshake, &op) || op.Op != "dial" {
			return fmt.Errorf("the TLS handshake with %s failed: %v; check that the URL names the server's TLS port", addr, handshake)
		}
	}
	var op *net.OpError
	if plain != nil && (!errors.As(plain, &op) || op.Op != "dial") {
		return fmt.Errorf("%s accepts connections but answers neither TLS nor plaintext RESP (%v); check that the URL names a Redis server", addr, plain)
	}
	return fmt.Errorf("cannot connect to %s; start the server, or fix the host and port in the URL", addr)
}

// answersPlaintext sends PING in plaintext and reads the whole reply, with
// the probes' limits: any RESP reply means the server speaks plaintext.
// err says why there is none (nothing listens, a TLS port closed the
// connection, the reply broke a limit or did not come in time).
func (r *run) answersPlaintext() (bool, error) {
	c, err := resp.DialTimeout(r.ep.addr, nil, r.target.Timeout)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if _, err := c.DoValue("PING"); err != nil {
		return false, err
	}
	return true, nil
}

func (r *run) tlsDisabled(evidence string) {
	sev, why := sevWarning, fmt.Sprintf("; the %s policy allows plaintext, but every password and value crosses the network readable", r.ep.policy.Environment)
	if r.ep.policy.RequireTLS {
		sev, why = sevCritical, fmt.Sprintf("; %s requires TLS: passwords and values cross the network readable", r.ep.policy.Environment)
	}
	r.add("tls.disabled", sev, "the server answers without TLS", evidence+why,
		"enable TLS on the server: tls-port with `port 0`, so nothing answers in plaintext (`redsafe conf` writes such a redis.conf); then connect with rediss://")
}

// inspect makes an unverified handshake and records what the server showed.
func (r *run) inspect() (*tlsFacts, error) {
	facts := &tlsFacts{}
	cfg := r.inspectConfig()
	own := cfg.Certificates
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		facts.certRequested = true
		if len(own) > 0 {
			return &own[0], nil
		}
		return &tls.Certificate{}, nil
	}
	d := &net.Dialer{Timeout: r.target.Timeout}
	c, err := tls.DialWithDialer(d, "tcp", r.ep.addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	st := c.ConnectionState()
	facts.version, facts.chain = st.Version, st.PeerCertificates
	if len(facts.chain) == 0 {
		return nil, errors.New("the server sent no certificate")
	}
	return facts, nil
}

// checkOldProtocols tries the handshakes the policy forbids.
func checkOldProtocols(r *run) {
	if r.inspection == nil {
		return
	}
	var old, belowPolicy []string
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
		if !r.acceptsVersion(v) {
			continue
		}
		switch {
		case v < tls.VersionTLS12:
			old = append(old, tls.VersionName(v))
		case v < r.ep.policy.MinTLSVersion:
			belowPolicy = append(belowPolicy, tls.VersionName(v))
		}
	}
	fix := fmt.Sprintf(`set tls-protocols "%s" in redis.conf (and no @SECLEVEL=0 in tls-ciphers), then restart`, protocolsFor(r.ep.policy.MinTLSVersion))
	switch {
	case len(old) > 0:
		r.add("tls.old-protocol", sevError, "the server accepts TLS below 1.2",
			"handshakes accepted: "+strings.Join(append(old, belowPolicy...), ", ")+"; TLS 1.0 and 1.1 are deprecated (RFC 8996)", fix)
	case len(belowPolicy) > 0:
		r.add("tls.old-protocol", sevWarning, fmt.Sprintf("the server accepts TLS below the %s minimum of TLS %s", r.ep.policy.Environment, versionNumber(r.ep.policy.MinTLSVersion)),
			"handshakes accepted: "+strings.Join(belowPolicy, ", "), fix)
	}
}

func protocolsFor(min uint16) string {
	if min >= tls.VersionTLS13 {
		return "TLSv1.3"
	}
	return "TLSv1.2 TLSv1.3"
}

func versionNumber(v uint16) string { return strings.TrimPrefix(tls.VersionName(v), "TLS ") }

// acceptsVersion makes one handshake at exactly version v, offering every
// cipher suite Go has, so that only the protocol decides.
func (r *run) acceptsVersion(v uint16) bool {
	cfg := r.inspectConfig()
	cfg.MinVersion, cfg.MaxVersion = v, v
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		cfg.CipherSuites = append(cfg.CipherSuites, s.ID)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: r.target.Timeout}, "tcp", r.ep.addr, cfg)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// checkClientAuth reports whether the server demands client certificates.
func checkClientAuth(r *run) {
	if r.inspection == nil {
		return
	}
	sev := sevInfo
	if r.ep.policy.Environment == redsafe.Production {
		sev = sevNotice
	}
	fix := "require client certificates: tls-auth-clients yes, and give each service a certificate from the CA (`redsafe certs --client NAME`, REDIS_TLS_CERT and REDIS_TLS_KEY)"
	if !r.inspection.certRequested {
		r.add("tls.client-auth", sev, "mutual TLS is off",
			"the server did not ask for a client certificate (tls-auth-clients no): any client that reaches the port can try passwords", fix)
		return
	}
	if r.answersWithoutClientCert() {
		r.add("tls.client-auth", sev, "mutual TLS is optional",
			"the server asks for a client certificate but answers a client that sends none (tls-auth-clients optional)", fix)
	}
}

// answersWithoutClientCert sends PING without a client certificate. With
// TLS 1.3 a refused certificate only shows on the first read.
func (r *run) answersWithoutClientCert() bool {
	cfg := r.inspectConfig()
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tls.Certificate{}, nil }
	c, err := resp.DialTimeout(r.ep.addr, cfg, r.target.Timeout)
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.DoValue("PING")
	return err == nil
}

// checkPlaintextPort looks for a plaintext listener next to the TLS port.
func checkPlaintextPort(r *run) {
	if r.plaintext || r.inspection == nil {
		return
	}
	port, ok := r.settingOf("port", "tcp_port")
	if !ok {
		r.cannotSee("tls.plaintext-port", "the plaintext port is read with CONFIG GET port or INFO: "+r.configWhy())
		return
	}
	// Without CONFIG (a Sentinel has none, a confined user may not run
	// it), INFO's tcp_port is the plaintext port, or the TLS port when
	// there is none: a port that just completed a TLS handshake.
	if _, tlsPort, _ := net.SplitHostPort(r.ep.addr); port == "0" || port == "" || port == tlsPort {
		return
	}
	addr := net.JoinHostPort(r.ep.host, port)
	if resp.AnswersPlaintext(addr, r.target.Timeout) {
		r.add("tls.plaintext-port", sevError, "the server also accepts plaintext",
			fmt.Sprintf("port %s is configured and %s answers plaintext RESP next to the TLS port", port, addr),
			"set `port 0` in redis.conf (sentinel.conf on a Sentinel) so that only tls-port listens, then restart")
		return
	}
	r.add("tls.plaintext-port", sevWarning, "a plaintext port is configured",
		fmt.Sprintf("port %s is configured; %s did not answer from here, but other hosts may reach it", port, addr),
		"set `port 0` in redis.conf (sentinel.conf on a Sentinel) so that only tls-port listens, then restart")
}
