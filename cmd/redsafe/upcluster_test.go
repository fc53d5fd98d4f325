package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestUpCluster: `redsafe up --cluster 3` starts six TLS-only nodes (three
// masters, a replica each) and verifies them; the service settings it
// writes open the library on the cluster; redis-cli --tls -c, with that CA
// and the app password, reads what the library wrote as a Fernet token;
// status lists every node; down leaves no process.
func TestUpCluster(t *testing.T) {
	t.Parallel()
	redisserver.RedisServerPath(t)
	cliPath := redisCLIPath(t)
	dir := filepath.Join(t.TempDir(), "rc")
	base := freeClusterPorts(t, 6)
	t.Cleanup(func() { runCLI(t, "down", "--dir", dir) })

	code, out, errOut := runCLI(t, "up", "--cluster", "3", "--dir", dir, "--port", strconv.Itoa(base), "--timeout", "30s")
	// Every node verified: 8 checks on the first, 7 on each of the other 5
	// (the library's round trip runs once).
	if code != 0 || !strings.Contains(out, "formed a cluster of 3 masters with 1 replica each") || !strings.Contains(out, "OK: all 43 checks passed") ||
		strings.Count(out, "\nnode 127.0.0.1:") != 5 {
		t.Fatalf("up --cluster 3: exit %d\n%s\n%s", code, out, errOut)
	}
	for i := range 6 {
		conf := filepath.Join(dir, "nodes", strconv.Itoa(base+i), "redis.conf")
		if fi, err := os.Stat(conf); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v (it holds the replication password: 0600)", conf, err)
		}
	}

	vars, err := envfile.Read(filepath.Join(dir, ".env.secure"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(vars[redsafe.EnvURL], "addr=127.0.0.1:"+strconv.Itoa(base+2)) {
		t.Fatalf("REDIS_URL %s does not name every master", vars[redsafe.EnvURL])
	}
	o := redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	o.Logger = quietLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open with .env.secure: %v", err)
	}
	defer c.Close()
	for i := range 10 {
		if err := c.Set(ctx, fmt.Sprintf("greeting:%d", i), []byte("hello"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	appPassword, err := os.ReadFile(vars[redsafe.EnvPasswordFile])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		cmd := exec.Command(cliPath, "--tls", "--cacert", vars[redsafe.EnvTLSCACert], "-h", "127.0.0.1", "-p", strconv.Itoa(base),
			"--user", "app", "--no-auth-warning", "-c", "GET", fmt.Sprintf("greeting:%d", i))
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+strings.TrimSpace(string(appPassword))) // not on argv
		got, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(got), "gAAAAA") {
			t.Fatalf("redis-cli --tls -c GET greeting:%d = %q, %v; want a Fernet token", i, got, err)
		}
	}

	// migrate from a plaintext single server into the cluster, through
	// the same settings: every key on the master of its slot, sealed.
	legacy := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	for i := range 50 {
		if r := legacy.Do(t, "SET", fmt.Sprintf("legacy:%d", i), "v", "EX", "600"); r != "+OK" {
			t.Fatal(r)
		}
	}
	code, out, errOut = runCLI(t, "migrate", "--from", "redis://"+legacy.Addr, "--env-file", filepath.Join(dir, ".env.secure"),
		"--state", filepath.Join(t.TempDir(), "migrate.state"), "--json", "--progress", "none")
	if code != 0 || !strings.Contains(out, `"encrypted": 50`) || strings.Count(out, `"127.0.0.1:`) < 3 || !strings.Contains(out, `"destination_nodes"`) {
		t.Fatalf("migrate into the cluster: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, k := range []string{"legacy:0", "legacy:49"} {
		got, err := c.Get(ctx, k)
		if err != nil || string(got) != "v" {
			t.Fatalf("after migrate, Get(%s) = %q, %v", k, got, err)
		}
	}

	code, out, _ = runCLI(t, "status", "--dir", dir)
	if code != 0 || strings.Count(out, " master ") != 3 || strings.Count(out, " replica ") != 3 {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	downLeavesNoProcess(t, dir, 6)
}

// downLeavesNoProcess runs down on dir, whose n processes must all run
// before, and checks that none of their pids runs after; it returns what
// down printed.
func downLeavesNoProcess(t *testing.T, dir string, n int) string {
	t.Helper()
	var pids []int
	servers, err := upServers(dir)
	if err != nil || len(servers) != n {
		t.Fatalf("upServers = %d, %v; want %d", len(servers), err, n)
	}
	for _, s := range servers {
		pid, running := s.Pid()
		if !running {
			t.Fatalf("%s is not running", s.Dir)
		}
		pids = append(pids, pid)
	}
	code, out, _ := runCLI(t, "down", "--dir", dir)
	if code != 0 || strings.Count(out, "stopped redis-server") != n {
		t.Fatalf("down: exit %d\n%s", code, out)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("pid %d still runs after down", pid)
		}
	}
	return out
}

// redisCLIPath is redis-cli's path; the test is skipped without it,
// except in CI, which must install redis-tools.
func redisCLIPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-cli is not installed; CI must install redis-tools")
		}
		t.Skip("redis-cli is not installed")
	}
	return path
}

// freeClusterPorts finds a base port for n nodes: base..base+n-1 and their
// bus ports base+10000.. all free now. Another process may still take one
// before the nodes bind it; up then fails with the port named.
func freeClusterPorts(t *testing.T, n int) int {
	t.Helper()
	return freePortBase(t, n, 0, 10000)
}

// freePortBase finds a base port such that base+offset+i is free for
// every offset and i < n.
func freePortBase(t *testing.T, n int, offsets ...int) int {
	t.Helper()
	span := slices.Max(offsets) + n
	for attempt := 0; attempt < 50; attempt++ {
		ports, err := redisserver.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		base := 10000 + ports[0]%(65535-10000-span)
		free := true
		for i := range n {
			for _, off := range offsets {
				l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+off+i))
				if err != nil {
					free = false
					break
				}
				l.Close()
			}
		}
		if free {
			return base
		}
	}
	t.Fatal("no free range of ports")
	return 0
}
