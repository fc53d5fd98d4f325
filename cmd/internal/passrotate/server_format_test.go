package passrotate

import (
	"testing"

	"github.com/redsafe/redsafe/internal/redact/redacttest"
)

// TestServerNeverPrintsPassword: a Server prints its address and admin
// user, never the admin password, however it is printed.
func TestServerNeverPrintsPassword(t *testing.T) {
	const pw = "Zq9xK2mW7pLr4vNtB8cDq1Wm"
	s := Server{Addr: "redis.example:6380", AdminUser: "admin", AdminPassword: pw}
	for _, c := range []redacttest.Case{
		{Name: "Server", Value: s, Shown: "redis.example:6380", Secrets: []string{pw}},
		{Name: "*Server", Value: &s, Shown: "admin", Secrets: []string{pw}},
	} {
		redacttest.Check(t, c)
	}
}
