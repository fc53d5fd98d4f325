package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestUpSentinel: `redsafe up --sentinel` starts a TLS-only master, a
// replica and three Sentinels and verifies every one of them; its
// .env.secure opens the library through the Sentinels; redis-cli --tls to
// a Sentinel with the Sentinels' client user answers SENTINEL
// get-master-addr-by-name, and is refused without a password, with the
// application's password, and for SENTINEL FAILOVER; the master killed,
// the Sentinels fail over (as their narrow peer user), status names the
// new master, and up again brings the old master back as a replica, with
// no dump.rdb written; a replica cut off from its master fails verify;
// down leaves no process.
func TestUpSentinel(t *testing.T) {
	l := func(t *testing.T, dir string, i int) redisserver.Dir {
		servers, err := upServers(dir)
		if err != nil {
			t.Fatal(err)
		}
		return servers[3+i] // after the 3 Sentinels
	}
	t.Parallel()
	redisserver.RedisServerPath(t)
	cliPath := redisCLIPath(t)
	dir := filepath.Join(t.TempDir(), "rs")
	base := freePortBase(t, 3, 0, sentinelPortOffset)
	t.Cleanup(func() { runCLI(t, "down", "--dir", dir) })

	code, out, errOut := runCLI(t, "up", "--sentinel", "--dir", dir, "--port", strconv.Itoa(base), "--timeout", "30s")
	// 8 checks on the master, 8 on the replica, 6 on each Sentinel.
	if code != 0 || !strings.Contains(out, "the master is 127.0.0.1:"+strconv.Itoa(base)+" now") || !strings.Contains(out, "OK: all 34 checks passed") {
		t.Fatalf("up --sentinel: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, conf := range []string{"nodes/" + strconv.Itoa(base) + "/redis.conf", "nodes/" + strconv.Itoa(base+1) + "/redis.conf",
		"sentinels/" + strconv.Itoa(base+sentinelPortOffset) + "/sentinel.conf"} {
		if fi, err := os.Stat(filepath.Join(dir, conf)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v (it holds a password: 0600)", conf, fi.Mode(), err)
		}
	}

	vars, err := envfile.Read(filepath.Join(dir, ".env.secure"))
	if err != nil {
		t.Fatal(err)
	}
	sentinelPort := strconv.Itoa(base + sentinelPortOffset)
	if u := vars[redsafe.EnvURL]; !strings.Contains(u, "@127.0.0.1:"+sentinelPort+"/0?master_set=redsafe&addr=") || vars[redsafe.EnvSentinelUsername] != "sentinel-client" {
		t.Fatalf(".env.secure does not name the Sentinels: %s, user %q", u, vars[redsafe.EnvSentinelUsername])
	}
	o := redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	o.Logger = quietLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open with .env.secure: %v", err)
	}
	defer c.Close()
	if err := c.Set(ctx, "greeting", []byte("hello"), time.Minute); err != nil {
		t.Fatal(err)
	}

	secret := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "secrets", name+".password"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	cli := func(port, user, password string, args ...string) string {
		a := []string{"--tls", "--cacert", vars[redsafe.EnvTLSCACert], "-h", "127.0.0.1", "-p", port, "--no-auth-warning"}
		if user != "" {
			a = append(a, "--user", user)
		}
		cmd := exec.Command(cliPath, append(a, args...)...)
		if password != "" {
			cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+password) // not on argv
		}
		got, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(got))
	}
	if got := cli(sentinelPort, "sentinel-client", secret("sentinel-client"), "SENTINEL", "get-master-addr-by-name", "redsafe"); got != "127.0.0.1\n"+strconv.Itoa(base) {
		t.Fatalf("redis-cli --tls SENTINEL get-master-addr-by-name as sentinel-client = %q", got)
	}
	if got := cli(sentinelPort, "", "", "SENTINEL", "get-master-addr-by-name", "redsafe"); !strings.HasPrefix(got, "NOAUTH") {
		t.Fatalf("without a password, a Sentinel answered %q", got)
	}
	if got := cli(sentinelPort, "app", secret("app"), "SENTINEL", "get-master-addr-by-name", "redsafe"); !strings.Contains(got, "WRONGPASS") {
		t.Fatalf("the application's credentials on a Sentinel: %q, want WRONGPASS (the Sentinels have users of their own)", got)
	}
	if got := cli(sentinelPort, "sentinel-client", secret("sentinel-client"), "SENTINEL", "FAILOVER", "redsafe"); !strings.HasPrefix(got, "NOPERM") {
		t.Fatalf("the Sentinels' client user may fail the master over: %q", got)
	}
	if got := cli(strconv.Itoa(base), "admin", secret("admin"), "ACL", "DRYRUN", "app", "PUBLISH", "__sentinel__:hello", "forged"); !strings.Contains(got, "no permissions") {
		t.Fatalf("the app user may publish to the Sentinels' hello channel: %q", got)
	}

	// The master dies (SIGKILL of its own pid): the Sentinels agree, as
	// their peer user, that it is down and promote the replica; status
	// names the new master, the library follows.
	oldPid, running := l(t, dir, 0).Pid()
	if !running {
		t.Fatal("the master is not running")
	}
	if err := syscall.Kill(oldPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	newMaster := "127.0.0.1:" + strconv.Itoa(base+1)
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, out, _ = runCLI(t, "status", "--dir", dir)
		if strings.Contains(out, "the Sentinels name "+newMaster+" as the master") && c.Set(ctx, "after", []byte("failover"), time.Minute) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failover to %s within 40s of killing the master:\n%s", newMaster, out)
		}
	}
	if strings.Count(out, " sentinel ") != 3 {
		t.Fatalf("status does not list the 3 Sentinels:\n%s", out)
	}
	if got, err := c.Get(ctx, "greeting"); err != nil || string(got) != "hello" {
		t.Fatalf("after the failover, Get(greeting) = %q, %v", got, err)
	}
	// up again restarts the old master as a replica of the new one (its
	// redis.conf still says master: it died before anyone rewrote it), and
	// verifies every process, the replica's link included.
	code, out, errOut = runCLI(t, "up", "--sentinel", "--dir", dir, "--port", strconv.Itoa(base), "--timeout", "30s")
	if code != 0 || !strings.Contains(out, "made it a replica of "+newMaster) || !strings.Contains(out, "OK: all 34 checks passed") ||
		!strings.Contains(out, "replicates the master "+newMaster+", link up") {
		t.Fatalf("up after the failover: exit %d\n%s\n%s", code, out, errOut)
	}
	if got, err := c.Get(ctx, "after"); err != nil || string(got) != "failover" {
		t.Fatalf("after the old master came back, Get(after) = %q, %v", got, err)
	}
	for _, conf := range []string{"nodes/" + strconv.Itoa(base) + "/redis.conf", "nodes/" + strconv.Itoa(base+1) + "/redis.conf",
		"sentinels/" + strconv.Itoa(base+sentinelPortOffset) + "/sentinel.conf"} {
		// Rewritten by the Sentinels during the failover (CONFIG REWRITE):
		// still private, as redis-server runs under umask 077.
		if fi, err := os.Stat(filepath.Join(dir, conf)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("after the failover %s: %v, %v, want 0600", conf, fi.Mode(), err)
		}
	}
	for i := range 2 {
		if _, err := os.Stat(filepath.Join(dir, "nodes", strconv.Itoa(base+i), "dump.rdb")); err == nil {
			t.Errorf("node %d wrote a dump.rdb: a full sync must not touch the disk", base+i)
		}
	}
	// A replica whose link is down fails verify: it would hold stale data.
	oldMaster := strconv.Itoa(base)
	cli(oldMaster, "admin", secret("admin"), "CONFIG", "SET", "masterauth", "wrong-"+secret("admin"))
	cli(strconv.Itoa(base+1), "admin", secret("admin"), "CLIENT", "KILL", "TYPE", "replica")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, out, _ = runCLI(t, "verify", "--env-file", filepath.Join(dir, ".env.secure"))
		if code != 0 && strings.Contains(out, "sentinel.replica") && strings.Contains(out, "not connected") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify with a replica cut off from its master: exit %d\n%s", code, out)
		}
	}
	cli(oldMaster, "admin", secret("admin"), "CONFIG", "SET", "masterauth", secret("replication"))

	out = downLeavesNoProcess(t, dir, 5)
	if strings.Count(out, "of Sentinel ") != 3 {
		t.Fatalf("down did not stop the 3 Sentinels first:\n%s", out)
	}
}
