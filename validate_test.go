package redsafe

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

var (
	testKey = seal.GenerateKey().Encode()
	// testPassword is fixed, not generated, so that its prefixes used below
	// have a known entropy estimate: a random draw may lack a symbol, and a
	// 32-character prefix without one falls just short of staging's 192 bits.
	testPassword = "k7-Qx2Lr9_Vd4Ws8Np3Hj6Tb1Zf5Ym0Gc8Ue2Ra7Ik4Oy9Sn"
)

func validOptions(env Environment) Options {
	return Options{
		Environment:   env,
		URL:           "rediss://app@redis.example:6380/0",
		Password:      testPassword,
		EncryptionKey: testKey,
	}
}

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

var allEnvironments = []Environment{Production, Staging, Development, Testing}

func TestValidConfigurationPassesEveryEnvironment(t *testing.T) {
	for _, env := range allEnvironments {
		r := Validate(validOptions(env))
		if !r.OK() || len(r.Warnings()) > 0 {
			t.Errorf("%s: %+v", env, r.Findings)
		}
		if r.Environment != env || r.EnvironmentSource != "option" {
			t.Errorf("%s: report says %s from %s", env, r.Environment, r.EnvironmentSource)
		}
	}
}

// TestPolicyRules applies each rule in each environment. want lists the
// error findings; warn the warning findings.
func TestPolicyRules(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, testCAPEM(t), 0o644)

	type rule struct {
		name   string
		envs   []Environment
		modify func(*Options)
		want   []string // error ids
		warn   []string // warning ids
	}
	prod, stag, dev, test := []Environment{Production}, []Environment{Staging}, []Environment{Development}, []Environment{Testing}
	rules := []rule{
		// Transport.
		{"plaintext", prod, func(o *Options) { o.URL = "redis://h:6379" }, []string{"tls.disabled"}, nil},
		{"plaintext override", prod, func(o *Options) { o.URL = "redis://h:6379"; o.AllowInsecurePlaintext = true }, nil, []string{"tls.insecure-override"}},
		{"plaintext staging", stag, func(o *Options) { o.URL = "redis://h:6379" }, []string{"tls.disabled"}, nil},
		{"plaintext staging override ignored", stag, func(o *Options) { o.URL = "redis://h:6379"; o.AllowInsecurePlaintext = true }, []string{"tls.disabled"}, nil},
		{"plaintext dev loopback", dev, func(o *Options) { o.URL = "redis://127.0.0.1:6379" }, nil, []string{"tls.plaintext-loopback"}},
		{"plaintext dev ::1", dev, func(o *Options) { o.URL = "redis://[::1]:6379" }, nil, []string{"tls.plaintext-loopback"}},
		{"plaintext dev localhost", dev, func(o *Options) { o.URL = "redis://localhost" }, nil, []string{"tls.plaintext-loopback"}},
		{"plaintext dev remote", dev, func(o *Options) { o.URL = "redis://10.0.0.5:6379" }, []string{"tls.disabled"}, nil},
		{"plaintext testing", test, func(o *Options) { o.URL = "redis://10.0.0.5:6379" }, nil, nil},
		{"TLS forced on redis://", prod, func(o *Options) { o.URL = "redis://h"; o.TLS.Enabled = true }, nil, nil},
		{"TLS files with plaintext", test, func(o *Options) { o.URL = "redis://h"; o.TLS.CAFile = ca }, nil, []string{"tls.configured-but-off"}},
		{"TLS 1.2 in production", prod, func(o *Options) { o.TLS.MinVersion = tls.VersionTLS12 }, []string{"tls.min-version"}, nil},
		{"TLS 1.2 elsewhere", []Environment{Staging, Development, Testing}, func(o *Options) { o.TLS.MinVersion = tls.VersionTLS12 }, nil, nil},
		{"TLS 1.1", allEnvironments, func(o *Options) { o.TLS.MinVersion = tls.VersionTLS11 }, []string{"tls.min-version-invalid"}, nil},
		{"verify optional", []Environment{Production, Staging}, func(o *Options) { o.TLS.Verify = VerifyOptional; o.TLS.CAFile = ca }, []string{"tls.verify"}, nil},
		{"verify optional dev", []Environment{Development, Testing}, func(o *Options) { o.TLS.Verify = VerifyOptional; o.TLS.CAFile = ca }, nil, nil},
		{"verify optional without CA", dev, func(o *Options) { o.TLS.Verify = VerifyOptional }, []string{"tls.verify"}, nil},
		{"verify none", []Environment{Production, Staging, Development}, func(o *Options) { o.TLS.Verify = VerifyNone }, []string{"tls.verify"}, nil},
		{"verify none testing", test, func(o *Options) { o.TLS.Verify = VerifyNone }, nil, nil},
		{"CA missing", allEnvironments, func(o *Options) { o.TLS.CAFile = filepath.Join(dir, "nope.pem") }, []string{"tls.ca-file"}, nil},
		{"CA not PEM", allEnvironments, func(o *Options) { o.TLS.CAFile = notPEM }, []string{"tls.ca-file"}, nil},
		{"cert without key", allEnvironments, func(o *Options) { o.TLS.CertFile = ca }, []string{"tls.client-cert"}, nil},
		{"key without cert", allEnvironments, func(o *Options) { o.TLS.KeyFile = ca }, []string{"tls.client-cert"}, nil},
		{"cert and key unloadable", allEnvironments, func(o *Options) { o.TLS.CertFile, o.TLS.KeyFile = notPEM, notPEM }, []string{"tls.client-cert"}, nil},
		// URL.
		{"no URL", allEnvironments, func(o *Options) { o.URL = "" }, []string{"url.missing"}, nil},
		{"bad URL", allEnvironments, func(o *Options) { o.URL = "http://h" }, []string{"url.invalid"}, nil},
		// Encryption.
		{"no key", allEnvironments, func(o *Options) { o.EncryptionKey = "" }, []string{"encryption.key-missing"}, nil},
		{"bad key", allEnvironments, func(o *Options) { o.EncryptionKey = "abc" }, []string{"encryption.key-invalid"}, nil},
		{"bad previous key", allEnvironments, func(o *Options) { o.PreviousEncryptionKeys = []string{seal.GenerateKey().Encode(), "abc"} }, []string{"encryption.previous-key-invalid"}, nil},
		{"previous key not random", allEnvironments, func(o *Options) { o.PreviousEncryptionKeys = []string{strings.Repeat("A", 43) + "="} }, nil, []string{"encryption.previous-key-not-random"}},
		{"duplicate previous key", allEnvironments, func(o *Options) { o.PreviousEncryptionKeys = []string{o.EncryptionKey} }, nil, []string{"encryption.previous-key-duplicate"}},
		// Passwords.
		{"no password", allEnvironments, func(o *Options) { o.Password = "" }, []string{"auth.password-missing"}, nil},
		{"placeholder", allEnvironments, func(o *Options) { o.Password = "change-me-in-production" }, []string{"auth.password-placeholder"}, nil},
		{"placeholder default", allEnvironments, func(o *Options) { o.Password = "secure_default_password" }, []string{"auth.password-placeholder"}, nil},
		{"repeated", allEnvironments, func(o *Options) { o.Password = strings.Repeat("Ab1!", 16) }, []string{"auth.password-repeated"}, nil},
		{"47 chars", prod, func(o *Options) { o.Password = testPassword[:47] }, []string{"auth.password-short"}, nil},
		{"48 lowercase letters", prod, func(o *Options) { o.Password = "qwhdkeiroplmnbvcxzasdfghjklpoiuytrewqazxswedcvfrt" }, []string{"auth.password-weak"}, nil},
		{"31 chars", stag, func(o *Options) { o.Password = testPassword[:31] }, []string{"auth.password-short"}, nil},
		{"32 chars", stag, func(o *Options) { o.Password = testPassword[:32] }, nil, nil},
		{"23 chars", dev, func(o *Options) { o.Password = testPassword[:23] }, []string{"auth.password-short"}, nil},
		{"24 chars", dev, func(o *Options) { o.Password = testPassword[:24] }, nil, nil},
		{"11 chars", test, func(o *Options) { o.Password = testPassword[:11] }, []string{"auth.password-short"}, nil},
		{"12 chars", test, func(o *Options) { o.Password = testPassword[:12] }, nil, nil},
		{"password in URL agrees", allEnvironments, func(o *Options) { o.URL = "rediss://app:" + o.Password + "@h/0" }, nil, nil},
		{"password only in URL", allEnvironments, func(o *Options) { o.URL = "rediss://app:" + o.Password + "@h/0"; o.Password = "" }, nil, nil},
		{"password in URL differs", allEnvironments, func(o *Options) { o.URL = "rediss://app:" + testPassword[1:] + "x@h/0" }, []string{"auth.password-conflict"}, nil},
		{"user in URL differs", allEnvironments, func(o *Options) { o.Username = "other" }, []string{"auth.username-conflict"}, nil},
		// Environment.
		{"unknown environment", nil, func(o *Options) { o.Environment = "qa"; o.Password = testPassword[:40] }, []string{"auth.password-short"}, []string{"env.unrecognized"}},
	}
	for _, rl := range rules {
		envs := rl.envs
		if envs == nil {
			envs = []Environment{""}
		}
		for _, env := range envs {
			o := validOptions(env)
			rl.modify(&o)
			r := Validate(o)
			if got := ids(r.Errors()); !slices.Equal(got, rl.want) {
				t.Errorf("%s/%s: errors %v, want %v\n%+v", rl.name, env, got, rl.want, r.Findings)
			}
			if got := ids(r.Warnings()); !slices.Equal(got, rl.warn) {
				t.Errorf("%s/%s: warnings %v, want %v", rl.name, env, got, rl.warn)
			}
			if r.OK() != (len(rl.want) == 0) {
				t.Errorf("%s/%s: OK() = %v", rl.name, env, r.OK())
			}
			for _, f := range r.Findings {
				if f.Severity != SeverityInfo && (f.Message == "" || f.Fix == "") {
					t.Errorf("%s/%s: finding %s lacks a message or a fix", rl.name, env, f.ID)
				}
			}
			assertNoSecrets(t, r, o)
		}
	}
}

// assertNoSecrets checks the report, as JSON and as an error, against every
// secret in o.
func assertNoSecrets(t *testing.T, r Report, o Options) {
	t.Helper()
	js, _ := json.Marshal(r)
	text := string(js)
	if err := r.Err(); err != nil {
		text += err.Error()
	}
	for _, secret := range append([]string{o.Password, o.EncryptionKey}, o.PreviousEncryptionKeys...) {
		if len(secret) >= 6 && strings.Contains(text, secret) {
			t.Fatalf("report leaks a secret: %s", text)
		}
	}
}

func TestConfigErrorListsEveryProblem(t *testing.T) {
	o := Options{Environment: Production, URL: "redis://h", Password: "password"}
	err := Validate(o).Err()
	ce, ok := err.(*ConfigError)
	if !ok {
		t.Fatalf("Err() = %T %v, want *ConfigError", err, err)
	}
	msg := ce.Error()
	for _, want := range []string{"3 configuration problems for production", "[auth.password-placeholder]", "[encryption.key-missing]", "[tls.disabled]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// The fixes are fields, for a renderer to print: not in the one line.
	for _, f := range ce.Report.Errors() {
		if f.Fix == "" {
			t.Errorf("%s has no fix", f.ID)
		}
	}
}

func TestEnvironmentFromProcess(t *testing.T) {
	for _, name := range EnvironmentVariables() {
		t.Setenv(name, "")
	}
	o := validOptions("")
	if r := Validate(o); r.Environment != Production || r.EnvironmentSource != "default" {
		t.Errorf("no variables: %s from %s, want production by default", r.Environment, r.EnvironmentSource)
	}
	t.Setenv("APP_ENV", "test")
	if r := Validate(o); r.Environment != Testing || r.EnvironmentSource != "APP_ENV" {
		t.Errorf("APP_ENV=test: %s from %s", r.Environment, r.EnvironmentSource)
	}
	// An explicit option wins over the variables.
	o.Environment = Staging
	if r := Validate(o); r.Environment != Staging || r.EnvironmentSource != "option" {
		t.Errorf("explicit staging: %s from %s", r.Environment, r.EnvironmentSource)
	}
}

func testCAPEM(t *testing.T) []byte {
	t.Helper()
	ca, err := certs.NewAuthority("redsafe test CA", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ca.CertPEM
}

// TestNewConfigWithoutServer: the middle stage alone. From Options it
// builds every part Open connects with, touching no network.
func TestNewConfigWithoutServer(t *testing.T) {
	previous := seal.GenerateKey()
	o := validOptions(Staging)
	o.PreviousEncryptionKeys = []string{previous.Encode()}
	o.KeyPrefix, o.DialTimeout = "svc:", 0
	c, r := newConfig(o)
	if !r.OK() {
		t.Fatalf("findings: %v", ids(r.Findings))
	}
	if !slices.Equal(c.report.Findings, r.Findings) {
		t.Error("config does not carry its report")
	}
	if !c.useTLS || c.tlsConfig == nil || c.tlsConfig.ServerName != "redis.example" || c.tlsConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS: use %v, config %+v", c.useTLS, c.tlsConfig)
	}
	if !slices.Equal(c.topology.addrs, []string{"redis.example:6380"}) {
		t.Errorf("topology = %v", c.topology.addrs)
	}
	if c.username != "app" || c.password != testPassword || c.credentials != nil {
		t.Errorf("credentials: user %q, dynamic %v", c.username, c.credentials != nil)
	}
	if keys := c.sealer.Keys(); len(keys) != 2 || keys[0].Encode() != testKey || !keys[1].Equal(previous) {
		t.Errorf("key ring = %v", c.sealer)
	}
	if c.prefix != "svc:" || c.dialTimeout != defaultDialTimeout || c.cmdTimeout != defaultCommandTimeout || c.log == nil {
		t.Errorf("pass-through: prefix %q, dial %v, command %v", c.prefix, c.dialTimeout, c.cmdTimeout)
	}

	// A password file becomes the credentials source, read per connection.
	dir := t.TempDir()
	path := filepath.Join(dir, "password")
	if err := os.WriteFile(path, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o = validOptions(Testing)
	o.Password, o.PasswordFile = "", path
	c, r = newConfig(o)
	if !r.OK() || c.credentials == nil {
		t.Fatalf("password file: findings %v, dynamic %v", ids(r.Findings), c.credentials != nil)
	}
	if cr, err := c.credentials(t.Context()); err != nil || cr.Password != testPassword || cr.Username != "app" {
		t.Errorf("credentials() = %v, %v", cr, err)
	}
}

// TestKeyRingIsParsedOnce: Validate, Connection and KeyRing read the keys
// through one parser; an unusable previous key is one finding and is left
// out, and nothing prints a key.
func TestKeyRingIsParsedOnce(t *testing.T) {
	previous := seal.GenerateKey()
	old := seal.New(previous).Seal(nil, []byte("sealed before the rotation"))
	o := validOptions(Testing)
	o.PreviousEncryptionKeys = []string{"not-a-key-but-a-secret-value", previous.Encode()}

	r := Validate(o)
	if got := ids(r.Errors()); !slices.Equal(got, []string{"encryption.previous-key-invalid"}) {
		t.Fatalf("errors = %v, want one previous-key-invalid", got)
	}
	_, err := o.KeyRing()
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Report.Findings) != 1 || !strings.Contains(ce.Report.Findings[0].Message, "entry 1 of "+EnvEncryptionPreviousKeys) {
		t.Fatalf("KeyRing() error = %v", err)
	}

	o.PreviousEncryptionKeys = o.PreviousEncryptionKeys[1:]
	ring, err := o.KeyRing()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := o.Connection()
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*seal.Sealer{"KeyRing": ring, "Connection.Sealer": conn.Sealer} {
		if got, err := s.Open(nil, old, 0); err != nil || string(got) != "sealed before the rotation" {
			t.Errorf("%s cannot open a value of the previous key: %v", name, err)
		}
		for _, text := range []string{fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", conn), fmt.Sprintf("%+v", *conn)} {
			if strings.Contains(text, testKey) || strings.Contains(text, previous.Encode()) || !strings.Contains(text, previous.ID()) {
				t.Errorf("%s prints %s", name, text)
			}
		}
	}
}

// TestEnvironmentVariablesCannotBeChanged: the list that selects the
// policy is a copy, so an importer cannot make production look like
// testing by editing it.
func TestEnvironmentVariablesCannotBeChanged(t *testing.T) {
	vars := EnvironmentVariables()
	vars[0] = "SOMETHING_ELSE"
	if got := EnvironmentVariables()[0]; got != "ENVIRONMENT" {
		t.Fatalf("EnvironmentVariables()[0] = %q after a caller changed its copy", got)
	}
}

// TestOpenConnectsFromConfigAlone: the last stage takes only the config,
// over TLS to a real server, and leaves it as it was.
func TestOpenConnectsFromConfigAlone(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	cfg, r := newConfig(serverOptions(s))
	if !r.OK() {
		t.Fatalf("findings: %v", ids(r.Errors()))
	}
	before := fmt.Sprintf("%v %v", cfg, cfg.topology.addrs)
	c, err := open(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.TLSVersion() != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want TLS 1.3 (production)", c.TLSVersion())
	}
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if after := fmt.Sprintf("%v %v", cfg, cfg.topology.addrs); after != before {
		t.Errorf("open changed the config:\n%s\n%s", before, after)
	}
}
