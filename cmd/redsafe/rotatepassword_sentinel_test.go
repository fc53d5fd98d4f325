package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/passrotate"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// sentinelRotation is a Sentinel deployment with the users of a redsafe
// one, and the service's env file naming the first Sentinel only (the
// others are found through it).
type sentinelRotationEnv struct {
	sn                                  *redisserver.Sentinel
	appPW, adminPW, clientPW            string
	envFile, appFile, clientFile, admin string
	write                               func(name, content string) string
}

func startSentinelRotation(t *testing.T) sentinelRotationEnv {
	t.Helper()
	e := sentinelRotationEnv{appPW: redsafe.GeneratePassword(redsafe.Production), adminPW: redsafe.GeneratePassword(redsafe.Production), clientPW: redsafe.GeneratePassword(redsafe.Production)}
	e.sn = redisserver.StartSentinel(t, redisserver.SentinelConfig{
		Users: []redisserver.User{
			{Name: "admin", Password: e.adminPW, Rules: "~* &* +@all"},
			{Name: "app", Password: e.appPW, Rules: serverconf.AppRules("*")},
		},
		SentinelUsers: []redisserver.User{
			{Name: "admin", Password: e.adminPW, Rules: "+@all"},
			{Name: "client", Password: e.clientPW, Rules: "+@all"},
		},
	})
	rs := startRotationFiles(t)
	e.write = rs
	e.admin = rs("admin.password", e.adminPW+"\n")
	e.appFile = rs("app.password", e.appPW+"\n")
	e.clientFile = rs("sentinel-client.password", e.clientPW+"\n")
	e.envFile = rs(".env.secure", fmt.Sprintf("ENVIRONMENT=production\nREDIS_URL='rediss://app@%s/0?master_set=%s'\nREDIS_PASSWORD_FILE=%s\nREDIS_SENTINEL_USERNAME=client\nREDIS_SENTINEL_PASSWORD_FILE=%s\nREDIS_ENCRYPTION_KEY=%s\nREDIS_TLS_CA_CERT=%s\n",
		e.sn.Sentinels[0].Addr, e.sn.MasterSet, e.appFile, e.clientFile, seal.GenerateKey().Encode(), e.sn.CAFile))
	return e
}

func (e sentinelRotationEnv) dataNodes() []passrotate.Server {
	var out []passrotate.Server
	for _, n := range append([]*redisserver.Server{e.sn.Master}, e.sn.Replicas...) {
		out = append(out, passrotate.Server{Addr: n.Addr, TLS: n.TLSConfig()})
	}
	return out
}

func (e sentinelRotationEnv) sentinels() []passrotate.Server {
	var out []passrotate.Server
	for _, n := range e.sn.Sentinels {
		out = append(out, passrotate.Server{Addr: n.Addr, TLS: n.TLSConfig()})
	}
	return out
}

// TestRotatePasswordSentinel rotates, through a REDIS_URL naming one
// Sentinel, the application's user on the master and the replica, then
// the Sentinels' own client user on all three Sentinels, each new password
// written where the service reads it; --status covers every process; no
// output holds a password.
func TestRotatePasswordSentinel(t *testing.T) {
	t.Parallel()
	e := startSentinelRotation(t)
	secrets := []string{e.appPW, e.adminPW, e.clientPW}
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"rotate-password", "--env-file", e.envFile, "--admin-password-file", e.admin}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		for _, p := range secrets {
			if strings.Contains(out+errOut, p) {
				t.Fatalf("%v printed a password", args)
			}
		}
		return out
	}
	logins := func(nodes []passrotate.Server, user, pw string, want bool) {
		t.Helper()
		for _, n := range nodes {
			if err := n.Login(user, pw); (err == nil) != want {
				t.Fatalf("%s as %s: %v, want logging in %v", n.Addr, user, err, want)
			}
		}
	}

	out := run("--add")
	newApp := strings.TrimSpace(readFile(t, e.appFile))
	secrets = append(secrets, newApp)
	if newApp == e.appPW || !strings.Contains(out, e.sn.Replicas[0].Addr) {
		t.Fatalf("--add: the password file changed %v; output:\n%s", newApp != e.appPW, out)
	}
	logins(e.dataNodes(), "app", e.appPW, true)
	logins(e.dataNodes(), "app", newApp, true)

	var st passrotate.Result
	if err := json.Unmarshal([]byte(run("--status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 5 || st.Passwords != 2 {
		t.Fatalf("--status covers %d processes (want 2 data nodes and 3 Sentinels), %d passwords: %+v", len(st.Nodes), st.Passwords, st.Nodes)
	}
	for _, n := range st.Nodes {
		if n.Error != "" || (n.Role == "sentinel" && (n.MasterFlags != "master" || n.LogsInAs != e.sn.MonitorUser)) || (n.Role != "sentinel" && n.Passwords != 2) {
			t.Fatalf("--status: %+v", n)
		}
	}

	t.Logf("--add:\n%s--status:\n%s", out, run("--status"))
	t.Logf("--remove-old:\n%s", run("--remove-old"))
	logins(e.dataNodes(), "app", e.appPW, false)
	logins(e.dataNodes(), "app", newApp, true)

	// The Sentinels' own user, on every Sentinel.
	run("--add", "--sentinels")
	newClient := strings.TrimSpace(readFile(t, e.clientFile))
	secrets = append(secrets, newClient)
	if newClient == e.clientPW {
		t.Fatal("--add --sentinels left the Sentinels' password file as it was")
	}
	logins(e.sentinels(), "client", e.clientPW, true)
	logins(e.sentinels(), "client", newClient, true)
	out = run("--remove-old", "--sentinels")
	if !strings.Contains(out, "SENTINEL FLUSHCONFIG") {
		t.Errorf("--remove-old --sentinels saved nothing:\n%s", out)
	}
	logins(e.sentinels(), "client", e.clientPW, false)
	logins(e.sentinels(), "client", newClient, true)

	// The user the Sentinels log into the data nodes as: its password
	// file, every data node, every Sentinel's auth-pass.
	monitorFile := e.write("sentinel.password", e.sn.MonitorPassword+"\n")
	secrets = append(secrets, e.sn.MonitorPassword)
	out = run("--add", "--user", e.sn.MonitorUser, "--password-file", monitorFile)
	newMonitor := strings.TrimSpace(readFile(t, monitorFile))
	secrets = append(secrets, newMonitor)
	if newMonitor == e.sn.MonitorPassword || strings.Count(out, "auth-pass set") != 3 || !strings.Contains(out, "--user "+e.sn.MonitorUser+" --password-file "+monitorFile) {
		t.Fatalf("--add --user %s: the file changed %v; output:\n%s", e.sn.MonitorUser, newMonitor != e.sn.MonitorPassword, out)
	}
	run("--remove-old", "--user", e.sn.MonitorUser, "--password-file", monitorFile)
	logins(e.dataNodes(), e.sn.MonitorUser, e.sn.MonitorPassword, false)
	logins(e.dataNodes(), e.sn.MonitorUser, newMonitor, true)

	// The Sentinels log into each other as sentinel-peer: ACL SETUSER alone
	// would cut them off from each other, so it is refused.
	peerFile := e.write("peer.password", redsafe.GeneratePassword(redsafe.Production)+"\n")
	code, _, errOut := runCLI(t, "rotate-password", "--add", "--sentinels", "--user", "sentinel-peer", "--password-file", peerFile, "--env-file", e.envFile, "--admin-password-file", e.admin)
	if code != 1 || !strings.Contains(errOut, "sentinel-user") {
		t.Fatalf("rotating the Sentinels' peer user: exit %d: %s", code, errOut)
	}
}

// TestRotatePasswordSentinelNodeDown: with the replica down, --add stops
// at it and writes no new password to the service's file, --remove-old
// refuses, and the old password keeps logging in on the master; rotating
// the Sentinels' monitor user needs the file of its password.
func TestRotatePasswordSentinelNodeDown(t *testing.T) {
	t.Parallel()
	e := startSentinelRotation(t)
	newFile := e.write("next.password", redsafe.GeneratePassword(redsafe.Production)+"\n")
	code, out, errOut := runCLI(t, "rotate-password", "--add", "--env-file", e.envFile, "--admin-password-file", e.admin, "--new-password-file", newFile)
	if code != 0 {
		t.Fatalf("--add: exit %d\n%s%s", code, out, errOut)
	}
	master := e.dataNodes()[0]
	e.sn.Replicas[0].Stop()

	code, _, errOut = runCLI(t, "rotate-password", "--remove-old", "--env-file", e.envFile, "--admin-password-file", e.admin)
	if code != 1 || !strings.Contains(errOut, e.sn.Replicas[0].Addr) || !strings.Contains(errOut, "refusing to remove") {
		t.Fatalf("--remove-old with the replica down: exit %d: %s", code, errOut)
	}
	if err := master.Login("app", e.appPW); err != nil {
		t.Fatalf("the old password on the master after a refused --remove-old: %v", err)
	}

	before := readFile(t, e.appFile)
	code, _, errOut = runCLI(t, "rotate-password", "--add", "--env-file", e.envFile, "--admin-password-file", e.admin)
	if code != 1 || !strings.Contains(errOut, e.sn.Replicas[0].Addr) || !strings.Contains(errOut, "--status") {
		t.Fatalf("--add with the replica down: exit %d: %s", code, errOut)
	}
	if readFile(t, e.appFile) != before {
		t.Fatal("a failed --add wrote a new password to the service's file")
	}

	code, _, errOut = runCLI(t, "rotate-password", "--add", "--user", e.sn.MonitorUser, "--env-file", e.envFile, "--admin-password-file", e.admin)
	if code != 2 || !strings.Contains(errOut, "--password-file") {
		t.Fatalf("--add --user %s without --password-file: exit %d: %s", e.sn.MonitorUser, code, errOut)
	}
}
