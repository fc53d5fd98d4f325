package main

import (
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redact/redacttest"
	"github.com/redsafe/redsafe/seal"
)

// TestEnvSpecNeverPrintsSecrets: what `redsafe env` writes holds the
// password and the key; a debugging print of it shows neither.
func TestEnvSpecNeverPrintsSecrets(t *testing.T) {
	key := seal.GenerateKey()
	s := envSpec{Environment: redsafe.Staging, Host: "redis.example", Port: 6380, User: "app",
		Password: redsafe.GeneratePassword(redsafe.Staging), Key: key.Encode(), EncryptionKeyFile: "/srv/app.encryption.key"}
	for _, c := range []redacttest.Case{
		{Name: "envSpec", Value: s, Shown: "seal.Key(id=" + key.ID() + ")", Secrets: []string{s.Password, s.Key}},
		{Name: "*envSpec", Value: &s, Shown: "redis.example", Secrets: []string{s.Password, s.Key}},
		{Name: "envSpec with a key file", Value: s, Shown: "/srv/app.encryption.key", Secrets: []string{s.Password, s.Key}},
	} {
		redacttest.Check(t, c)
	}
}
