package redsafe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/seal"
)

// Validate checks o against its environment's policy without touching the
// network and returns every finding. Open refuses to connect when the report
// has an error finding.
func Validate(o Options) Report {
	_, r := newConfig(o)
	return r
}

// config is the middle stage of the one path from the environment to a
// connection: OptionsFromLookup (environment → Options), newConfig
// (Options → config, validated against the policy) and Open (config →
// connection). newConfig builds every part once; nothing changes it after,
// and Open reads only it, never Options, so that Cluster and Sentinel can
// add a topology here without touching the stages on either side.
type config struct {
	report Report
	policy Policy
	url    redisurl.URL
	useTLS bool
	// tlsConfig is built whenever the URL is usable and TLS is on; nil
	// otherwise.
	tlsConfig *tls.Config
	// tlsOwnCA is the CA file alone (nil without one): the roots of nodes
	// the topology names that the seeds did not.
	tlsOwnCA *x509.CertPool
	// tlsFiles rebuilds the TLS settings when a file they came from
	// changes (nil: none named).
	tlsFiles *tlsFiles
	// tlsServerName is TLS.ServerName: the one name every node is verified
	// against; "" verifies each node against the host it is reached by.
	tlsServerName string

	// username and password are the static credentials (URL, Options or
	// the password file as read at Open).
	username string
	password string
	// credentials, when set, is asked for every new connection instead:
	// Options.Credentials, or the password file read again.
	credentials func(context.Context) (Credentials, error)

	// sealer is the key ring: the primary key, then the previous keys,
	// parsed once. nil when the keys are unusable (an error finding).
	sealer *seal.Sealer
	// nameKey is the key of hashed key names when one of its own is
	// configured (Options.KeyNameKey); nil means: derive it from the
	// primary key (docs/FORMAT.md, "Key names").
	nameKey *seal.Key
	// hashed are the key prefixes whose keys are stored under a keyed
	// hash ("" for every key), hashNameKey the HMAC key (FORMAT.md).
	hashed      []string
	hashNameKey []byte

	topology topology

	// What Open passes through, defaults applied.
	prefix      string
	tokenTTL    time.Duration
	dialTimeout time.Duration
	cmdTimeout  time.Duration
	limits      resp.Limits
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	log         *slog.Logger
	obs         Observer
	localCache  LocalCacheOptions
	sentinel    *sentinelConfig // nil: no Sentinels
	// readFromReplicas: reads go to replicas (Options.ReadFromReplicas).
	readFromReplicas bool
	clock            func() time.Time // nil: time.Now
}

// topology is where the servers are: the URL's host, then each addr= of
// it, the seed nodes of a Redis Cluster. rueidis asks the seeds which
// nodes exist (CLUSTER SLOTS); a server that is not a cluster node is used
// alone. Sentinel (masters found through Sentinels) will fill it in
// newConfig too, and Open connects to what it names.
type topology struct {
	addrs []string // host:port of each server to dial first
}

// hosts are the host names (or IPs) of the seed addresses.
func (t topology) hosts() []string {
	hs := make([]string, 0, len(t.addrs))
	for _, a := range t.addrs {
		if h, _, err := net.SplitHostPort(a); err == nil {
			hs = append(hs, h)
		}
	}
	return hs
}

// newConfig applies the policy to o: it validates every setting, builds
// the TLS config, the key ring and the credentials source, and returns them
// with the report. It touches no network; it reads only the files o names.
func newConfig(o Options) (*config, Report) {
	d := o.detection()
	c := &config{policy: PolicyFor(d.env)}
	r := Report{Environment: c.policy.Environment, EnvironmentSource: d.source}
	r.Findings = append(r.Findings, o.envFindings...)
	reportDetection(d, &r)

	c.url = checkURL(o.URL, &r)
	c.checkCredentials(o, &r)
	c.sealer = keyRingOf(o, c.policy, &r)
	c.nameKey = nameKeyOf(o, c.policy, c.sealer, &r)
	c.checkFormat(o, &r)
	c.checkTLS(o, &r)
	c.checkSentinel(o, &r) // after TLS: it judges how the Sentinels are reached
	checkLocalCache(o.LocalCache, &r)
	c.checkReadFromReplicas(o, &r)
	checkMaxReplyBytes(o.MaxReplyBytes, &r)
	c.passThrough(o)
	c.report = r
	return c, r
}

// detection says which environment's policy applies to o, and how that
// was decided.
func (o Options) detection() detection {
	switch {
	case o.detected != nil && o.detected.env == o.Environment:
		return *o.detected // read from the environment and not changed since
	case o.Environment == "":
		return detectEnvironment(os.LookupEnv)
	case PolicyFor(o.Environment).Environment != o.Environment:
		return detection{env: Production, source: "option", bad: true}
	}
	return detection{env: o.Environment, source: "option"}
}

func reportDetection(d detection, r *Report) {
	switch {
	case d.bad:
		name := d.source
		if name == "option" {
			name = "Options.Environment"
		}
		r.add("env.unrecognized", SeverityWarning, "set ENVIRONMENT to production, staging, development or testing",
			"%s; applying the production policy", notOneOf(name, "production, staging, development or testing"))
	case d.source == "default":
		r.add("env.default", SeverityInfo, "set ENVIRONMENT=production (or staging, development, testing) to make it explicit",
			"no environment variable names the environment; applying the production policy")
	}
}

// passThrough copies what needs no validation, with its defaults.
func (c *config) passThrough(o Options) {
	if c.url.Host != "" {
		c.topology = topology{addrs: append([]string{c.url.Addr()}, c.url.Addrs...)}
	}
	c.prefix, c.tokenTTL = o.KeyPrefix, o.TokenTTL
	c.dialTimeout = o.DialTimeout
	if c.dialTimeout <= 0 {
		c.dialTimeout = defaultDialTimeout
	}
	c.cmdTimeout = o.CommandTimeout
	if c.cmdTimeout <= 0 {
		c.cmdTimeout = defaultCommandTimeout
	}
	c.limits = replyLimits(o)
	c.dial = o.Dial
	c.log = o.Logger
	if c.log == nil {
		c.log = slog.Default()
	}
	c.obs, c.localCache, c.clock = o.Observer, o.LocalCache, o.Clock
	if c.sealer != nil && c.clock != nil {
		c.sealer = c.sealer.WithClock(c.clock)
	}
	switch {
	case o.PasswordFile != "":
		c.credentials = passwordFileCredentials(o.PasswordFile, c.username, c.policy)
	case o.Credentials != nil:
		c.credentials = o.Credentials
	}
}

func checkLocalCache(l LocalCacheOptions, r *Report) {
	if l.MaxBytes < 0 {
		r.add("localcache.max-bytes", SeverityError, "set LocalCache.MaxBytes to a size in bytes, or to 0 to switch the local cache off",
			"LocalCache.MaxBytes is negative (%d)", l.MaxBytes)
	}
	if l.TTL < 0 {
		r.add("localcache.ttl", SeverityError, "set LocalCache.TTL to a positive duration, or to 0 for the default of "+DefaultLocalCacheTTL.String(),
			"LocalCache.TTL is negative (%v)", l.TTL)
	}
}

func checkURL(url string, r *Report) redisurl.URL {
	if url == "" {
		r.add("url.missing", SeverityError, "set "+EnvURL+"=rediss://host:6379/0",
			"no Redis URL is configured")
		return redisurl.URL{}
	}
	u, err := redisurl.Parse(url)
	if err != nil {
		r.add("url.invalid", SeverityError, "write "+EnvURL+" as rediss://[user:password@]host[:port][/db], with ?addr=host:port&addr=... for more nodes of a cluster, or ?master_set=NAME&addr=... to reach the master through Sentinels",
			"%v", err)
		return redisurl.URL{}
	}
	if len(u.Addrs) > 0 && u.DB != 0 && u.MasterSet == "" {
		r.add("url.cluster-db", SeverityError, "drop the /db from "+EnvURL+" (or make it /0), and separate data by key prefix (Options.KeyPrefix)",
			"the URL lists more nodes (addr=), which makes it a Redis Cluster, and a cluster has database 0 only, not %d", u.DB)
	}
	return u
}

func (s *config) checkCredentials(o Options, r *Report) {
	s.username, s.password = o.Username, o.Password
	if u := s.url; u.Username != "" {
		if s.username != "" && s.username != u.Username {
			r.add("auth.username-conflict", SeverityError, "remove the user from "+EnvURL+" or make "+EnvUsername+" match it",
				"%s and %s name different users", EnvURL, EnvUsername)
		}
		s.username = u.Username
	}
	if u := s.url; u.HasPassword && u.Password != "" {
		if s.password != "" && s.password != u.Password {
			r.add("auth.password-conflict", SeverityError, "keep the password in one place: remove it from "+EnvURL+" or from "+EnvPassword,
				"%s and %s carry different passwords", EnvURL, EnvPassword)
		}
		s.password = u.Password
	}
	if o.PasswordFile != "" {
		s.checkPasswordFile(o, r)
		return
	}
	if o.Credentials != nil {
		// Checked on every connection instead: see Open.
		r.add("auth.dynamic", SeverityInfo, "",
			"credentials come from a function; each password it returns is checked against the policy when a connection is made")
		return
	}
	for _, f := range passwordFindings(s.password, s.policy) {
		r.Findings = append(r.Findings, f)
	}
}

// passwordFindings applies the policy to one password. It is also used on
// every password a Credentials function returns.
func passwordFindings(password string, p Policy) []Finding {
	var r Report
	gen := "generate one with `redsafe password --environment " + string(p.Environment) + "`"
	switch {
	case password == "":
		r.add("auth.password-missing", SeverityError, "set "+EnvPassword+"; "+gen,
			"no password is configured: every connection must authenticate")
	case isPlaceholderPassword(password):
		r.add("auth.password-placeholder", SeverityError, "replace it; "+gen,
			"the password is a known default or placeholder")
	case isRepeatedPattern(password):
		r.add("auth.password-repeated", SeverityError, "replace it; "+gen,
			"the password repeats one short pattern")
	default:
		if n := len([]rune(password)); n < p.MinPasswordLength {
			r.add("auth.password-short", SeverityError, gen,
				"the password has %d characters; %s requires at least %d", n, p.Environment, p.MinPasswordLength)
		}
		if bits := PasswordBits(password); bits < p.MinPasswordBits {
			r.add("auth.password-weak", SeverityError, gen,
				"the password has about %.0f bits of entropy; %s requires at least %.0f", bits, p.Environment, p.MinPasswordBits)
		}
	}
	return r.Findings
}

func (s *config) checkTLS(o Options, r *Report) {
	p := s.policy
	if s.url.Host == "" {
		return // no usable URL: already reported, and nothing to say about its transport
	}
	s.useTLS = s.url.TLS || o.TLS.Enabled
	if !s.useTLS {
		s.checkPlaintext(o, r)
		return
	}

	verify := o.TLS.Verify
	if verify == "" {
		verify = VerifyRequired
	}
	switch verify {
	case VerifyRequired, VerifyOptional, VerifyNone:
	default:
		r.add("tls.verify-invalid", SeverityError, "set TLS.Verify to required, optional or none",
			"%s", notOneOf("TLS.Verify", "required, optional or none"))
		verify = VerifyRequired
	}
	if !p.allowsVerify(verify) {
		r.add("tls.verify", SeverityError, fmt.Sprintf("set %s=required (or unset it) and give the CA in %s", EnvTLSCertReqs, EnvTLSCACert),
			"certificate verification %q is not allowed in %s", verify, p.Environment)
	}
	if verify == VerifyOptional && o.TLS.CAFile == "" {
		r.add("tls.verify", SeverityError, "set "+EnvTLSCACert+" to the CA that signed the server certificate",
			"verification %q checks the chain against %s, which is not set", verify, EnvTLSCACert)
	}

	minVersion := o.TLS.MinVersion
	switch minVersion {
	case 0:
		minVersion = p.MinTLSVersion
	case tls.VersionTLS12, tls.VersionTLS13:
		if minVersion < p.MinTLSVersion {
			r.add("tls.min-version", SeverityError, fmt.Sprintf("set %s=%s (or unset it) and enable TLS %s on the server", EnvTLSMinVersion, tlsVersionName(p.MinTLSVersion), tlsVersionName(p.MinTLSVersion)),
				"TLS %s is below the %s minimum of TLS %s", tlsVersionName(minVersion), p.Environment, tlsVersionName(p.MinTLSVersion))
		}
	default:
		r.add("tls.min-version-invalid", SeverityError, "use TLS 1.2 or 1.3",
			"minimum TLS version %s is not supported", tls.VersionName(minVersion))
		minVersion = p.MinTLSVersion
	}
	o.TLS.Verify = verify
	s.tlsServerName = o.TLS.ServerName
	// Stamped before they are read: a change in between is seen later.
	s.tlsFiles = newTLSFiles(o.TLS, s.url.Host, minVersion)
	s.tlsConfig, s.tlsOwnCA = buildTLSConfig(o.TLS, s.url.Host, minVersion, r)
}

func (s *config) checkPlaintext(o Options, r *Report) {
	p := s.policy
	useTLS := "use a rediss:// URL (or set " + EnvTLSEnabled + "=true); `redsafe up` starts a local TLS Redis"
	for _, set := range []string{o.TLS.CAFile, o.TLS.CertFile, o.TLS.ServerName} {
		if set != "" {
			r.add("tls.configured-but-off", SeverityWarning, useTLS,
				"TLS files or names are configured but the URL is redis://, so TLS is off")
			break
		}
	}
	switch {
	case p.RequireTLS && p.PlaintextOverride && o.AllowInsecurePlaintext:
		r.add(insecureOverrideID, SeverityWarning, useTLS+", then remove "+EnvInsecureAllowPlaintext,
			"INSECURE: %s runs without TLS because %s=true; passwords and data cross the network in clear", p.Environment, EnvInsecureAllowPlaintext)
	case p.RequireTLS && p.PlaintextOverride:
		r.add("tls.disabled", SeverityError, useTLS,
			"%s requires TLS, and the URL is redis:// (plaintext)", p.Environment)
	case p.RequireTLS:
		fix := useTLS
		if o.AllowInsecurePlaintext {
			fix += "; " + EnvInsecureAllowPlaintext + " is not honoured in " + string(p.Environment)
		}
		r.add("tls.disabled", SeverityError, fix, "%s requires TLS, and the URL is redis:// (plaintext)", p.Environment)
	case p.PlaintextLoopbackAllowed && s.url.Host != "" && !allLoopback(append([]string{s.url.Host}, addrHosts(s.url.Addrs)...)):
		r.add("tls.disabled", SeverityError, useTLS,
			"%s allows plaintext only to this machine, and a node of %s is not a loopback address", p.Environment, EnvURL)
	case p.PlaintextLoopbackAllowed:
		r.add("tls.plaintext-loopback", SeverityWarning, useTLS,
			"TLS is off; %s allows that to loopback only", p.Environment)
	default:
		r.add("tls.off", SeverityInfo, useTLS, "TLS is off, which %s allows", p.Environment)
	}
}

// insecureOverrideID is the finding of production running without TLS
// through AllowInsecurePlaintext: logged loudly and observed at every Open.
const insecureOverrideID = "tls.insecure-override"

// allLoopback reports whether every host is this machine.
func allLoopback(hosts []string) bool {
	for _, h := range hosts {
		if !isLoopback(h) {
			return false
		}
	}
	return true
}

// addrHosts are the hosts of host:port addresses.
func addrHosts(addrs []string) []string {
	return topology{addrs: addrs}.hosts()
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
