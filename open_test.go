package redsafe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

func TestOpenProductionTLS13(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	var logs logBuffer
	o := serverOptions(s)
	o.Logger = logs.logger()
	c := openCache(t, o)
	if c.TLSVersion() != tls.VersionTLS13 {
		t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(c.TLSVersion()))
	}
	if c.Environment() != Production {
		t.Errorf("environment %s", c.Environment())
	}
	ctx := testContext(t)
	secret := []byte("patient 4711: diagnosis confidential")
	if err := c.Set(ctx, "record", secret, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "record")
	if err != nil || string(got) != string(secret) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// What Redis holds is a Fernet token under our key, not the plaintext.
	raw := s.Do(t, "GET", "record")
	if strings.Contains(raw, "patient") || !strings.HasPrefix(raw, "gAAAAA") {
		t.Fatalf("raw value in Redis is not a Fernet token: %q", raw)
	}
	k, _ := seal.ParseKey(testKey)
	if pt, err := seal.New(k).Open(nil, []byte(raw), 0); err != nil || string(pt) != string(secret) {
		t.Fatalf("raw token does not open with the key: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`"msg":"redsafe: configuration validated"`, `"msg":"redsafe: opened"`, `"tls":"TLS 1.3"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	assertNotIn(t, "logs", out, s.Password, testKey)
}

// TestOpenFailures: each way a connection can be wrong is refused with its
// own cause, a fix, and no secret in the message.
func TestOpenFailures(t *testing.T) {
	t.Parallel()
	tlsServer := redisserver.Start(t, redisserver.Config{})
	tests := []struct {
		name   string
		server redisserver.Config
		modify func(o *Options, s *redisserver.Server)
		want   error
		fix    string
	}{
		{"wrong password", redisserver.Config{}, func(o *Options, _ *redisserver.Server) {
			o.Password = GeneratePassword(Production)
		}, ErrWrongPassword, "REDIS_PASSWORD"},
		{"unknown CA", redisserver.Config{}, func(o *Options, _ *redisserver.Server) { o.TLS.CAFile = "" }, ErrCertUntrusted, EnvTLSCACert},
		{"wrong host", redisserver.Config{Hosts: []string{"redis.example"}}, nil, ErrCertHostname, EnvTLSServerName},
		{"expired certificate", redisserver.Config{CertNotBefore: time.Now().Add(-48 * time.Hour), CertNotAfter: time.Now().Add(-24 * time.Hour)}, nil, ErrCertExpired, "renew"},
		{"plaintext server behind rediss://", redisserver.Config{Plaintext: true}, func(o *Options, s *redisserver.Server) {
			o.URL = strings.Replace(s.URL("", ""), "redis://", "rediss://", 1)
		}, ErrNotTLS, "TLS port"},
		{"TLS 1.2 server under a TLS 1.3 policy", redisserver.Config{TLSProtocols: "TLSv1.2"}, nil, ErrTLSVersion, "tls-protocols"},
		{"TLS server behind redis://", redisserver.Config{}, func(o *Options, s *redisserver.Server) {
			o.Environment = Testing
			o.URL = strings.Replace(s.URL("", ""), "rediss://", "redis://", 1)
		}, ErrTLSRequired, "rediss://"},
		{"client certificate required", redisserver.Config{MutualTLS: true}, nil, ErrClientCertRequired, EnvTLSCert},
		{"connection refused", redisserver.Config{}, func(o *Options, _ *redisserver.Server) {
			o.URL = "rediss://127.0.0.1:" + closedPort(t) + "/0"
		}, ErrUnreachable, "redsafe up"},
		{"silent server", redisserver.Config{}, func(o *Options, _ *redisserver.Server) {
			o.URL = "rediss://" + silentServer(t) + "/0"
			o.DialTimeout = 300 * time.Millisecond
		}, ErrTimeout, "reachable"},
		{"weak credentials from a function", redisserver.Config{}, func(o *Options, s *redisserver.Server) {
			o.Credentials = func(context.Context) (Credentials, error) { return Credentials{Password: "password"}, nil }
		}, ErrCredentialsRejected, "policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tlsServer
			if tt.server.Plaintext || tt.server.Hosts != nil || !tt.server.CertNotAfter.IsZero() || tt.server.TLSProtocols != "" || tt.server.MutualTLS {
				s = redisserver.Start(t, tt.server)
			}
			o := serverOptions(s)
			if tt.modify != nil {
				tt.modify(&o, s)
			}
			start := time.Now()
			c, err := Open(testContext(t), o)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("Open took %v to fail", time.Since(start))
			}
			var ce *ConnectError
			if !errors.As(err, &ce) || !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v (%T), want cause %v", err, err, tt.want)
			}
			if !strings.Contains(ce.Fix, tt.fix) {
				t.Errorf("fix %q does not mention %q", ce.Fix, tt.fix)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, ce.Fix) {
				t.Errorf("Error() is not one line without the fix: %q", msg)
			}
			if got, want := ClassifyError(err), classOf(tt.want); got != want {
				t.Errorf("ClassifyError = %q, want %q", got, want)
			}
			assertNotIn(t, "error", err.Error(), s.Password, o.Password, testKey)
		})
	}
}

func TestOpenWithServerNameOverride(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Hosts: []string{"redis.example"}})
	o := serverOptions(s)
	o.TLS.ServerName = "redis.example"
	c := openCache(t, o)
	if err := c.Set(testContext(t), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
}

func TestOpenMutualTLS(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{MutualTLS: true})
	o := serverOptions(s)
	o.TLS.CertFile, o.TLS.KeyFile = s.ClientCertFile, s.ClientKeyFile
	c := openCache(t, o)
	if _, err := c.Exists(testContext(t), "k"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenStagingAcceptsTLS12(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{TLSProtocols: "TLSv1.2"})
	o := serverOptions(s)
	o.Environment = Staging
	c := openCache(t, o)
	if c.TLSVersion() != tls.VersionTLS12 {
		t.Errorf("negotiated %s", tls.VersionName(c.TLSVersion()))
	}
}

// TestVerifyOptional: the chain is checked against the CA file, the host
// name is not.
func TestVerifyOptional(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Hosts: []string{"redis.example"}})
	o := serverOptions(s)
	o.Environment = Development
	o.TLS.Verify = VerifyOptional
	openCache(t, o)

	other := redisserver.Start(t, redisserver.Config{})
	o.TLS.CAFile = other.CAFile
	if _, err := Open(testContext(t), o); !errors.Is(err, ErrCertUntrusted) && !errors.Is(err, ErrCertInvalid) {
		t.Fatalf("a certificate from another CA was accepted: %v", err)
	}
}

func TestACLUserAndPasswordWithSpecialCharacters(t *testing.T) {
	t.Parallel()
	const pw = "p@ss:w%rd/" + "Zt8Kp3vQ9wLm2Xr7Yb4Nc6Hd1Jf5Gs0Ae2Ui9Oy7Tq3Wx5Rz8Kp3vQ9"
	s := redisserver.Start(t, redisserver.Config{
		DisableDefaultUser: true,
		Users:              []redisserver.User{{Name: "app", Password: pw, Rules: "~app:* +@all -@dangerous"}},
	})
	var logs logBuffer
	o := serverOptions(s)
	o.Password = ""
	o.URL = "rediss://app:" + pw + "@" + s.Addr + "/0" // unescaped, as people write them
	o.Logger = logs.logger()
	c := openCache(t, o)
	ctx := testContext(t)
	if err := c.Set(ctx, "app:1", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	// The ACL still applies: the key pattern is enforced.
	if err := c.Set(ctx, "other:1", []byte("x"), time.Minute); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("write outside the key pattern: %v", err)
	}

	// The wrong password is refused and appears nowhere.
	wrong := "w@rong:%pass" + pw[12:]
	o.URL = "rediss://app:" + wrong + "@" + s.Addr + "/0"
	_, err := Open(ctx, o)
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong ACL password: %v", err)
	}
	assertNotIn(t, "error", err.Error(), pw, wrong, "p@ss", "w@rong")
	assertNotIn(t, "logs", logs.String(), pw, wrong, "p@ss", "w@rong")
}

// TestClassifyRealNoAuth: redsafe always authenticates, so a NOAUTH can only
// come from a server that rejects the way it authenticates. The reply of a
// real server to an unauthenticated client must still be classified.
func TestClassifyRealNoAuth(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: []string{s.Addr}, TLSConfig: s.TLSConfig(), ForceSingleClient: true, DisableCache: true,
	})
	if err == nil {
		err = client.Do(testContext(t), client.B().Ping().Build()).Error()
		client.Close()
	}
	if err == nil {
		t.Fatal("unauthenticated PING succeeded")
	}
	set, _ := newConfig(serverOptions(s))
	if got := classify(err, set, s.Addr, &dialer{timeout: time.Second}); !errors.Is(got, ErrNoAuth) {
		t.Fatalf("classify(%v) = %v, want ErrNoAuth", err, got)
	}
}

func TestCredentialsFunctionIsCalledPerConnection(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	calls := 0
	o := serverOptions(s)
	o.Password = ""
	o.Credentials = func(context.Context) (Credentials, error) {
		calls++
		return Credentials{Password: s.Password}, nil
	}
	c := openCache(t, o)
	if _, err := c.Exists(testContext(t), "k"); err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("the credentials function was never called")
	}
}

func TestInsecureOverrideIsLoggedLoudly(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true})
	var logs logBuffer
	o := serverOptions(s)
	o.TLS = TLSOptions{}
	o.AllowInsecurePlaintext = true
	o.Logger = logs.logger()
	c := openCache(t, o)
	if c.TLSVersion() != 0 {
		t.Error("plaintext connection reports a TLS version")
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"ERROR","msg":"redsafe: INSECURE OVERRIDE: connecting without TLS"`) {
		t.Fatalf("no error-level insecure override record:\n%s", out)
	}
	assertNotIn(t, "logs", out, s.Password, testKey)

	// Without the override, production refuses before touching the network.
	o.AllowInsecurePlaintext = false
	_, err := Open(testContext(t), o)
	var cfgErr *ConfigError
	if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "[tls.disabled]") {
		t.Fatalf("plaintext production without override: %v", err)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// silentServer accepts connections and never answers, like a wedged server
// or a firewall that swallows packets after the handshake.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
