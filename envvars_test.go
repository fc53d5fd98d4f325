package redsafe

import (
	"crypto/tls"
	"testing"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDetectEnvironment(t *testing.T) {
	tests := []struct {
		vars       map[string]string
		env        Environment
		source     string
		unrecogniz bool
	}{
		{nil, Production, "default", false},
		{map[string]string{"ENVIRONMENT": "dev"}, Development, "ENVIRONMENT", false},
		{map[string]string{"APP_ENV": "Testing"}, Testing, "APP_ENV", false},
		{map[string]string{"GO_ENV": "stage"}, Staging, "GO_ENV", false},
		{map[string]string{"NODE_ENV": "live"}, Production, "NODE_ENV", false},
		{map[string]string{"ENV": "local"}, Development, "ENV", false},
		// Order: ENVIRONMENT before APP_ENV before ... ENV.
		{map[string]string{"ENV": "test", "APP_ENV": "staging"}, Staging, "APP_ENV", false},
		{map[string]string{"ENVIRONMENT": "  ", "GO_ENV": "test"}, Testing, "GO_ENV", false},
		// Unrecognised fails closed to production, and does not fall through
		// to a laxer variable further down the list.
		{map[string]string{"ENVIRONMENT": "qa", "ENV": "test"}, Production, "ENVIRONMENT", true},
	}
	for _, tt := range tests {
		d := detectEnvironment(lookupMap(tt.vars))
		if d.env != tt.env || d.source != tt.source || d.bad != tt.unrecogniz {
			t.Errorf("detect(%v) = %+v, want %s from %s (unrecognised %v)", tt.vars, d, tt.env, tt.source, tt.unrecogniz)
		}
	}
}

func TestOptionsFromLookup(t *testing.T) {
	o := OptionsFromLookup(lookupMap(map[string]string{
		"ENVIRONMENT":                    "staging",
		"REDIS_URL":                      " rediss://h:6380/1 ",
		"REDIS_ACL_USERNAME":             "app",
		"REDIS_PASSWORD":                 " spaced password ",
		"REDIS_ENCRYPTION_KEY":           "k1",
		"REDIS_ENCRYPTION_PREVIOUS_KEYS": "k2, k3 ,,",
		"REDIS_KEY_NAME_KEY":             " k4 ",
		"REDIS_TLS_ENABLED":              "yes",
		"REDIS_TLS_CA_CERT":              "/ca.pem",
		"REDIS_TLS_CERT":                 "/c.pem",
		"REDIS_TLS_KEY":                  "/c.key",
		"REDIS_TLS_CERT_REQS":            "Optional",
		"REDIS_TLS_MIN_VERSION":          "1.3",
		"REDIS_TLS_SERVER_NAME":          "redis.internal",
		"REDIS_INSECURE_ALLOW_PLAINTEXT": "1",
		"REDIS_READ_FROM_REPLICAS":       "on",
	}))
	want := TLSOptions{Enabled: true, CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/c.key",
		Verify: VerifyOptional, MinVersion: tls.VersionTLS13, ServerName: "redis.internal"}
	if o.TLS != want {
		t.Errorf("TLS = %+v, want %+v", o.TLS, want)
	}
	if o.Environment != Staging || o.URL != "rediss://h:6380/1" || o.Username != "app" ||
		o.Password != " spaced password " || o.EncryptionKey != "k1" || o.KeyNameKey != "k4" || !o.AllowInsecurePlaintext || !o.ReadFromReplicas {
		t.Errorf("options = %+v", o)
	}
	if len(o.PreviousEncryptionKeys) != 2 || o.PreviousEncryptionKeys[0] != "k2" || o.PreviousEncryptionKeys[1] != "k3" {
		t.Errorf("previous keys = %q", o.PreviousEncryptionKeys)
	}
	if len(o.envFindings) != 0 {
		t.Errorf("unexpected findings %+v", o.envFindings)
	}
}

func TestOptionsFromLookupRefusesNonsense(t *testing.T) {
	o := OptionsFromLookup(lookupMap(map[string]string{
		"REDIS_TLS_ENABLED":              "maybe",
		"REDIS_TLS_CERT_REQS":            "CERT_NONE",
		"REDIS_TLS_MIN_VERSION":          "1.0",
		"REDIS_INSECURE_ALLOW_PLAINTEXT": "sure",
		"REDIS_READ_FROM_REPLICAS":       "replica",
		"REDIS_USERNAME":                 "a",
		"REDIS_ACL_USERNAME":             "b",
	}))
	got := map[string]int{}
	for _, f := range o.envFindings {
		if f.Severity != SeverityError {
			t.Errorf("%s is %s, want error", f.ID, f.Severity)
		}
		got[f.ID]++
	}
	want := map[string]int{"env.invalid-bool": 3, "tls.verify-invalid": 1, "tls.min-version-invalid": 1, "auth.username-conflict": 1}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("%s found %d times, want %d (all: %v)", id, got[id], n, got)
		}
	}
	if o.AllowInsecurePlaintext || o.TLS.Enabled || o.ReadFromReplicas {
		t.Error("an unparseable boolean must not turn anything on")
	}
	// The findings reach the report.
	if r := Validate(o); r.OK() {
		t.Error("Validate ignored the environment's parse errors")
	}
}
