package redsafe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redact/redacttest"
	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/seal"
)

func secretCases(t *testing.T) []redacttest.Case {
	t.Helper()
	password := GeneratePassword(Production)
	sentinelPassword := GeneratePassword(Production)
	key, previous := seal.GenerateKey(), seal.GenerateKey()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	clientCert := tls.Certificate{Certificate: [][]byte{[]byte("not a real certificate")}, PrivateKey: priv}
	tlsSecrets := []string{priv.D.String(), priv.D.Text(16), hex.EncodeToString(der), fmt.Sprint(priv.D.Bytes()[:8])}

	opts := Options{
		Environment:            Staging,
		URL:                    "rediss://app:" + password + "@redis.example:6380/0",
		Username:               "app",
		Password:               password,
		EncryptionKey:          key.Encode(),
		PreviousEncryptionKeys: []string{previous.Encode()},
		TLS:                    TLSOptions{CAFile: "/etc/ca.pem", KeyFile: "/etc/client.key", MinVersion: tls.VersionTLS13},
		KeyPrefix:              "svc:",
		DialTimeout:            3 * time.Second,
		Credentials:            func(context.Context) (Credentials, error) { return Credentials{}, nil },
		LocalCache:             LocalCacheOptions{MaxBytes: 1 << 20},
		Sentinel:               SentinelOptions{Username: "client", Password: sentinelPassword},
	}
	optSecrets := []string{password, key.Encode(), previous.Encode(), sentinelPassword}
	conn := Connection{Addr: "redis.example:6380", Host: "redis.example", Username: "app", Password: password,
		TLS:    &tls.Config{ServerName: "redis.example", MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{clientCert}},
		Sealer: seal.New(key, previous)}
	creds := Credentials{Username: "app", Password: password}
	u, err := redisurl.Parse(opts.URL)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newConfig(opts)
	s.tlsConfig = conn.TLS

	sSecrets := append(append([]string{}, optSecrets...), tlsSecrets...)
	return []redacttest.Case{
		{Name: "Options", Value: opts, Shown: "redis.example", Secrets: optSecrets},
		{Name: "*Options", Value: &opts, Shown: "redis.example", Secrets: optSecrets},
		{Name: "Credentials", Value: creds, Shown: "app", Secrets: []string{password}},
		{Name: "SentinelOptions", Value: opts.Sentinel, Shown: "client", Secrets: []string{sentinelPassword}},
		{Name: "*SentinelOptions", Value: &opts.Sentinel, Shown: "client", Secrets: []string{sentinelPassword}},
		{Name: "*Credentials", Value: &creds, Shown: "app", Secrets: []string{password}},
		{Name: "Connection", Value: conn, Shown: "redis.example:6380", Secrets: append([]string{password, key.Encode(), previous.Encode()}, tlsSecrets...)},
		{Name: "*Connection", Value: &conn, Shown: "redis.example:6380", Secrets: append([]string{password, key.Encode(), previous.Encode()}, tlsSecrets...)},
		{Name: "redisurl.URL", Value: u, Shown: "redis.example", Secrets: []string{password}},
		{Name: "config", Value: *s, Shown: "redis.example", Secrets: sSecrets, NoJSON: true},
		{Name: "*config", Value: s, Shown: "redis.example", Secrets: sSecrets, NoJSON: true},
	}
}

// TestSecretsNeverPrinted formats each secret-holding type under every
// verb, alone and nested, in slog's text and JSON handlers and in JSON:
// no secret may appear, and a harmless field must.
func TestSecretsNeverPrinted(t *testing.T) {
	for _, c := range secretCases(t) {
		redacttest.Check(t, c)
	}
}

// TestRedactedForms pins what the redacted forms show: the URL redacted,
// the user, the key IDs, whether a password is set, TLS as a summary.
func TestRedactedForms(t *testing.T) {
	key, previous := seal.GenerateKey(), seal.GenerateKey()
	o := Options{Environment: Production, URL: "rediss://app:pw-in-url-1234@h:6380/2", Username: "app", Password: "pw-1234567890",
		EncryptionKey: key.Encode(), PreviousEncryptionKeys: []string{previous.Encode(), "not-a-key"}}
	got := fmt.Sprintf("%+v", o)
	for _, want := range []string{"URL:rediss://app:xxxxx@h:6380/2", "Username:app", "Password:xxxxx",
		"EncryptionKey:seal.Key(id=" + key.ID() + ")", "PreviousEncryptionKeys:[seal.Key(id=" + previous.ID() + ") seal.Key(id=invalid)]",
		"Environment:production"} {
		if !strings.Contains(got, want) {
			t.Errorf("%%+v = %s\nwant %s in it", got, want)
		}
	}
	if got := fmt.Sprint(Options{}); !strings.Contains(got, "Password: ") && strings.Contains(got, "xxxxx") {
		t.Errorf("unset password shown as set: %s", got)
	}
	b, _ := json.Marshal(o)
	for _, want := range []string{`"url":"rediss://app:xxxxx@h:6380/2"`, `"password":"xxxxx"`, `"encryption_key":"seal.Key(id=` + key.ID() + `)"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("json = %s\nwant %s in it", b, want)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "opts", o)
	for _, want := range []string{"opts.url=rediss://app:xxxxx@h:6380/2", "opts.username=app", "opts.password=xxxxx"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("slog text = %s\nwant %s in it", buf.String(), want)
		}
	}
	c := Connection{Addr: "h:6380", TLS: &tls.Config{ServerName: "h", MinVersion: tls.VersionTLS13,
		Certificates: []tls.Certificate{{}}}, Username: "app", Password: "pw", Sealer: seal.New(key)}
	if got, want := c.String(), "redsafe.Connection{Addr:h:6380 DB:0 TLS:on (min TLS 1.3, server name h, client certificate) Username:app Password:xxxxx Keys:seal.Sealer(primary="+key.ID()+")}"; got != want {
		t.Errorf("Connection = %s\nwant %s", got, want)
	}
	if got := fmt.Sprintf("%q", Credentials{Username: "app", Password: "pw"}); got != `"redsafe.Credentials{Username:app Password:xxxxx}"` {
		t.Errorf("%%q = %s", got)
	}
}

// hiddenOptionFields are the fields of Options that its redacted form
// leaves out on purpose. Every other field must be in optionsView.
var hiddenOptionFields = map[string]string{
	"Logger":      "a handler, not configuration",
	"Observer":    "a metrics sink, not configuration",
	"Clock":       "for tests",
	"envFindings": "reported by Validate",
	"detected":    "reported by Validate",
}

// TestOptionsViewCoversEveryField makes a new field of Options a decision:
// printed (add it to optionsView, redacted if it is a secret) or not.
func TestOptionsViewCoversEveryField(t *testing.T) {
	view := reflect.TypeOf(optionsView{})
	opts := reflect.TypeOf(Options{})
	for i := range opts.NumField() {
		f := opts.Field(i)
		_, shown := view.FieldByName(f.Name)
		if _, hidden := hiddenOptionFields[f.Name]; shown == hidden {
			t.Errorf("Options.%s: add it to optionsView in redact.go (redacted if it holds a secret) or to hiddenOptionFields", f.Name)
		}
	}
}
