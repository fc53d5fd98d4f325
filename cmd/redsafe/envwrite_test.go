package main

import (
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/seal"
)

// An env file with a key file names it and holds no key; the options it
// is validated with before the key file exists judge the key it will hold.
func TestEnvSpecNamesTheKeyFile(t *testing.T) {
	key := seal.GenerateKey().Encode()
	s := envSpec{Environment: redsafe.Production, Host: "redis.example", Port: 6380, User: "app",
		PasswordFile: "/srv/app.password", Key: key, EncryptionKeyFile: "/srv/.env.secure.encryption.key", CAFile: "/srv/ca.crt"}
	data, err := s.render(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.Contains(text, "\nREDIS_ENCRYPTION_KEY_FILE='/srv/.env.secure.encryption.key'\n") ||
		strings.Contains(text, "REDIS_ENCRYPTION_KEY=") || strings.Contains(text, key) {
		t.Errorf("env file:\n%s", text)
	}
	if !strings.Contains(text, "The password and the encryption key are in the files it names") {
		t.Errorf("the header says the file holds secrets it does not hold:\n%s", text)
	}
	if o := s.options(); o.EncryptionKey != key || o.EncryptionKeyFile != "" {
		t.Errorf("validated with the key (%v) and file %q; want the key in memory", o.EncryptionKey == key, o.EncryptionKeyFile)
	}

	// A key file that exists already (env --key-file) is read by the
	// validation itself; inline (env --inline-key) is the key.
	named := envSpec{Environment: redsafe.Production, EncryptionKeyFile: "/srv/enc.key"}
	if o := named.options(); o.EncryptionKey != "" || o.EncryptionKeyFile != "/srv/enc.key" {
		t.Errorf("named key file: a key inline (%v), file %q", o.EncryptionKey != "", o.EncryptionKeyFile)
	}
	inline := envSpec{Environment: redsafe.Production, Password: "p", Key: key}
	data, _ = inline.render(time.Unix(0, 0))
	if !strings.Contains(string(data), "\nREDIS_ENCRYPTION_KEY='"+key+"'\n") || strings.Contains(string(data), "_FILE") ||
		!strings.Contains(string(data), "It holds a password and an encryption key") {
		t.Errorf("inline key: not written as REDIS_ENCRYPTION_KEY, or a _FILE variable, or the wrong header")
	}
}
