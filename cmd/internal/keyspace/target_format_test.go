package keyspace

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/internal/redact/redacttest"
)

// TestTargetNeverPrintsPassword: a Target prints its address and user,
// never its password, however it is printed.
func TestTargetNeverPrintsPassword(t *testing.T) {
	const pw = "Zq9xK2mW7pLr4vNtB8cDq1Wm"
	tg := Target{Addr: "redis.example:6380", TLS: &tls.Config{ServerName: "redis.example"}, Username: "app", Password: pw, Name: "job"}
	for _, c := range []redacttest.Case{
		{Name: "Target", Value: tg, Shown: "redis.example:6380", Secrets: []string{pw}},
		{Name: "*Target", Value: &tg, Shown: "redis.example:6380", Secrets: []string{pw}},
		{Name: "struct of Targets", Value: struct{ Source, Dest Target }{tg, tg}, Shown: "app", Secrets: []string{pw}},
	} {
		redacttest.Check(t, c)
	}
}

// TestDialErrorCutsEchoedPassword: a server that quotes AUTH's arguments
// in its error reply (as Redis does for an unknown command) does not make
// the DialError print the password; the server's words stay.
func TestDialErrorCutsEchoedPassword(t *testing.T) {
	const pw = "Zq9xK2mW7pLr4vNtB8cDq1Wm"
	s := hostile.Start(t, hostile.Config{Plaintext: true, Attack: hostile.Replies(func(cmd []string, _ int) []byte {
		if name := strings.ToUpper(cmd[0]); name == "HELLO" || name == "AUTH" {
			return []byte("-ERR unknown command '" + cmd[0] + "', with args beginning with: '" + strings.Join(cmd[1:], "' '") + "'\r\n")
		}
		return nil
	})})
	_, err := Target{Addr: s.Addr, Username: "app", Password: pw, DialTimeout: 2 * time.Second}.Dial(0)
	var de *DialError
	if !errors.As(err, &de) {
		t.Fatalf("Dial = %v, want a *DialError", err)
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%e", err)} {
		if strings.Contains(text, pw[:8]) {
			t.Fatalf("the DialError shows the password: %s", text)
		}
	}
	if !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("the server's words are gone: %v", err)
	}
}
