package certs

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"testing"

	"github.com/redsafe/redsafe/internal/redact/redacttest"
)

// TestPrivateKeysNeverPrinted: an Authority and a Pair print their subject,
// never their private key, however they are printed.
func TestPrivateKeysNeverPrinted(t *testing.T) {
	ca, err := NewAuthority("redsafe test CA", Options{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("api", Options{})
	if err != nil {
		t.Fatal(err)
	}
	secretsOf := func(k any) []string {
		priv := k.(*ecdsa.PrivateKey)
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		return []string{priv.D.String(), priv.D.Text(16), hex.EncodeToString(der)}
	}
	clientSecrets := append(secretsOf(client.Key), string(client.KeyPEM))
	for _, c := range []redacttest.Case{
		{Name: "Authority", Value: *ca, Shown: "redsafe test CA", Secrets: secretsOf(ca.Key)},
		{Name: "*Authority", Value: ca, Shown: "redsafe test CA", Secrets: secretsOf(ca.Key)},
		{Name: "Pair", Value: *client, Shown: "api", Secrets: clientSecrets},
		{Name: "*Pair", Value: client, Shown: "api", Secrets: clientSecrets},
	} {
		redacttest.Check(t, c)
	}
}
