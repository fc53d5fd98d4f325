package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// REDIS_PASSWORD_FILE on a deployment its policy refuses (plaintext in
// production, a password below the policy): the audit reads the file, logs
// in with it and judges the password, instead of ending INCOMPLETE with
// auth.password-conflict.
func TestPasswordFileOnARefusedDeployment(t *testing.T) {
	t.Parallel()
	const password = "Short-But-Valid-1234" // 20 characters; production needs 48
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, DisableDefaultUser: true,
		Users: []redisserver.User{{Name: "app", Password: password, Rules: "~* +@all"}}})
	file := filepath.Join(t.TempDir(), "app.password")
	if err := os.WriteFile(file, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := redsafe.Options{Environment: redsafe.Production, URL: s.URL("app", ""), PasswordFile: file}
	if _, err := o.Connection(); err == nil {
		t.Fatal("the library accepts this deployment; the test needs one it refuses")
	}
	r := audit(t, o, password)
	if r.Err != nil {
		t.Fatalf("the audit could not run: %v", r.Err)
	}
	wantContains(t, want(t, r, "auth.weak-password", sevError), "production requires at least 48 characters")
	want(t, r, "tls.disabled", sevCritical)
	if f, ok := r.Find("audit.limited-visibility"); ok && strings.Contains(f.Evidence, "no credentials") {
		t.Errorf("the audit ran without the file's password: %s", f.Evidence)
	}

	// A file that cannot be read is an error naming the variable.
	o.PasswordFile = filepath.Join(t.TempDir(), "missing")
	if r := audit(t, o); r.Err == nil || !strings.Contains(r.Err.Error(), "REDIS_PASSWORD_FILE") {
		t.Errorf("err = %v, want one naming REDIS_PASSWORD_FILE", r.Err)
	}
}
