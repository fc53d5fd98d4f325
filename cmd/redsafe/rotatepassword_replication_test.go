package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// masterAuth is a data node's masterauth and the configuration file it
// runs from.
func masterAuth(t *testing.T, n *redisserver.Server) (password, configFile string) {
	t.Helper()
	auth := strings.Split(n.Do(t, "CONFIG", "GET", "masterauth"), "\n")
	for line := range strings.SplitSeq(n.Do(t, "INFO", "server"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "config_file:"); ok {
			configFile = v
		}
	}
	if len(auth) != 2 || configFile == "" {
		t.Fatalf("%s: masterauth %d fields, config file %q", n.Addr, len(auth), configFile)
	}
	return auth[1], configFile
}

// TestRotatePasswordReplicationUser rotates, through the Sentinels, the
// user replicas log into their master as: --add makes the new password
// every node's masterauth, saved in each node's configuration file, which
// stays 0600; after --remove-old only the new password logs in, and a
// replica whose link is cut logs in again (before masterauth was rotated,
// it got WRONGPASS here and its link stayed down).
func TestRotatePasswordReplicationUser(t *testing.T) {
	t.Parallel()
	e := startSentinelRotation(t)
	nodes := append([]*redisserver.Server{e.sn.Master}, e.sn.Replicas...)
	oldPW, _ := masterAuth(t, e.sn.Master)
	const user = "replication" // redisserver's replication user, and redsafe up's
	passwordFile := e.write("replication.password", oldPW+"\n")
	secrets := []string{e.adminPW, e.appPW, oldPW}
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"rotate-password", "--env-file", e.envFile, "--admin-password-file", e.admin, "--user", user, "--password-file", passwordFile}, args...)...)
		for _, p := range secrets {
			if strings.Contains(out+errOut, p) {
				t.Fatalf("%v printed a password", args)
			}
		}
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}

	out := run("--add")
	newPW := strings.TrimSpace(readFile(t, passwordFile))
	secrets = append(secrets, newPW)
	if newPW == oldPW || strings.Count(out, "masterauth set") != len(nodes) || !strings.Contains(out, "replica link(s) cut") {
		t.Fatalf("--add: the password file changed %v; output:\n%s", newPW != oldPW, out)
	}
	for _, n := range nodes {
		auth, conf := masterAuth(t, n)
		fi, err := os.Stat(conf)
		if auth != newPW || err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(readFile(t, conf), newPW) {
			t.Fatalf("%s after --add: masterauth is the new password %v; %s saved with it %v, mode %v (%v), want 0600", n.Addr, auth == newPW, conf, strings.Contains(readFile(t, conf), newPW), fi.Mode(), err)
		}
	}

	t.Logf("--remove-old:\n%s", run("--remove-old"))
	for _, n := range e.dataNodes() {
		if n.Login(user, oldPW) == nil {
			t.Fatalf("the old password still logs in on %s", n.Addr)
		}
		if err := n.Login(user, newPW); err != nil {
			t.Fatalf("%s: %v", n.Addr, err)
		}
	}
	// Only the new password is valid: the replica must log in with it.
	redisserver.CutReplicaLinks(t, 10*time.Second, e.sn.Master, e.sn.Replicas...)
}

// TestRotatePasswordSentinelAdmin rotates the operations user of a
// Sentinel deployment, whose one password file logs into the data nodes
// and the Sentinels alike: the new password is added, and the old one
// removed, on both, and status with the rewritten file still answers
// everywhere (rotated on the data nodes alone, the Sentinels refused it).
func TestRotatePasswordSentinelAdmin(t *testing.T) {
	t.Parallel()
	e := startSentinelRotation(t)
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"rotate-password", "--env-file", e.envFile, "--admin-password-file", e.admin}, args...)...)
		if code != 0 || strings.Contains(out+errOut, e.adminPW) {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	all := append(e.dataNodes(), e.sentinels()...)
	out := run("--add", "--user", "admin", "--password-file", e.admin)
	newPW := strings.TrimSpace(readFile(t, e.admin))
	if newPW == e.adminPW || !strings.Contains(out, "the data nodes and the Sentinels") {
		t.Fatalf("--add --user admin: the file changed %v; output:\n%s", newPW != e.adminPW, out)
	}
	for _, n := range all {
		for _, pw := range []string{e.adminPW, newPW} {
			if err := n.Login("admin", pw); err != nil {
				t.Fatalf("%s after --add: %v", n.Addr, err)
			}
		}
	}
	run("--remove-old", "--user", "admin", "--password-file", e.admin)
	for _, n := range all {
		if n.Login("admin", e.adminPW) == nil {
			t.Fatalf("the old admin password still logs in on %s", n.Addr)
		}
		if err := n.Login("admin", newPW); err != nil {
			t.Fatalf("%s: %v", n.Addr, err)
		}
	}
	run("--status")
}
