package redsafe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/seal"
)

// reportText is everything a report prints: each finding's message and fix,
// the *ConfigError text and the JSON.
func reportText(t *testing.T, r Report) string {
	t.Helper()
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.ID + " " + f.Message + " " + f.Fix + "\n")
	}
	if err := r.Err(); err != nil {
		b.WriteString(err.Error() + "\n")
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(j)
	return b.String()
}

// assertNoChunk fails if any 6-character run of secret is in text, so that
// a shortened echo is caught too.
func assertNoChunk(t *testing.T, what, text, secret string) {
	t.Helper()
	for i := 0; i+6 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+6]) {
			t.Fatalf("%s shows part of the secret (%q):\n%s", what, secret[i:i+6], text)
		}
	}
}

// TestURLErrorsHidePassword: a password in a URL that does not parse (in a
// query, without its '@', with no host) is never printed by Validate, Open
// or OptionsFromEnv; the URL is shown as its scheme and host.
func TestURLErrorsHidePassword(t *testing.T) {
	const pw = "Zq9xK2mW7pLr4vNtB8cD"
	for _, tc := range []struct{ url, shown string }{
		{"rediss://h:6380/0?password=" + pw, `"rediss://h"`},
		{"redis://:" + pw, `"redis://"`},
		{"rediss://app:" + pw + "/0", `"rediss://app"`},
		{"rediss://app:" + pw + "@h:port/0", `"rediss://h"`},
		{"rediss://app:" + pw + "@h/db", `"rediss://h"`},
	} {
		o := validOptions(Production)
		o.URL = tc.url
		o.Logger = discardLogger
		r := Validate(o)
		text := reportText(t, r)
		assertNoChunk(t, "Validate("+tc.url+")", text, pw)
		if !r.has("url.invalid") || !strings.Contains(text, "invalid Redis URL "+tc.shown) {
			t.Errorf("Validate(%s): no url.invalid finding showing %s:\n%s", tc.url, tc.shown, text)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Open(ctx, o)
		cancel()
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("Open(%s) = %v, want a *ConfigError", tc.url, err)
		}
		assertNoChunk(t, "Open("+tc.url+")", fmt.Sprintf("%v %+v %#v", err, err, err), pw)

		t.Setenv(EnvURL, tc.url)
		t.Setenv(EnvPassword, testPassword)
		t.Setenv(EnvEncryptionKey, testKey)
		t.Setenv("ENVIRONMENT", "production")
		env := OptionsFromEnv()
		assertNoChunk(t, "Validate(OptionsFromEnv()) with "+tc.url, reportText(t, Validate(env)), pw)
		assertNoChunk(t, "%+v of OptionsFromEnv()", fmt.Sprintf("%+v", env), pw)
	}
}

// TestMisplacedSecretNotEchoed puts a real key in each variable that takes
// one of a few known values: the report says what is wrong, and shows no
// part of the key. Values that are valid are still quoted.
func TestMisplacedSecretNotEchoed(t *testing.T) {
	key := seal.GenerateKey().Encode()
	for _, tc := range []struct{ name, id string }{
		{EnvTLSCertReqs, "tls.verify-invalid"},
		{EnvTLSMinVersion, "tls.min-version-invalid"},
		{EnvTLSEnabled, "env.invalid-bool"},
		{EnvInsecureAllowPlaintext, "env.invalid-bool"},
		{EnvReadFromReplicas, "env.invalid-bool"},
		{"ENVIRONMENT", "env.unrecognized"},
		{"APP_ENV", "env.unrecognized"},
		{"NODE_ENV", "env.unrecognized"},
		{EnvURL, "url.invalid"},
	} {
		vars := map[string]string{EnvURL: "rediss://app@redis.example:6380/0", EnvPassword: testPassword,
			EnvEncryptionKey: testKey, tc.name: key}
		r := Validate(OptionsFromLookup(lookupMap(vars)))
		text := reportText(t, r)
		assertNoChunk(t, tc.name+"=<key>", text, key)
		if !r.has(tc.id) || !strings.Contains(text, tc.name) {
			t.Errorf("%s=<key>: no %s finding naming %s:\n%s", tc.name, tc.id, tc.name, text)
		}
	}
	// The same through Options, which a program may fill from anywhere.
	o := validOptions(Production)
	o.Environment, o.TLS.Verify = Environment(key), VerifyMode(key)
	text := reportText(t, Validate(o))
	assertNoChunk(t, "Options with the key as Environment and TLS.Verify", text, key)
	if !strings.Contains(text, "tls.verify-invalid") || !strings.Contains(text, "env.unrecognized") {
		t.Errorf("findings missing:\n%s", text)
	}
	// A known value is quoted: it is what the operator needs to see.
	o = validOptions(Production)
	o.TLS.Verify = VerifyNone
	if text := reportText(t, Validate(o)); !strings.Contains(text, `verification "none" is not allowed in production`) {
		t.Errorf("known value not quoted:\n%s", text)
	}
}

// TestKeyVariablesNotEchoed puts a password where a key belongs, inline:
// the finding names the variable and shows no part of the value.
func TestKeyVariablesNotEchoed(t *testing.T) {
	const pw = "Zq9xK2mW7pLr4vNtB8cDZq9xK2mW7pLr4vNtB8cD"
	for _, tc := range []struct{ name, id string }{
		{EnvEncryptionKey, "encryption.key-invalid"},
		{EnvEncryptionPreviousKeys, "encryption.previous-key-invalid"},
		{EnvKeyNameKey, "keyname.key-invalid"},
	} {
		vars := map[string]string{EnvURL: "rediss://app@redis.example:6380/0", EnvPassword: testPassword,
			EnvEncryptionKey: testKey, tc.name: pw}
		o := OptionsFromLookup(lookupMap(vars))
		r := Validate(o)
		text := reportText(t, r)
		assertNoChunk(t, tc.name+"=<password>", text+fmt.Sprintf("%v %+v %#v", o, o, o), pw)
		if !r.has(tc.id) || !strings.Contains(text, tc.name) {
			t.Errorf("%s=<password>: no %s finding naming %s:\n%s", tc.name, tc.id, tc.name, text)
		}
	}
}
