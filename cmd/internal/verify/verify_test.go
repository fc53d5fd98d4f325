package verify

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

const appRules = "~* resetchannels +@all -@dangerous -@scripting -flushall -flushdb -keys -config"

var (
	appPassword   = redsafe.GeneratePassword(redsafe.Production)
	adminPassword = redsafe.GeneratePassword(redsafe.Production)
)

func secureServer(t *testing.T, extra redisserver.Config) *redisserver.Server {
	cfg := extra
	cfg.Users = append([]redisserver.User{{Name: "admin", Password: adminPassword, Rules: "~* &* +@all"},
		{Name: "app", Password: appPassword, Rules: appRules}}, cfg.Users...)
	cfg.DisableDefaultUser = true
	return redisserver.Start(t, cfg)
}

func appTarget(s *redisserver.Server, user, password string) Target {
	return Target{
		Options: redsafe.Options{
			Environment:   redsafe.Production,
			URL:           s.URL(user, ""),
			Password:      password,
			EncryptionKey: seal.GenerateKey().Encode(),
			TLS:           redsafe.TLSOptions{CAFile: s.CAFile},
			Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
		Timeout: 2 * time.Second,
	}
}

func statuses(results []Result) map[string]Status {
	m := map[string]Status{}
	for _, r := range results {
		m[r.ID] = r.Severity
	}
	return m
}

func runChecks(t *testing.T, target Target) map[string]Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var reported []Result
	results := Run(ctx, target, func(r Result) { reported = append(reported, r) })
	if len(reported) != len(checks) || len(results) != len(checks) {
		t.Fatalf("%d reported, %d results, want %d", len(reported), len(results), len(checks))
	}
	for _, r := range results {
		if r.Message == "" {
			t.Errorf("%s has no detail", r.ID)
		}
		if r.Severity == Fail && r.Fix == "" && r.ID != "data.encrypted" {
			t.Logf("%s fails without a fix: %s", r.ID, r.Message)
		}
		for _, secret := range []string{target.Options.Password, target.Options.EncryptionKey} {
			if strings.Contains(r.Message+r.Fix, secret) {
				t.Fatalf("%s leaks a secret", r.ID)
			}
		}
	}
	return statuses(results)
}

func TestSecureDeploymentPasses(t *testing.T) {
	t.Parallel()
	s := secureServer(t, redisserver.Config{})
	target := appTarget(s, "app", appPassword)
	got := runChecks(t, target)
	for _, c := range checks {
		if got[c.id] != Pass {
			t.Errorf("%s = %s, want ok", c.id, got[c.id])
		}
	}
	if s.Do(t, "DBSIZE") != ":0" {
		t.Error("verify left a key behind")
	}
}

func TestInsecureDeploymentsFail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(t *testing.T) (*redisserver.Server, Target)
		fail   []string
	}{
		{"plaintext server", func(t *testing.T) (*redisserver.Server, Target) {
			s := redisserver.Start(t, redisserver.Config{Plaintext: true})
			tg := appTarget(s, "", s.Password)
			tg.Options.URL = strings.Replace(tg.Options.URL, "redis://", "rediss://", 1)
			return s, tg
		}, []string{"tls.handshake", "tls.no-plaintext"}},
		{"no authentication", func(t *testing.T) (*redisserver.Server, Target) {
			s := redisserver.Start(t, redisserver.Config{NoAuth: true})
			return s, appTarget(s, "", appPassword) // nopass accepts any password
		}, []string{"auth.required", "auth.wrong-password", "acl.flushall", "acl.config"}},
		{"all-powerful user", func(t *testing.T) (*redisserver.Server, Target) {
			s := redisserver.Start(t, redisserver.Config{Password: appPassword})
			return s, appTarget(s, "", appPassword)
		}, []string{"acl.flushall", "acl.config"}},
		{"extra plaintext port", func(t *testing.T) (*redisserver.Server, Target) {
			s := secureServer(t, redisserver.Config{ExtraPlaintextPort: true})
			tg := appTarget(s, "app", appPassword)
			tg.Admin = &redsafe.Credentials{Username: "admin", Password: adminPassword}
			return s, tg
		}, []string{"tls.no-plaintext"}},
		// The audit's expiry rule (audit.CertExpiry): under 30 days is an
		// error in verify as in audit, not a pass.
		{"certificate expiring in 10 days", func(t *testing.T) (*redisserver.Server, Target) {
			s := secureServer(t, redisserver.Config{CertNotBefore: time.Now().Add(-time.Hour), CertNotAfter: time.Now().Add(10 * 24 * time.Hour)})
			return s, appTarget(s, "app", appPassword)
		}, []string{"tls.certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, target := tt.server(t)
			got := runChecks(t, target)
			for _, id := range tt.fail {
				if got[id] != Fail {
					t.Errorf("%s = %s, want FAIL (all: %v)", id, got[id], got)
				}
			}
			if tt.name == "all-powerful user" && s.Do(t, "PING") != "+PONG" {
				t.Error("the server did not survive the probes")
			}
		})
	}
}

// TestDeniedCommandsAreNeverRun: the probe of an allowed FLUSHALL must not
// flush anything.
func TestDeniedCommandsAreNeverRun(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Password: appPassword})
	s.Do(t, "SET", "precious", "1")
	got := runChecks(t, appTarget(s, "", appPassword))
	if got["acl.flushall"] != Fail {
		t.Fatalf("acl.flushall = %s", got["acl.flushall"])
	}
	if s.Do(t, "GET", "precious") != "1" {
		t.Fatal("probing FLUSHALL flushed the database")
	}
}

func TestAdminCredentialsReadThePlaintextPort(t *testing.T) {
	t.Parallel()
	s := secureServer(t, redisserver.Config{})
	target := appTarget(s, "app", appPassword)
	target.Admin = &redsafe.Credentials{Username: "admin", Password: adminPassword}
	for _, r := range Run(context.Background(), target, nil) {
		if r.ID == "tls.no-plaintext" && (r.Severity != Pass || !strings.Contains(r.Message, "off (port 0)")) {
			t.Fatalf("tls.no-plaintext = %s: %s", r.Severity, r.Message)
		}
	}
}
