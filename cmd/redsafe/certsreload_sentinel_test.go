package main

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/certreload"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
)

// reloadSentinelEnvFile (in TestCertsReloadSentinel, on a running `up
// --sentinel --replicas 1` in dir): `certs reload --env-file` with the
// service's .env.secure, whose REDIS_URL names the Sentinels, finds the
// data nodes through them and reloads the replica first and the master
// last, each proven to serve the renewed serial, while a service on the
// library reads and writes through the Sentinels and no call fails; the
// Sentinels are reported with the certificate they still serve and a
// restart order without pids or up commands. Before that, the same env
// file with another CA is refused, also when the deployment's CA is among
// the system roots (as a public CA would be), before any connection
// reaches a data node, and nothing is changed: every process still serves
// the old serial though the files hold the new one.
func reloadSentinelEnvFile(t *testing.T, dir string, base int) {
	certDir := filepath.Join(dir, "certs")
	caFile := filepath.Join(certDir, certs.CAFile)
	adminFile := filepath.Join(dir, "secrets", "admin.password")
	envFile := filepath.Join(dir, ".env.secure")
	master, replica := "127.0.0.1:"+strconv.Itoa(base), "127.0.0.1:"+strconv.Itoa(base+1)
	var sentinels []string
	for i := range 3 {
		sentinels = append(sentinels, "127.0.0.1:"+strconv.Itoa(base+sentinelPortOffset+i))
	}
	all := append([]string{master, replica}, sentinels...)
	oldSerial := freshSerial(t, caFile, master)
	var secrets []string // every password up made: the admin's, the app's, the Sentinels' users'
	files, err := filepath.Glob(filepath.Join(dir, "secrets", "*.password"))
	if err != nil || len(files) < 4 {
		t.Fatalf("the passwords up made: %v, %v", files, err)
	}
	for _, f := range files {
		secrets = append(secrets, strings.TrimSpace(readFile(t, f)))
	}
	noSecrets := func(step, out string) {
		t.Helper()
		for _, p := range secrets {
			if strings.Contains(out, p) {
				t.Fatalf("%s printed a password", step)
			}
		}
	}

	if code, out, errOut := runCLI(t, "certs", "renew", "--dir", certDir); code != 0 {
		t.Fatalf("certs renew: exit %d\n%s\n%s", code, out, errOut)
	}
	newSerial := serialOnDisk(t, certDir)
	if newSerial == oldSerial {
		t.Fatal("renew kept the serial")
	}

	// The service's env file with a CA that did not issue the Sentinels'
	// certificates: refused before anything is asked of a data node.
	other, err := certs.NewAuthority("another CA", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(t.TempDir(), "other-ca.crt")
	if err := certs.WriteCert(otherCA, other.CertPEM); err != nil {
		t.Fatal(err)
	}
	env := readFile(t, envFile)
	if !strings.Contains(env, caFile) {
		t.Fatalf(".env.secure does not name %s:\n%s", caFile, env)
	}
	otherEnv := filepath.Join(t.TempDir(), ".env.other-ca")
	if err := os.WriteFile(otherEnv, []byte(strings.ReplaceAll(env, caFile, otherCA)), 0o600); err != nil {
		t.Fatal(err)
	}
	adminPW := strings.TrimSpace(readFile(t, adminFile))
	before := map[string]int{}
	for _, a := range []string{master, replica} {
		before[a] = connectionsReceived(t, caFile, a, adminPW)
	}
	code, out, errOut := runCLI(t, "certs", "reload", "--env-file", otherEnv, "--admin-password-file", adminFile, "--json")
	if code != 1 || out != "" || !strings.Contains(errOut, "nothing was changed") || !strings.Contains(errOut, "asking the Sentinels REDIS_URL names for the master") ||
		!strings.Contains(errOut, "certificate signed by unknown authority") {
		t.Fatalf("reload with another CA: exit %d\n%s\n%s", code, out, errOut)
	}
	noSecrets("reload with another CA", out+errOut)
	// The same, with the deployment's CA among the system roots, as a
	// public CA would be: the service's own settings trust the Sentinels
	// then (MasterConnection names the master), but the reload verifies
	// them against the CA file alone, and stops before any data node.
	child := runChild(t, time.Minute, []string{"SSL_CERT_FILE=" + caFile}, "certs", "reload", "--env-file", otherEnv, "--admin-password-file", adminFile, "--json")
	if child.code != 1 || child.stdout != "" || !strings.Contains(child.stderr, "nothing was changed") ||
		!strings.Contains(child.stderr, "asking the Sentinels for the replicas and the other Sentinels, each verified against the CA file alone") ||
		!strings.Contains(child.stderr, "certificate signed by unknown authority") {
		t.Fatalf("reload with another CA and the deployment's among the system roots: exit %d\n%s\n%s", child.code, child.stdout, child.stderr)
	}
	noSecrets("reload with the deployment's CA among the system roots", child.stdout+child.stderr)
	for _, a := range []string{master, replica} {
		// One more: connectionsReceived's own.
		if got := connectionsReceived(t, caFile, a, adminPW); got != before[a]+1 {
			t.Fatalf("%s received %d connections during the refused reloads: the admin password may have gone to it", a, got-before[a]-1)
		}
	}
	for _, a := range all {
		if got := freshSerial(t, caFile, a); got != oldSerial {
			t.Fatalf("%s serves %s after the refused reload, want the old %s", a, got, oldSerial)
		}
	}

	// The service's own env file, while the service runs.
	w := startReloadWorkload(t, dir)
	time.Sleep(200 * time.Millisecond)
	code, r, out, errOut := reloadJSON(t, "--env-file", envFile, "--admin-password-file", adminFile, "--json")
	if code != 0 || !r.OK || len(r.Nodes) != 2 || len(r.Sentinels) != 3 {
		t.Fatalf("certs reload --env-file: exit %d\n%s\n%s", code, out, errOut)
	}
	for i, want := range []string{replica, master} { // the master last
		n := r.Nodes[i]
		if n.Addr != want || n.Status != certreload.Reloaded || n.Before.Serial != oldSerial || n.After.Serial != newSerial {
			t.Fatalf("data node %d: %+v, want %s reloaded from %s to %s\n%s", i, n, want, oldSerial, newSerial, out)
		}
	}
	w.afterReload(t)
	for _, a := range []string{master, replica} {
		if got := freshSerial(t, caFile, a); got != newSerial {
			t.Fatalf("%s serves %s, want the new %s", a, got, newSerial)
		}
	}
	for i, s := range r.Sentinels {
		if s.Addr != sentinels[i] || s.Current || s.Served == nil || s.Served.Serial != oldSerial || s.Pid != 0 ||
			!strings.Contains(s.Detail, "not the certificate the data nodes serve now (serial "+newSerial+")") {
			t.Fatalf("Sentinel %d: %+v, want %s reported serving the old %s", i, s, sentinels[i], oldSerial)
		}
		step := strconv.Itoa(i+1) + ". restart the Sentinel on " + s.Addr + ", then wait until `SENTINEL MASTER redsafe` on it shows num-slaves 1 and num-other-sentinels 2"
		if !strings.Contains(r.Next, step) {
			t.Fatalf("restart order: no %q in\n%s", step, r.Next)
		}
	}
	if strings.Contains(r.Next, "kill") || strings.Contains(r.Next, "redsafe up") || !strings.Contains(r.Next, "cannot reload one") {
		t.Fatalf("restart order for Sentinels redsafe did not start:\n%s", r.Next)
	}
	noSecrets("reload --env-file", out+errOut)
}

// The restart order for the Sentinels an env file names: one at a time,
// in the order found, each by its address and what to wait for, without a
// pid or an up command (redsafe did not start them); a current one is
// left out.
func TestSentinelRestartOrderEnvFile(t *testing.T) {
	t.Parallel()
	targets := &reloadTargets{nodes: []certreload.Node{{Addr: "10.0.0.2:6379"}, {Addr: "10.0.0.3:6379"}, {Addr: "10.0.0.1:6379"}}, masterSet: "cache"}
	r := reloadReport{OK: true, Nodes: []certreload.Result{{Status: certreload.Reloaded}, {Status: certreload.Reloaded}, {Status: certreload.Reloaded}},
		Sentinels: []sentinelCert{{Addr: "10.0.0.9:26379"}, {Addr: "10.0.0.8:26379", Current: true}, {Addr: "10.0.0.7:26379"}}}
	next := reloadNext(r, targets)
	first := strings.Index(next, "1. restart the Sentinel on 10.0.0.9:26379, then wait until `SENTINEL MASTER cache` on it shows num-slaves 2 and num-other-sentinels 2")
	second := strings.Index(next, "2. restart the Sentinel on 10.0.0.7:26379,")
	if first < 0 || second < first || strings.Contains(next, "10.0.0.8") || strings.Contains(next, "kill") || strings.Contains(next, "redsafe up") {
		t.Fatalf("restart order:\n%s", next)
	}
}

// connectionsReceived is the data node's total_connections_received
// (INFO stats), which counts every connection accepted, even one whose
// handshake then fails, asked as the admin.
func connectionsReceived(t *testing.T, caFile, addr, adminPassword string) int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(readFile(t, caFile)))
	c, err := resp.Dial(addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if reply, err := c.Do("AUTH", "admin", adminPassword); err != nil || reply != "+OK" {
		t.Fatalf("AUTH admin on %s: %v", addr, err)
	}
	info, err := c.Do("INFO", "stats")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_connections_received:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s: no total_connections_received in INFO stats", addr)
	return 0
}
