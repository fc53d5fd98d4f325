package audit

import (
	"testing"

	"github.com/redsafe/redsafe/internal/redact/redacttest"
)

// TestEndpointNeverPrintsPassword: the audit's resolved endpoint prints its
// address, never the password, nor a user name that came from a URL in
// the form redis-cli reads as a password.
func TestEndpointNeverPrintsPassword(t *testing.T) {
	const pw = "Zq9xK2mW7pLr4vNtB8cDq1Wm"
	ep := endpoint{addr: "redis.example:6380", host: "redis.example", username: "app", password: pw}
	hidden := endpoint{addr: "redis.example:6380", username: pw, userHidden: true}
	for _, c := range []redacttest.Case{
		{Name: "endpoint", Value: ep, Shown: "redis.example:6380", Secrets: []string{pw}, NoJSON: true},
		{Name: "*endpoint", Value: &ep, Shown: "app", Secrets: []string{pw}, NoJSON: true},
		{Name: "hidden user", Value: hidden, Shown: "redis.example:6380", Secrets: []string{pw}, NoJSON: true},
	} {
		redacttest.Check(t, c)
	}
}
