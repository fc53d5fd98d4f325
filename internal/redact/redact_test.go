package redact

import (
	"errors"
	"io"
	"testing"
)

// TestWithoutSecrets: a secret a server quotes back, whole or cut short
// as Redis cuts what it quotes, is replaced; the rest of the text stays,
// and errors.Is still reaches the original.
func TestWithoutSecrets(t *testing.T) {
	const pw = "k7-Qx2Lr9_Vd4Ws8"
	for _, tc := range []struct{ text, want string }{
		{"ERR unknown command 'AUTH', with args beginning with: 'app' '" + pw + "'", "ERR unknown command 'AUTH', with args beginning with: 'app' 'xxxxx'"},
		{"ERR with args beginning with: '3' 'AUTH' 'app' 'k7-Qx2L", "ERR with args beginning with: '3' 'AUTH' 'app' 'xxxxx"},
		{pw + " and " + pw, "xxxxx and xxxxx"},
		{"k7-Q and k7-", "xxxxx and k7-"}, // 4 characters are cut; 3 could be anything
		{"WRONGPASS invalid username-password pair", "WRONGPASS invalid username-password pair"},
	} {
		err := WithoutSecrets(errors.Join(errors.New(tc.text), io.EOF), pw, "")
		if got := err.Error(); got != tc.want+"\nEOF" {
			t.Errorf("WithoutSecrets(%q) = %q, want %q", tc.text, got, tc.want+"\nEOF")
		}
		if !errors.Is(err, io.EOF) {
			t.Errorf("WithoutSecrets(%q) no longer matches io.EOF", tc.text)
		}
	}
	if WithoutSecrets(nil, pw) != nil {
		t.Error("WithoutSecrets(nil) is not nil")
	}
	plain := errors.New("connection refused")
	if WithoutSecrets(plain, pw) != plain {
		t.Error("an error without the secret is not returned as it is")
	}
}
