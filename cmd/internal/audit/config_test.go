package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// hardened starts a server configured as `redsafe up` configures it: the
// redis.conf of serverconf.RedisConf and the ACL file of serverconf.ACL,
// with redisserver's own certificates, ports and files in place of up's.
func hardened(t *testing.T, env redsafe.Environment) (*redisserver.Server, serverconf.Users) {
	t.Helper()
	return hardenedWith(t, env, "")
}

// hardenedWith is hardened with the app user confined to keyPattern, as
// `redsafe conf --key-pattern` confines it.
func hardenedWith(t *testing.T, env redsafe.Environment, keyPattern string) (*redisserver.Server, serverconf.Users) {
	t.Helper()
	dir := t.TempDir()
	users := serverconf.NewUsers(env)
	spec := serverconf.Spec{Environment: env, TLSDir: filepath.Join(dir, "certs"), ACLFile: filepath.Join(dir, "users.acl"), DataDir: dir,
		KeyPattern: keyPattern}
	conf, err := serverconf.RedisConf(spec)
	if err != nil {
		t.Fatal(err)
	}
	acl, err := serverconf.ACL(spec, users)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec.ACLFile, acl, 0o600); err != nil {
		t.Fatal(err)
	}
	// redisserver owns these: its ports, certificates, files and process.
	owned := map[string]bool{"port": true, "tls-port": true, "tls-cert-file": true, "tls-key-file": true,
		"tls-ca-cert-file": true, "aclfile": true, "dir": true, "daemonize": true, "pidfile": true, "logfile": true}
	var extra []string
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || owned[f[0]] {
			continue
		}
		extra = append(extra, line)
	}
	extra = append(extra, fmt.Sprintf("aclfile %q", spec.ACLFile)) // after redisserver's own: the last one counts
	s := redisserver.Start(t, redisserver.Config{
		// redisserver authenticates as Users[0]: the admin of the ACL file.
		Users:              []redisserver.User{{Name: users.Admin.Name, Password: users.Admin.Password, Rules: serverconf.AdminRules}},
		DisableDefaultUser: true,
		ExtraConfig:        extra,
	})
	if got := s.Do(t, "CONFIG", "GET", "maxmemory-policy"); !strings.HasSuffix(got, "volatile-lru") {
		t.Fatalf("the hardened configuration did not load: maxmemory-policy %q", got)
	}
	return s, users
}

// The instance `redsafe up` makes, audited as its app user: nothing at high
// or above. 7.0.15 is affected by the 2025 Lua CVEs, but the app user may
// not run Lua, so server.version is medium.
func TestHardenedAsApp(t *testing.T) {
	t.Parallel()
	s, u := hardened(t, redsafe.Development)
	r := auditOK(t, tlsOptions(s, redsafe.Development, u.App.Name, u.App.Password), u.Admin.Password, u.Health.Password)
	noneAtOrAbove(t, r, sevError)
	wantContains(t, want(t, r, "server.version", sevWarning), "CVE-2025-49844", "app may not run EVAL")
	want(t, r, "tls.client-auth", sevInfo)
	want(t, r, "data.unencrypted", sevInfo) // nothing cached yet
	// The app user may not read the configuration: those checks are listed
	// as not seen, not as passed.
	wantBlind(t, r, "net.bind-all", "limits.maxclients", "limits.eviction", "config.dangerous-features",
		"auth.brute-force", "auth.default-user", "tls.plaintext-port", "tls.replication", "tls.cluster", "persistence.plaintext-dump")
	wantNone(t, r, "auth.none", "tls.disabled", "acl.dangerous-commands", "auth.weak-password", "tls.old-protocol")
}

// The same instance audited by its admin user sees everything, and every
// configuration check passes; only the admin's own rights are reported.
func TestHardenedAsAdmin(t *testing.T) {
	t.Parallel()
	s, u := hardened(t, redsafe.Production)
	r := auditOK(t, tlsOptions(s, redsafe.Production, u.Admin.Name, u.Admin.Password), u.App.Password, u.Health.Password)
	want(t, r, "acl.dangerous-commands", sevError) // the admin may; its fix says to keep it for operators
	want(t, r, "server.version", sevError)         // the admin may run Lua
	want(t, r, "tls.client-auth", sevNotice)
	wantNone(t, r, "audit.limited-visibility", "auth.none", "auth.default-user", "tls.disabled", "tls.plaintext-port",
		"tls.old-protocol", "net.protected-mode", "net.bind-all", "limits.maxclients", "limits.eviction",
		"config.dangerous-features", "tls.replication", "tls.cluster", "auth.replica-no-masterauth", "auth.brute-force",
		"persistence.plaintext-dump", "tls.cert-expiry", "tls.cert-weak", "tls.cert-hostname", "tls.cert-untrusted")
}

func TestEvictionAndDebugCommand(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{
		"maxmemory 64mb", "maxmemory-policy allkeys-lru", "enable-debug-command yes", "enable-module-command local", "maxclients 500"}})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantContains(t, want(t, r, "limits.eviction", sevWarning), "allkeys-lru")
	wantContains(t, want(t, r, "config.dangerous-features", sevError), "enable-debug-command is yes", "enable-module-command is local")
	wantNone(t, r, "limits.maxclients")
}

func TestBindAllInterfaces(t *testing.T) {
	t.Parallel()
	// A password-protected TLS server on every IPv4 interface, for the
	// milliseconds of the test.
	s := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{"bind 0.0.0.0"}})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantContains(t, want(t, r, "net.bind-all", sevWarning), "0.0.0.0")
	wantNone(t, r, "net.protected-mode")
}

// An application user with +@all: every dangerous command and every
// configuration setting are within its reach.
func TestAppUserWithEveryCommand(t *testing.T) {
	t.Parallel()
	app := redsafe.GeneratePassword(redsafe.Production)
	s := redisserver.Start(t, redisserver.Config{DisableDefaultUser: true, Users: []redisserver.User{
		{Name: "app", Password: app, Rules: "~* &* +@all"}}})
	r := auditOK(t, tlsOptions(s, redsafe.Production, "app", app))
	f := want(t, r, "acl.dangerous-commands", sevError)
	wantContains(t, f, "app may run FLUSHALL, FLUSHDB, CONFIG, DEBUG, MODULE, SHUTDOWN, MIGRATE, KEYS, SCRIPT, EVAL")
	wantNone(t, r, "auth.default-user", "auth.none", "audit.limited-visibility")

	// Confined, it may run none of them; the MULTI probe tells, where ACL
	// DRYRUN is refused.
	confined := redisserver.Start(t, redisserver.Config{DisableDefaultUser: true, Users: []redisserver.User{
		{Name: "admin", Password: app, Rules: "~* &* +@all"},
		{Name: "app", Password: app + "x", Rules: serverconf.AppRules("")}}})
	r = auditOK(t, tlsOptions(confined, redsafe.Production, "app", app+"x"), app)
	wantNone(t, r, "acl.dangerous-commands")
	if f, _ := r.Find("audit.limited-visibility"); strings.Contains(f.Evidence, "FLUSHALL") || strings.Contains(f.Evidence, "CONFIG,") {
		t.Errorf("FLUSHALL and CONFIG should be told by MULTI: %s", f.Evidence)
	}
}

// A TLS replica that replicates from a plaintext master without a password.
func TestReplicaInPlaintextWithoutMasterauth(t *testing.T) {
	t.Parallel()
	master := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	replica := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{
		fmt.Sprintf("replicaof 127.0.0.1 %d", master.Port)}})
	r := auditOK(t, tlsOptions(replica, redsafe.Development, "", replica.Password))
	wantContains(t, want(t, r, "tls.replication", sevError), master.Addr, "tls-replication no")
	wantContains(t, want(t, r, "auth.replica-no-masterauth", sevError), master.Addr)

	// With masterauth set, only the plaintext replication remains.
	secured := redisserver.Start(t, redisserver.Config{Plaintext: true})
	replica2 := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{
		fmt.Sprintf("replicaof 127.0.0.1 %d", secured.Port), fmt.Sprintf("masterauth %q", secured.Password)}})
	r = auditOK(t, tlsOptions(replica2, redsafe.Development, "", replica2.Password), secured.Password)
	want(t, r, "tls.replication", sevError)
	wantNone(t, r, "auth.replica-no-masterauth")
}

// A single cluster node shows the cluster bus setting.
func TestClusterBusInPlaintext(t *testing.T) {
	t.Parallel()
	bus := freePort(t)
	s := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{
		"cluster-enabled yes", "cluster-config-file nodes.conf", fmt.Sprintf("cluster-port %d", bus)}})
	r := auditOK(t, tlsOptions(s, redsafe.Development, "", s.Password))
	wantContains(t, want(t, r, "tls.cluster", sevError), fmt.Sprint(bus))

	tlsBus := freePort(t)
	s2 := redisserver.Start(t, redisserver.Config{ExtraConfig: []string{
		"cluster-enabled yes", "cluster-config-file nodes.conf", fmt.Sprintf("cluster-port %d", tlsBus), "tls-cluster yes"}})
	wantNone(t, auditOK(t, tlsOptions(s2, redsafe.Development, "", s2.Password)), "tls.cluster")
}
