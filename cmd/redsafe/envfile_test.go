package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/cmd/internal/passrotate"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/seal"
)

// hostileDir is a directory name that runs commands, expands variables and
// ends comments if any reader of an env file that holds it is not literal.
const hostileDir = "dir $(touch pwned) ${HOME} `touch pwned2`;touch pwned3 #x"

// TestEnvFilesWrittenByRedsafeReadTheSameInSh sources the files `redsafe env`
// and `redsafe up` write, as the README says (set -a; . FILE; set +a), with
// the real /bin/sh, and compares every variable byte for byte with what
// internal/envfile reads; the paths in them hold shell syntax, which must
// stay text.
func TestEnvFilesWrittenByRedsafeReadTheSameInSh(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(root, hostileDir)

	certDir := filepath.Join(base, "certs")
	if code, _, errOut := runCLI(t, "certs", "--dir", certDir); code != 0 {
		t.Fatalf("certs: exit %d: %s", code, errOut)
	}
	envOut := filepath.Join(base, "svc.env")
	if code, _, errOut := runCLI(t, "env", "--environment", "production", "--host", "redis.internal", "--certs", certDir, "--output", envOut); code != 0 {
		t.Fatalf("env: exit %d: %s", code, errOut)
	}

	// redis.conf takes no backtick in a path (serverconf refuses it), so up's
	// directory does without.
	upDir := filepath.Join(root, strings.ReplaceAll(hostileDir, "`", ""))
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, lookupEnv: func(string) (string, bool) { return "", false }}
	if _, err := prepareLocal(c, upDir, redsafe.Development, certs.ECDSAP256, 6380, false, upShape{}); err != nil {
		t.Fatalf("up: %v", err)
	}

	for _, file := range []string{envOut, filepath.Join(upDir, ".env.secure")} {
		want, err := envfile.Read(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 6 || !strings.Contains(want[redsafe.EnvTLSCACert], "$(touch pwned) ${HOME}") {
			t.Fatalf("%s: read %d variables, REDIS_TLS_CA_CERT %q: the test would prove nothing", file, len(want), want[redsafe.EnvTLSCACert])
		}
		got := sourceWithSh(t, root, file)
		for name, value := range want {
			if got[name] != value {
				t.Errorf("%s: %s: sh read %q, envfile read %q", filepath.Base(file), name, got[name], value)
			}
		}
	}
	if pwned, _ := filepath.Glob(filepath.Join(root, "pwned*")); len(pwned) > 0 {
		t.Errorf("sourcing ran commands: %v", pwned)
	}
}

// sourceWithSh returns the variables /bin/sh exports after sourcing file
// in dir, with an environment that has nothing else but PATH and HOME.
func sourceWithSh(t *testing.T, dir, file string) map[string]string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `set -a; . "$1"; set +a; exec env -0`, "sh", file)
	cmd.Dir, cmd.Env = dir, []string{"PATH=/usr/bin:/bin", "HOME=/home/not-expanded"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("sh: %v %s", err, stderr.String())
	}
	vars := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		name, value, _ := strings.Cut(kv, "=")
		vars[name] = value
	}
	return vars
}

// TestEnvRefusesWhatAnEnvFileCannotCarry: `redsafe env` checks its inputs
// and refuses, writing nothing and naming no secret, a value that sh,
// compose and systemd would not all read the same way.
func TestEnvRefusesWhatAnEnvFileCannotCarry(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "certs")
	if code, _, errOut := runCLI(t, "certs", "--dir", certDir); code != 0 {
		t.Fatalf("certs: exit %d: %s", code, errOut)
	}
	quoteCerts := filepath.Join(dir, "it's")
	if code, _, errOut := runCLI(t, "certs", "--dir", quoteCerts); code != 0 {
		t.Fatalf("certs: exit %d: %s", code, errOut)
	}
	// Long enough for production, and a quote inside.
	quotePassword := filepath.Join(dir, "quote.password")
	secret := "Zt8Kp3vQ9wLm2Xr7Yb4Nc6Hd1'Jx9Y3nHy0lVxD5MVh1q8bKZQq3oXb2A9sJ8f1"
	if err := os.WriteFile(quotePassword, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.env")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"newline in --host", []string{"--host", "localhost\nX=1"}, 2, "--host must be a host name"},
		{"query in --host", []string{"--host", "h/0?password=x"}, 2, "--host must be a host name"},
		{"user with @", []string{"--user", "a@b"}, 2, "--user must be"},
		{"quote in the password file", []string{"--password-file", quotePassword}, 1, "REDIS_PASSWORD holds a single quote"},
		{"quote in the certificate path", []string{"--certs", quoteCerts}, 1, "REDIS_TLS_CA_CERT holds a single quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"env", "--environment", "production", "--output", out, "--certs", certDir}, tc.args...)
			code, stdout, stderr := runCLI(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if strings.Contains(stdout+stderr, secret[:20]) {
				t.Errorf("the password reached the output: %q %q", stdout, stderr)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestRotatePasswordRefusesWhatTheEnvFileCannotCarry: rotate-password
// --env-file writes the new password into REDIS_PASSWORD, so a password with
// a quote is refused before the server is touched, and the file is kept.
func TestRotatePasswordRefusesWhatTheEnvFileCannotCarry(t *testing.T) {
	t.Parallel()
	rs := startRotationServer(t)
	envFile := rs.write("svc.env", fmt.Sprintf("ENVIRONMENT=production\nREDIS_URL=rediss://app@%s/0\nREDIS_PASSWORD='%s'\nREDIS_ENCRYPTION_KEY=%s\nREDIS_TLS_CA_CERT='%s'\n",
		rs.server.Addr, rs.appPassword, seal.GenerateKey().Encode(), rs.server.CAFile))
	before := readFile(t, envFile)
	next := redsafe.GeneratePassword(redsafe.Production) + "'s"
	newFile := rs.write("next.password", next+"\n")

	code, stdout, stderr := runCLI(t, "rotate-password", "--add", "--env-file", envFile, "--admin-password-file", rs.adminFile, "--new-password-file", newFile)
	if code != 1 || !strings.Contains(stderr, "REDIS_PASSWORD holds a single quote") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout+stderr, next[:20]) {
		t.Error("the new password reached the output")
	}
	srv := passrotate.Server{Addr: rs.server.Addr, TLS: rs.server.TLSConfig(), AdminUser: "admin", AdminPassword: rs.adminPassword}
	if n, err := srv.Passwords("app"); err != nil || n != 1 {
		t.Errorf("after the refusal app has %d passwords (%v), want 1", n, err)
	}
	if readFile(t, envFile) != before {
		t.Error("the env file changed")
	}
}
