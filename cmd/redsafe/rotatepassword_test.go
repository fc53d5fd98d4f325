package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/passrotate"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/seal"
)

// runCLI runs redsafe in-process with an empty environment.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, lookupEnv: func(string) (string, bool) { return "", false }}
	code = c.main(args)
	return code, out.String(), errb.String()
}

// TestRotatePasswordKeepsServing rotates the app user's password while a
// service built on the library reads and writes: connections opened before
// --add keep working, both passwords log in between the steps, only the new
// one after --remove-old, and the service never stops serving.
func TestRotatePasswordKeepsServing(t *testing.T) {
	t.Parallel()
	rs := startRotationServer(t)
	s, oldPassword, adminPassword, write, adminFile := rs.server, rs.appPassword, rs.adminPassword, rs.write, rs.adminFile
	passwordFile := write("app.password", oldPassword+"\n")
	envFile := write(".env.secure", fmt.Sprintf("ENVIRONMENT=production\nREDIS_URL=rediss://app@%s/0\nREDIS_PASSWORD_FILE=%s\nREDIS_ENCRYPTION_KEY=%s\nREDIS_TLS_CA_CERT=%s\n",
		s.Addr, passwordFile, seal.GenerateKey().Encode(), s.CAFile))
	srv := passrotate.Server{Addr: s.Addr, TLS: s.TLSConfig(), AdminUser: "admin", AdminPassword: adminPassword}
	secrets := []string{oldPassword, adminPassword}
	noSecrets := func(step, out string) {
		t.Helper()
		for _, p := range secrets {
			if strings.Contains(out, p) {
				t.Fatalf("%s printed a password", step)
			}
		}
	}

	// A connection opened before the rotation, and a service that keeps
	// reading and writing through all of it.
	before, err := resp.Dial(s.Addr, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if reply, _ := before.Do("AUTH", "app", oldPassword); reply != "+OK" {
		t.Fatalf("AUTH before the rotation: %s", reply)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, envFile)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	opts := redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	opts.Logger = quietLogger()
	svc, err := redsafe.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var served, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			key := fmt.Sprintf("session:%d", i%50)
			err := svc.Set(ctx, key, []byte("v"), time.Minute)
			if err == nil {
				_, err = svc.Get(ctx, key)
			}
			cancel()
			if err != nil {
				failed.Add(1)
			} else {
				served.Add(1)
			}
		}
	}()
	servedSince := func(n int64, phase string) int64 {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for served.Load() < n+20 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the service stopped serving (%d failures)", phase, failed.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return served.Load()
	}
	mark := servedSince(0, "before the rotation")

	// Step 1: --add.
	code, out, errOut := runCLI(t, "rotate-password", "--add", "--env-file", envFile, "--admin-password-file", adminFile)
	if code != 0 {
		t.Fatalf("--add: exit %d\n%s%s", code, out, errOut)
	}
	noSecrets("--add", out+errOut)
	newPassword := strings.TrimSpace(readFile(t, passwordFile))
	if newPassword == oldPassword || len(newPassword) != 48 {
		t.Fatalf("--add left %d characters in the password file, the old password: %v", len(newPassword), newPassword == oldPassword)
	}
	secrets = append(secrets, newPassword)
	noSecrets("--add", out+errOut)
	if fi, err := os.Stat(passwordFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file after --add: %v, %v", fi.Mode(), err)
	}
	backups, _ := filepath.Glob(passwordFile + ".bak-*")
	if len(backups) != 1 || strings.TrimSpace(readFile(t, backups[0])) != oldPassword {
		t.Fatalf("backups of the password file: %v", backups)
	}
	if reply, err := before.Do("PING"); err != nil || reply != "+PONG" {
		t.Fatalf("the connection opened before --add: %q, %v", reply, err)
	}
	for name, p := range map[string]string{"old": oldPassword, "new": newPassword} {
		if err := srv.Login("app", p); err != nil {
			t.Errorf("between the steps the %s password: %v", name, err)
		}
	}
	mark = servedSince(mark, "after --add")

	// Step 2: clients move over. Dropping the service's connections makes
	// it reconnect now, reading the new password from its file.
	s.Do(t, "CLIENT", "KILL", "USER", "app", "SKIPME", "yes")
	mark = servedSince(mark, "after the service reconnected")

	// Step 3: --remove-old.
	code, out, errOut = runCLI(t, "rotate-password", "--remove-old", "--env-file", envFile, "--admin-password-file", adminFile)
	if code != 0 {
		t.Fatalf("--remove-old: exit %d\n%s%s", code, out, errOut)
	}
	noSecrets("--remove-old", out+errOut)
	if !strings.Contains(out, "removed 1 old password(s)") {
		t.Errorf("--remove-old output:\n%s", out)
	}
	if err := srv.Login("app", oldPassword); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("the old password after --remove-old: %v, want WRONGPASS", err)
	}
	if err := srv.Login("app", newPassword); err != nil {
		t.Errorf("the new password after --remove-old: %v", err)
	}
	servedSince(mark, "after --remove-old")
	close(stop)
	wg.Wait()

	code, out, _ = runCLI(t, "rotate-password", "--status", "--env-file", envFile, "--admin-password-file", adminFile)
	if code != 0 || !strings.Contains(out, "app has 1 password(s)") {
		t.Errorf("--status: exit %d: %s", code, out)
	}
	t.Logf("served %d operations during the rotation, %d failed", served.Load(), failed.Load())
}

// TestRotatePasswordRefusals: nothing changes on the server when a step
// cannot be proven safe.
func TestRotatePasswordRefusals(t *testing.T) {
	t.Parallel()
	rs := startRotationServer(t)
	s, appPassword, adminPassword, write, adminFile := rs.server, rs.appPassword, rs.adminPassword, rs.write, rs.adminFile
	env := func(password string) string {
		return write("env-"+fmt.Sprint(len(password)), fmt.Sprintf("ENVIRONMENT=production\nREDIS_URL=rediss://app@%s/0\nREDIS_PASSWORD=%s\nREDIS_ENCRYPTION_KEY=%s\nREDIS_TLS_CA_CERT=%s\n",
			s.Addr, password, seal.GenerateKey().Encode(), s.CAFile))
	}
	good := env(appPassword)
	srv := passrotate.Server{Addr: s.Addr, TLS: s.TLSConfig(), AdminUser: "admin", AdminPassword: adminPassword}
	passwords := func() int {
		n, err := srv.Passwords("app")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	weak := write("weak.password", "Tr0ub4dor&3-horse\n")
	code, _, errOut := runCLI(t, "rotate-password", "--add", "--env-file", good, "--admin-password-file", adminFile, "--new-password-file", weak)
	if code != 1 || !strings.Contains(errOut, "refused by the policy") || strings.Contains(errOut, "Tr0ub4dor") {
		t.Errorf("--add with a weak password: exit %d: %s", code, errOut)
	}
	if n := passwords(); n != 1 {
		t.Errorf("after a refused --add app has %d passwords", n)
	}

	wrongAdmin := write("wrong-admin.password", redsafe.GeneratePassword(redsafe.Production)+"\n")
	code, _, errOut = runCLI(t, "rotate-password", "--add", "--env-file", good, "--admin-password-file", wrongAdmin)
	if code != 1 || !strings.Contains(errOut, "WRONGPASS") {
		t.Errorf("--add with a wrong admin password: exit %d: %s", code, errOut)
	}

	// The configuration's password is not one the server knows: removing
	// the others would lock every client out.
	stranger := env(redsafe.GeneratePassword(redsafe.Production) + "x")
	code, _, errOut = runCLI(t, "rotate-password", "--remove-old", "--env-file", stranger, "--admin-password-file", adminFile)
	if code != 1 || !strings.Contains(errOut, "refusing to remove") {
		t.Errorf("--remove-old with a password that does not log in: exit %d: %s", code, errOut)
	}
	if err := srv.Login("app", appPassword); err != nil {
		t.Errorf("after a refused --remove-old the app password: %v", err)
	}

	for _, args := range [][]string{
		{"rotate-password", "--env-file", good, "--admin-password-file", adminFile},
		{"rotate-password", "--add", "--remove-old", "--env-file", good, "--admin-password-file", adminFile},
		{"rotate-password", "--add", "--env-file", good},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args[1:], code)
		}
	}
}

// rotationServer is a TLS redis-server with the users of a redsafe
// deployment: admin, and app confined by serverconf.AppRules.
type rotationServer struct {
	server                     *redisserver.Server
	appPassword, adminPassword string
	adminFile                  string                            // admin's password, 0600
	write                      func(name, content string) string // a 0600 file in a temp dir
}

func startRotationServer(t *testing.T) rotationServer {
	rs := rotationServer{
		appPassword:   redsafe.GeneratePassword(redsafe.Production),
		adminPassword: redsafe.GeneratePassword(redsafe.Production),
	}
	rs.server = redisserver.Start(t, redisserver.Config{Users: []redisserver.User{
		{Name: "admin", Password: rs.adminPassword, Rules: "~* &* +@all"},
		{Name: "app", Password: rs.appPassword, Rules: serverconf.AppRules("*")},
	}})
	rs.write = startRotationFiles(t)
	rs.adminFile = rs.write("admin.password", rs.adminPassword+"\n")
	return rs
}

// startRotationFiles returns a function that writes a 0600 file in a
// temporary directory and returns its path.
func startRotationFiles(t *testing.T) func(name, content string) string {
	dir := t.TempDir()
	return func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
