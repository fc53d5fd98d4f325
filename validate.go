package redsafe

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/seal"
)

// Validate checks o against its environment's policy without touching the
// network and returns every finding. Open refuses to connect when the report
// has an error finding.
func Validate(o Options) Report {
	_, r := resolve(o)
	return r
}

// settings is Options resolved against the policy: what Open needs to
// connect.
type settings struct {
	policy    Policy
	url       redisurl.URL
	useTLS    bool
	tlsConfig *tls.Config
	username  string
	password  string
	sealer    *seal.Sealer
}

// resolve is the single place where the policy is applied. Validate reports
// its findings; Open also uses the settings.
func resolve(o Options) (settings, Report) {
	d := detection{env: o.Environment, source: "option"}
	switch {
	case o.detected != nil && o.detected.env == o.Environment:
		d = *o.detected // read from the environment and not changed since
	case o.Environment == "":
		d = detectEnvironment(os.LookupEnv)
	case PolicyFor(o.Environment).Environment != o.Environment:
		d = detection{env: Production, source: "option", bad: true}
	}
	var s settings
	s.policy = PolicyFor(d.env)
	p := s.policy
	r := Report{Environment: p.Environment, EnvironmentSource: d.source}
	r.Findings = append(r.Findings, o.envFindings...)
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

	s.checkURL(o, &r)
	s.checkCredentials(o, &r)
	s.checkKeys(o, &r)
	s.checkTLS(o, &r)
	checkLocalCache(o.LocalCache, &r)
	checkMaxReplyBytes(o.MaxReplyBytes, &r)
	return s, r
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

func (s *settings) checkURL(o Options, r *Report) {
	if o.URL == "" {
		r.add("url.missing", SeverityError, "set "+EnvURL+"=rediss://host:6379/0",
			"no Redis URL is configured")
		return
	}
	u, err := redisurl.Parse(o.URL)
	if err != nil {
		r.add("url.invalid", SeverityError, "write "+EnvURL+" as rediss://[user:password@]host[:port][/db]",
			"%v", err)
		return
	}
	s.url = u
}

func (s *settings) checkCredentials(o Options, r *Report) {
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

func (s *settings) checkKeys(o Options, r *Report) {
	if o.EncryptionKey == "" {
		r.add("encryption.key-missing", SeverityError, "set "+EnvEncryptionKey+" to the output of `redsafe keygen`",
			"no encryption key is configured: every value must be encrypted, in every environment")
		return
	}
	primary, err := seal.ParseKey(o.EncryptionKey)
	if err != nil {
		r.add("encryption.key-invalid", SeverityError, "set "+EnvEncryptionKey+" to the output of `redsafe keygen`",
			"%s is not a usable Fernet key (%v)", EnvEncryptionKey, err)
		return
	}
	var previous []*seal.Key
	seen := map[string]bool{primary.ID(): true}
	for i, text := range o.PreviousEncryptionKeys {
		k, err := seal.ParseKey(text)
		if notRandom := err; errors.Is(notRandom, seal.ErrNotRandom) {
			// Kept to open what it sealed, so rotate-key can move it off.
			k, err = seal.ParsePreviousKey(text)
			r.add("encryption.previous-key-not-random", SeverityWarning, "re-seal what it sealed with `redsafe rotate-key`, then drop it from "+EnvEncryptionPreviousKeys,
				"entry %d of %s (key %s) is not a random key (%v); it is kept only to open old values", i+1, EnvEncryptionPreviousKeys, k.ID(), notRandom)
		}
		if err != nil {
			r.add("encryption.previous-key-invalid", SeverityError, "remove it or replace it with the old key exactly as it was",
				"entry %d of %s is not a usable Fernet key (%v)", i+1, EnvEncryptionPreviousKeys, err)
			continue
		}
		if seen[k.ID()] {
			what := "is listed already"
			if k.Equal(primary) {
				what = "is the primary key " + EnvEncryptionKey + ": the old key may be missing"
			}
			r.add("encryption.previous-key-duplicate", SeverityWarning, "remove the duplicate from "+EnvEncryptionPreviousKeys,
				"entry %d of %s (key %s) %s", i+1, EnvEncryptionPreviousKeys, k.ID(), what)
			continue
		}
		seen[k.ID()] = true
		previous = append(previous, k)
	}
	s.sealer = seal.New(primary, previous...)
}

func (s *settings) checkTLS(o Options, r *Report) {
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
	s.tlsConfig = buildTLSConfig(o.TLS, s.url.Host, minVersion, r)
}

func (s *settings) checkPlaintext(o Options, r *Report) {
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
	case p.PlaintextLoopbackAllowed && s.url.Host != "" && !isLoopback(s.url.Host):
		r.add("tls.disabled", SeverityError, useTLS,
			"%s allows plaintext only to this machine, and %s is not a loopback address", p.Environment, s.url.Host)
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

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
