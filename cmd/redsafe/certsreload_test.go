package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/certreload"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// reloadWorkload is a service on the library writing and reading in a
// loop through one Cache (its pooled connections were opened before the
// reload), and opening a new Cache every few milliseconds (new
// connections, handshaking with whatever certificate the node serves
// then, verified with the ca.crt the service always had).
type reloadWorkload struct {
	calls, failed, opens atomic.Int64
	firstErr             atomic.Value
	stop                 chan struct{}
	wg                   sync.WaitGroup
}

func startReloadWorkload(t *testing.T, dir string) *reloadWorkload {
	t.Helper()
	vars, err := envfile.Read(filepath.Join(dir, ".env.secure"))
	if err != nil {
		t.Fatal(err)
	}
	o := redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	o.Logger = quietLogger()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open with .env.secure: %v", err)
	}
	w := &reloadWorkload{stop: make(chan struct{})}
	fail := func(err error) {
		w.failed.Add(1)
		w.firstErr.CompareAndSwap(nil, err)
	}
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		defer c.Close()
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			key := fmt.Sprintf("reload:%d", i%50)
			if err := c.Set(ctx, key, []byte("v"+strconv.Itoa(i)), time.Minute); err != nil {
				fail(fmt.Errorf("Set: %w", err))
			} else if got, err := c.Get(ctx, key); err != nil || string(got) != "v"+strconv.Itoa(i) {
				fail(fmt.Errorf("Get = %q, %v", got, err))
			}
			cancel()
			w.calls.Add(2)
		}
	}()
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			nc, err := redsafe.Open(ctx, o)
			if err == nil {
				err = nc.Set(ctx, "reload:fresh", []byte("x"), time.Minute)
				nc.Close()
			}
			cancel()
			w.calls.Add(1)
			w.opens.Add(1)
			if err != nil {
				fail(fmt.Errorf("a new Cache: %w", err))
			}
		}
	}()
	return w
}

// afterReload waits until new Caches have opened against the reloaded
// certificate, then finishes.
func (w *reloadWorkload) afterReload(t *testing.T) {
	t.Helper()
	w.opened(t, 5)
	w.finish(t)
}

// opened waits until n more new Caches have opened (and written), so that
// new connections have handshaken with what the nodes serve now.
func (w *reloadWorkload) opened(t *testing.T, n int64) {
	t.Helper()
	at := w.opens.Load()
	for deadline := time.Now().Add(10 * time.Second); w.opens.Load() < at+n && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if w.opens.Load() < at+n {
		t.Fatalf("only %d new Caches opened, want %d", w.opens.Load()-at, n)
	}
}

// finish stops the workload and fails the test if any call failed.
func (w *reloadWorkload) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	t.Logf("workload: %d calls (%d new Caches), %d failed", w.calls.Load(), w.opens.Load(), w.failed.Load())
	if n := w.failed.Load(); n > 0 || w.opens.Load() == 0 {
		t.Fatalf("%d of %d calls failed during the reload, %d new Caches; first: %v", n, w.calls.Load(), w.opens.Load(), w.firstErr.Load())
	}
}

// upSingle runs `redsafe up` for one server on a free port in a temporary
// directory, brought down when the test ends.
func upSingle(t *testing.T) (dir string, port int) {
	t.Helper()
	redisserver.RedisServerPath(t)
	dir = filepath.Join(t.TempDir(), "rs")
	port = freePortBase(t, 1, 0)
	t.Cleanup(func() { runCLI(t, "down", "--dir", dir) })
	if code, out, errOut := runCLI(t, "up", "--dir", dir, "--port", strconv.Itoa(port), "--timeout", "30s"); code != 0 {
		t.Fatalf("up: exit %d\n%s\n%s", code, out, errOut)
	}
	return dir, port
}

// freshSerial is the serial a new TLS client, with no session to resume,
// sees on addr, verified with caFile.
func freshSerial(t *testing.T, caFile, addr string) string {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("a fresh handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return certreload.SerialHex(conn.ConnectionState().PeerCertificates[0])
}

func serialOnDisk(t *testing.T, certDir string) string {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(certDir, certs.ServerFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCert(pem)
	if err != nil {
		t.Fatal(err)
	}
	return certreload.SerialHex(c)
}

func reloadJSON(t *testing.T, args ...string) (int, reloadReport, string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"certs", "reload"}, args...)...)
	var r reloadReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("certs reload --json: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	return code, r, out, errOut
}

// TestCertsRenewReloadSingle: `certs renew` then `certs reload` on a
// running `redsafe up` server while a service reads and writes: no call
// fails, new connections see the new serial (as openssl s_client shows
// it), and ca.crt is byte for byte the one the service had.
func TestCertsRenewReloadSingle(t *testing.T) {
	t.Parallel()
	dir, port := upSingle(t)
	certDir := filepath.Join(dir, "certs")
	caBefore, err := os.ReadFile(filepath.Join(certDir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	oldSerial := freshSerial(t, filepath.Join(certDir, certs.CAFile), addr)

	w := startReloadWorkload(t, dir)
	time.Sleep(200 * time.Millisecond)
	code, out, errOut := runCLI(t, "certs", "renew", "--dir", certDir)
	if code != 0 || !strings.Contains(out, "certs reload --dir "+dir) {
		t.Fatalf("certs renew: exit %d\n%s\n%s", code, out, errOut)
	}
	newSerial := serialOnDisk(t, certDir)
	if newSerial == oldSerial {
		t.Fatal("renew kept the serial")
	}
	code, r, out, errOut := reloadJSON(t, "--dir", dir, "--admin-password-file", filepath.Join(dir, "secrets", "admin.password"), "--json")
	if code != 0 || !r.OK || len(r.Nodes) != 1 || r.Nodes[0].Status != certreload.Reloaded ||
		r.Nodes[0].Before.Serial != oldSerial || r.Nodes[0].After.Serial != newSerial {
		t.Fatalf("certs reload: exit %d\n%s\n%s", code, out, errOut)
	}
	w.afterReload(t)

	if got := freshSerial(t, filepath.Join(certDir, certs.CAFile), addr); got != newSerial {
		t.Fatalf("a fresh handshake sees %s, want the new %s", got, newSerial)
	}
	if caAfter, _ := os.ReadFile(filepath.Join(certDir, certs.CAFile)); !bytes.Equal(caAfter, caBefore) {
		t.Fatal("ca.crt changed")
	}
	// openssl prints the serial as the report does (CI installs it).
	openssl, err := exec.LookPath("openssl")
	if err != nil && os.Getenv("CI") == "true" {
		t.Fatal("openssl is not installed: CI must check what openssl s_client shows")
	}
	if err != nil {
		t.Log("openssl is not installed here: the openssl s_client check is skipped")
	} else {
		sc := exec.Command(openssl, "s_client", "-connect", addr, "-CAfile", filepath.Join(certDir, certs.CAFile))
		sc.Stdin = strings.NewReader("")
		pem, _ := sc.Output()
		x := exec.Command(openssl, "x509", "-noout", "-serial")
		x.Stdin = bytes.NewReader(pem)
		got, err := x.Output()
		if err != nil || strings.TrimSpace(string(got)) != "serial="+newSerial {
			t.Fatalf("openssl shows %q (%v), the report %s", got, err, newSerial)
		}
	}
	// The text report names the serials.
	code, out, _ = runCLI(t, "certs", "reload", "--dir", dir, "--admin-password-file", filepath.Join(dir, "secrets", "admin.password"))
	if code != 0 || !strings.Contains(out, "serves serial "+newSerial) || !strings.Contains(out, "as it did already") {
		t.Fatalf("certs reload again: exit %d\n%s", code, out)
	}
}

// TestCertsReloadCluster: on a `redsafe up --cluster 3 --replicas 0`
// while a service runs, a renewal whose key does not match is refused by
// the first node, which keeps its old certificate, and the other nodes
// are not touched; once a good pair is renewed, every node serves it, and
// no call of the service failed.
func TestCertsReloadCluster(t *testing.T) {
	t.Parallel()
	redisserver.RedisServerPath(t)
	dir := filepath.Join(t.TempDir(), "rc")
	base := freeClusterPorts(t, 3)
	t.Cleanup(func() { runCLI(t, "down", "--dir", dir) })
	if code, out, errOut := runCLI(t, "up", "--cluster", "3", "--replicas", "0", "--dir", dir, "--port", strconv.Itoa(base), "--timeout", "30s"); code != 0 {
		t.Fatalf("up --cluster 3: exit %d\n%s\n%s", code, out, errOut)
	}
	certDir := filepath.Join(dir, "certs")
	caFile := filepath.Join(certDir, certs.CAFile)
	caBefore, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	adminFile := filepath.Join(dir, "secrets", "admin.password")
	addrs := []string{}
	for i := range 3 {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(base+i))
	}
	oldSerial := freshSerial(t, caFile, addrs[0])
	w := startReloadWorkload(t, dir)
	time.Sleep(200 * time.Millisecond)

	// A renewal whose key belongs to another certificate.
	if code, out, errOut := runCLI(t, "certs", "renew", "--dir", certDir); code != 0 {
		t.Fatalf("certs renew: exit %d\n%s\n%s", code, out, errOut)
	}
	ca, err := certs.LoadAuthority(caFile, filepath.Join(certDir, certs.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	stray, err := ca.IssueServer([]string{"127.0.0.1"}, certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteKey(filepath.Join(certDir, certs.ServerKeyFile), stray.KeyPEM); err != nil {
		t.Fatal(err)
	}
	code, r, out, errOut := reloadJSON(t, "--dir", dir, "--admin-password-file", adminFile, "--json")
	if code != 1 || r.OK || len(r.Nodes) != 3 || r.Nodes[0].Status != certreload.Refused || r.Nodes[0].After.Serial != oldSerial ||
		r.Nodes[1].Status != certreload.Untouched || r.Nodes[2].Status != certreload.Untouched ||
		!strings.Contains(errOut, addrs[0]+" did not reload") || !strings.Contains(r.Next, "stopped at "+addrs[0]) {
		t.Fatalf("reload with a mismatched key: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, a := range addrs {
		if got := freshSerial(t, caFile, a); got != oldSerial {
			t.Fatalf("%s serves %s after the refused reload, want the old %s", a, got, oldSerial)
		}
	}

	// A good renewal, reloaded everywhere.
	if code, out, errOut := runCLI(t, "certs", "renew", "--dir", certDir); code != 0 {
		t.Fatalf("certs renew: exit %d\n%s\n%s", code, out, errOut)
	}
	newSerial := serialOnDisk(t, certDir)
	code, r, out, errOut = reloadJSON(t, "--dir", dir, "--admin-password-file", adminFile, "--json")
	if code != 0 || !r.OK || len(r.Nodes) != 3 {
		t.Fatalf("certs reload: exit %d\n%s\n%s", code, out, errOut)
	}
	for i, n := range r.Nodes {
		if n.Status != certreload.Reloaded || n.After.Serial != newSerial || n.Addr != addrs[i] {
			t.Fatalf("node %d: %+v", i, n)
		}
	}
	w.afterReload(t)
	for _, a := range addrs {
		if got := freshSerial(t, caFile, a); got != newSerial {
			t.Fatalf("%s serves %s, want the new %s", a, got, newSerial)
		}
	}
	if caAfter, _ := os.ReadFile(caFile); !bytes.Equal(caAfter, caBefore) {
		t.Fatal("ca.crt changed")
	}
	if code, out, _ := runCLI(t, "status", "--dir", dir); code != 0 || strings.Count(out, " master ") != 3 {
		t.Fatalf("status after the reloads: exit %d\n%s", code, out)
	}

	// Then the CA is rotated on the same cluster, with a service running:
	// the nodes verify each other's bus certificate (client.crt) with the
	// CA file, so each must trust the new CA before any certificate of it
	// appears.
	w = startReloadWorkload(t, dir)
	time.Sleep(200 * time.Millisecond)
	for _, step := range []string{"begin", "switch", "finish"} {
		code, r, out := rotateCA(t, dir, step)
		if code != 0 || !r.OK || len(r.Nodes) != 3 {
			t.Fatalf("rotate-ca %s on the cluster: exit %d\n%s", step, code, out)
		}
		// Each node's bus demands a client certificate: begin proves by
		// handshake that it takes one of either CA, finish that it takes
		// the new CA's and refuses the old one's.
		want := map[string]string{"begin": "old-ca-client-accepted", "finish": "old-ca-client-refused"}[step]
		if n := countChecks(r, want); want != "" && n != 3 {
			t.Fatalf("rotate-ca %s: %d %s checks, want one per node\n%s", step, n, want, out)
		}
		w.opened(t, 3)
	}
	w.finish(t)
	var unknown x509.UnknownAuthorityError
	for _, a := range addrs {
		if err := handshake(caBefore, a); !errors.As(err, &unknown) {
			t.Fatalf("after the rotation %s accepts a client that trusts only the old CA: %v", a, err)
		}
	}
	if rep := certs.CheckDir(certDir, certs.CheckOptions{}); !rep.OK {
		t.Fatalf("certs check after the rotation: %+v", rep)
	}
	if code, out, _ := runCLI(t, "status", "--dir", dir); code != 0 || strings.Count(out, " master ") != 3 {
		t.Fatalf("status after the rotation: exit %d\n%s", code, out)
	}
}

// The restart order for Sentinels that still serve the old certificate:
// one at a time, in port order, each restarted by up, which waits until
// it has rejoined; a Sentinel that serves the new one already is left out.
func TestSentinelRestartOrder(t *testing.T) {
	t.Parallel()
	targets := &reloadTargets{nodes: []certreload.Node{{Addr: "127.0.0.1:6400"}, {Addr: "127.0.0.1:6401"}}, upDir: "dep"}
	r := reloadReport{OK: true, Nodes: []certreload.Result{{Status: certreload.Reloaded}, {Status: certreload.Reloaded}},
		Sentinels: []sentinelCert{{Addr: "127.0.0.1:26380", Pid: 11}, {Addr: "127.0.0.1:26381", Pid: 12, Current: true}, {Addr: "127.0.0.1:26382", Pid: 13}}}
	next := reloadNext(r, targets)
	first := strings.Index(next, "1. kill 11 (the Sentinel on 127.0.0.1:26380)")
	second := strings.Index(next, "2. kill 13 (the Sentinel on 127.0.0.1:26382)")
	if first < 0 || second < first || strings.Contains(next, "kill 12") || !strings.Contains(next, "`redsafe up --sentinel --replicas 1 --port 6400 --dir dep`") ||
		!strings.Contains(next, "cannot reload one") {
		t.Fatalf("restart order:\n%s", next)
	}
	r.Sentinels[0].Current, r.Sentinels[2].Current = true, true
	if next := reloadNext(r, targets); !strings.HasPrefix(next, "done: every data node (2)") {
		t.Fatalf("nothing to restart:\n%s", next)
	}
}

// TestCertsReloadEnvFile: with a service's env file naming a cluster,
// reload finds every node (masters and replicas) from the one it names
// and reloads each from the files that node names, here one set per node.
func TestCertsReloadEnvFile(t *testing.T) {
	t.Parallel()
	adminPW, appPW := redsafe.GeneratePassword(redsafe.Production), redsafe.GeneratePassword(redsafe.Production)
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 2, Replicas: 1, Users: []redisserver.User{
		{Name: "admin", Password: adminPW, Rules: "~* &* +@all"},
		{Name: "app", Password: appPW, Rules: "~* +@all -@dangerous"},
	}})
	write := startRotationFiles(t)
	adminFile := write("admin.password", adminPW+"\n")
	envFile := write(".env.secure", fmt.Sprintf("ENVIRONMENT=production\nREDIS_URL='%s'\nREDIS_PASSWORD_FILE=%s\nREDIS_ENCRYPTION_KEY=%s\nREDIS_TLS_CA_CERT=%s\n",
		cl.URL("app"), write("app.password", appPW+"\n"), seal.GenerateKey().Encode(), cl.CAFile))
	want := map[string]string{}
	for _, s := range cl.Nodes {
		p, err := cl.CA.IssueServer([]string{"localhost", "127.0.0.1", "::1"}, certs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := certs.WriteCert(s.CertFile, p.CertPEM); err != nil {
			t.Fatal(err)
		}
		if err := certs.WriteKey(s.KeyFile, p.KeyPEM); err != nil {
			t.Fatal(err)
		}
		want[s.Addr] = certreload.SerialHex(p.Cert)
	}
	// Without a CA file (development allows one) nodes would be verified
	// against the system roots, and a node the cluster names with a public
	// certificate would get the admin password: refused before any
	// connection.
	noCA := write(".env.noca", fmt.Sprintf("ENVIRONMENT=development\nREDIS_URL='%s'\nREDIS_PASSWORD_FILE=%s\nREDIS_ENCRYPTION_KEY=%s\n",
		cl.URL("app"), write("app2.password", appPW+"\n"), seal.GenerateKey().Encode()))
	if code, out, errOut := runCLI(t, "certs", "reload", "--env-file", noCA, "--admin-password-file", adminFile); code != 1 || out != "" ||
		!strings.Contains(errOut, "names no CA file") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("certs reload without a CA file: exit %d\n%s\n%s", code, out, errOut)
	}
	code, r, out, errOut := reloadJSON(t, "--env-file", envFile, "--admin-password-file", adminFile, "--json")
	if code != 0 || !r.OK || len(r.Nodes) != 4 {
		t.Fatalf("certs reload --env-file: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, n := range r.Nodes {
		if n.Status != certreload.Reloaded || n.After.Serial != want[n.Addr] {
			t.Fatalf("%s: %+v, want serial %s", n.Addr, n, want[n.Addr])
		}
		if got := freshSerial(t, cl.CAFile, n.Addr); got != want[n.Addr] {
			t.Fatalf("%s serves %s, want %s", n.Addr, got, want[n.Addr])
		}
	}
	if strings.Contains(out+errOut, adminPW) || strings.Contains(out+errOut, appPW) {
		t.Fatal("a password in the output")
	}
}

// TestCertsReloadSentinel: on one `up --sentinel --replicas 1`, first
// through the service's env file (env-file: reloadSentinelEnvFile), then
// with --dir (dir: reloadSentinelDir). A Sentinel deployment takes seconds
// to start: both share it, and each renews the certificate itself.
func TestCertsReloadSentinel(t *testing.T) {
	t.Parallel()
	redisserver.RedisServerPath(t)
	dir := filepath.Join(t.TempDir(), "rs")
	base := freePortBase(t, 3, 0, sentinelPortOffset)
	t.Cleanup(func() { runCLI(t, "down", "--dir", dir) })
	up := []string{"up", "--sentinel", "--replicas", "1", "--dir", dir, "--port", strconv.Itoa(base), "--timeout", "30s"}
	if code, out, errOut := runCLI(t, up...); code != 0 {
		t.Fatalf("up --sentinel: exit %d\n%s\n%s", code, out, errOut)
	}
	if !t.Run("env-file", func(t *testing.T) { reloadSentinelEnvFile(t, dir, base) }) {
		return // what the Sentinels serve is unknown now
	}
	t.Run("dir", func(t *testing.T) { reloadSentinelDir(t, dir, base) })
}

// reloadSentinelDir: with --dir, reload reloads both data nodes, finds
// that every Sentinel still serves an old certificate (a Sentinel cannot
// reload one) and prints the restart order; following its first step
// (kill that Sentinel, up again) makes it serve the new one, and the next
// reload leaves it out of the order.
func reloadSentinelDir(t *testing.T, dir string, base int) {
	certDir := filepath.Join(dir, "certs")
	caFile := filepath.Join(certDir, certs.CAFile)
	adminFile := filepath.Join(dir, "secrets", "admin.password")
	if code, out, errOut := runCLI(t, "certs", "renew", "--dir", certDir); code != 0 {
		t.Fatalf("certs renew: exit %d\n%s\n%s", code, out, errOut)
	}
	newSerial := serialOnDisk(t, certDir)
	code, r, out, errOut := reloadJSON(t, "--dir", dir, "--admin-password-file", adminFile, "--json")
	if code != 0 || !r.OK || len(r.Nodes) != 2 || len(r.Sentinels) != 3 {
		t.Fatalf("certs reload: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, n := range r.Nodes {
		if n.Status != certreload.Reloaded || n.After.Serial != newSerial {
			t.Fatalf("data node %+v", n)
		}
	}
	for _, s := range r.Sentinels {
		if s.Current || s.Served == nil || s.Served.Serial == newSerial || s.Pid == 0 {
			t.Fatalf("Sentinel %+v: it cannot have reloaded", s)
		}
	}
	first := r.Sentinels[0]
	printed := fmt.Sprintf("redsafe up --sentinel --replicas 1 --port %d --dir %s", base, dir)
	if !strings.Contains(r.Next, fmt.Sprintf("1. kill %d (the Sentinel on %s)", first.Pid, first.Addr)) || !strings.Contains(r.Next, "`"+printed+"`") {
		t.Fatalf("restart order:\n%s", r.Next)
	}

	// Its first step.
	if err := syscall.Kill(first.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	servers, err := upServers(dir)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, running := servers[0].Pid(); !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Sentinel did not stop")
		}
	}
	// The command as printed (its flags), with a timeout for the test.
	if code, out, errOut := runCLI(t, append(strings.Fields(printed)[1:], "--timeout", "30s")...); code != 0 {
		t.Fatalf("%s after stopping a Sentinel: exit %d\n%s\n%s", printed, code, out, errOut)
	}
	if got := freshSerial(t, caFile, first.Addr); got != newSerial {
		t.Fatalf("the restarted Sentinel serves %s, want %s", got, newSerial)
	}
	_, r, out, _ = reloadJSON(t, "--dir", dir, "--admin-password-file", adminFile, "--json")
	if !r.OK || !r.Sentinels[0].Current || r.Sentinels[1].Current || strings.Contains(r.Next, first.Addr) ||
		!strings.Contains(r.Next, fmt.Sprintf("1. kill %d (the Sentinel on %s)", r.Sentinels[1].Pid, r.Sentinels[1].Addr)) {
		t.Fatalf("after restarting the first Sentinel:\n%s", out)
	}
}
