package redsafe

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// The library through Redis Sentinel: a TLS-only master, a replica and
// three Sentinels, the default user off everywhere.

var (
	sentinelAppPassword    = GeneratePassword(Production)
	sentinelClientPassword = GeneratePassword(Production)
)

func startSentinel(t *testing.T) *redisserver.Sentinel {
	t.Helper()
	return redisserver.StartSentinel(t, sentinelDeployment())
}

// sentinelDeployment is the deployment of startSentinel, for a test that
// changes some of it.
func sentinelDeployment() redisserver.SentinelConfig {
	return redisserver.SentinelConfig{
		Users: []redisserver.User{
			{Name: "admin", Password: GeneratePassword(Production), Rules: "~* &* +@all"},
			{Name: "app", Password: sentinelAppPassword, Rules: "~* +@all -@dangerous +role"}, // rueidis asks ROLE of the master it is sent to
		},
		// The Sentinels know a client user, never the application's.
		SentinelUsers: []redisserver.User{
			{Name: "admin", Password: GeneratePassword(Production), Rules: "+@all"},
			// What a client needs of a Sentinel: its commands, and the
			// channels rueidis subscribes to for failovers.
			{Name: "client", Password: sentinelClientPassword, Rules: "+@all " + sentinelClientChannels},
		},
	}
}

// sentinelClientChannels are the channels rueidis subscribes to on a
// Sentinel: without them it hears of no failover and relies on asking.
const sentinelClientChannels = "&+sentinel &+slave &-sdown &+sdown &+switch-master &+reboot"

func sentinelURL(sn *redisserver.Sentinel, user string) string {
	var q []string
	for _, s := range sn.Sentinels[1:] {
		q = append(q, "addr="+s.Addr)
	}
	return fmt.Sprintf("rediss://%s@%s/0?master_set=%s&%s", user, sn.Sentinels[0].Addr, sn.MasterSet, strings.Join(q, "&"))
}

func sentinelOptions(sn *redisserver.Sentinel) Options {
	return Options{
		Environment: Production, URL: sentinelURL(sn, "app"), Password: sentinelAppPassword,
		EncryptionKey: testKey, TLS: TLSOptions{CAFile: sn.CAFile},
		Sentinel:    SentinelOptions{Username: "client", Password: sentinelClientPassword},
		DialTimeout: 2 * time.Second, Logger: discardLogger,
	}
}

// TestSentinel: Open finds the master through the Sentinels and seals
// what it writes there. With the application's password read from a file
// (a credentials function, which rueidis copies to the Sentinels'
// connections) as with a fixed one, the Sentinels are sent their own
// user's credentials and never the application's: no Sentinel logs a
// failed login. Without the Sentinels' password, production refuses to
// start.
func TestSentinel(t *testing.T) {
	t.Parallel()
	sn := startSentinel(t)
	ctx := testContext(t)
	pwFile := filepath.Join(t.TempDir(), "app.password")
	if err := os.WriteFile(pwFile, []byte(sentinelAppPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinelFile := filepath.Join(t.TempDir(), "sentinel.password")
	if err := os.WriteFile(sentinelFile, []byte(sentinelClientPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fixed := sentinelOptions(sn)
	// Both passwords from files, as the environment contract has them.
	fromFile := OptionsFromLookup(func(k string) (string, bool) {
		v, ok := map[string]string{
			"ENVIRONMENT": "production", EnvURL: sentinelURL(sn, "app"), EnvPasswordFile: pwFile,
			EnvEncryptionKey: testKey, EnvTLSCACert: sn.CAFile,
			EnvSentinelUsername: "client", EnvSentinelPasswordFile: sentinelFile,
		}[k]
		return v, ok
	})
	fromFile.Logger, fromFile.DialTimeout = discardLogger, 2*time.Second
	for name, o := range map[string]Options{"a fixed password": fixed, "a password file": fromFile} {
		c := openCache(t, o)
		key := "sentinel:" + strings.ReplaceAll(name, " ", "-")
		if err := c.Set(ctx, key, []byte("through the Sentinels"), time.Minute); err != nil {
			t.Fatalf("%s: Set: %v", name, err)
		}
		if got, err := c.Get(ctx, key); err != nil || string(got) != "through the Sentinels" {
			t.Fatalf("%s: Get = %q, %v", name, got, err)
		}
		if raw := sn.Master.Do(t, "GET", key); !strings.HasPrefix(raw, "gAAAAA") {
			t.Fatalf("%s: the master holds %q, want a Fernet token", name, raw)
		}
		c.Close() // before the rotation below, which a fixed password would not survive
	}
	for _, s := range sn.Sentinels {
		// Nothing refused: no login with the application's credentials or
		// a stale password, no command or channel the client needs.
		if log := s.Do(t, "ACL", "LOG"); strings.Contains(log, "username\napp\n") || strings.Contains(log, "username\nclient\n") {
			t.Errorf("Sentinel %s refused the Cache something:\n%s", s.Addr, log)
		}
	}

	// What production refuses: Sentinels without a password, or with a
	// weak one, or reached without a CA file of the deployment's own (the
	// master is whatever host they name).
	for id, change := range map[string]func(*Options){
		"sentinel.no-password":    func(o *Options) { o.Sentinel = SentinelOptions{} },
		"sentinel.password-short": func(o *Options) { o.Sentinel.Password = "x7Kp2mQ9" },
		"sentinel.ca-required":    func(o *Options) { o.TLS.CAFile = "" },
	} {
		o := sentinelOptions(sn)
		change(&o)
		var ce *ConfigError
		if _, err := Open(ctx, o); !errors.As(err, &ce) || !strings.Contains(err.Error(), id) {
			t.Errorf("%s: Open = %v, want a *ConfigError naming it", id, err)
		}
	}
	// A Sentinel that refuses the Sentinels' password: the error names the
	// Sentinel and says which variables to check, not the application's.
	wrong := sentinelOptions(sn)
	wrong.Sentinel.Password = GeneratePassword(Production)
	_, err := Open(ctx, wrong)
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("a wrong Sentinel password: %v, want a *ConnectError", err)
	}
	if !errors.Is(err, ErrWrongPassword) || !strings.Contains(ce.Fix, EnvSentinelPassword) || !strings.Contains(sn.Sentinels[0].Addr+" "+sn.Sentinels[1].Addr+" "+sn.Sentinels[2].Addr, ce.Addr) {
		t.Errorf("a wrong Sentinel password: %v at %s (fix %q)", err, ce.Addr, ce.Fix)
	}
	assertNotIn(t, "the error", err.Error(), wrong.Sentinel.Password)

	// The operator commands connect to one server directly: they are told
	// the URL names Sentinels instead of being handed one with the
	// application's password.
	if _, err := sentinelOptions(sn).Connection(); !errors.Is(err, ErrSentinelConnection) {
		t.Errorf("Connection = %v, want ErrSentinelConnection", err)
	}
}

// TestSentinelFailover: a failover the Sentinels run (SENTINEL FAILOVER)
// while a client writes and reads: calls go on against the new master,
// and the pause and the calls that failed in between are measured. A Get
// may find an earlier value than the Set it follows (a write the old
// master took after the replica was promoted is lost: replication is
// asynchronous), counted; never a value that was not written to the key.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	sn := startSentinel(t)
	c := openCache(t, sentinelOptions(sn))
	ctx := testContext(t)
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("f:%d", i)
	}
	stop := startCalls(t, ctx, c, keys)
	time.Sleep(200 * time.Millisecond)
	began := time.Now()
	if r := sn.Sentinels[0].Do(t, "SENTINEL", "FAILOVER", sn.MasterSet); r != "+OK" {
		t.Fatalf("SENTINEL FAILOVER: %s", r)
	}
	replica := sn.Replicas[0]
	// The Sentinels drop the promoted node's clients: the polls ask again.
	waitUntil(t, 30*time.Second, "the replica to be master", func() bool {
		role, _ := replica.Ask("ROLE")
		return strings.Contains(role, "master")
	})
	// Calls land on the new master: a key written after the switch is
	// there.
	waitUntil(t, 15*time.Second, "a write to reach the new master", func() bool {
		if err := c.Set(ctx, "after-failover", []byte("x"), time.Minute); err != nil {
			return false
		}
		v, _ := replica.Ask("GET", "after-failover")
		return strings.HasPrefix(v, "gAAAAA")
	})
	resumed := time.Since(began)
	time.Sleep(300 * time.Millisecond)
	o := stop()
	t.Logf("failover: writes on the new master %v after SENTINEL FAILOVER; %v", resumed.Round(time.Millisecond), o)
	if o.firstErr != nil && !errors.Is(o.firstErr, ErrUnreachable) && !errors.Is(o.firstErr, ErrTimeout) && !strings.Contains(o.firstErr.Error(), "READONLY") {
		t.Errorf("a call failed with %v, not a connection error a caller can retry", o.firstErr)
	}
}

// The Sentinels' password file is read again for every connection to a
// Sentinel, as REDIS_PASSWORD_FILE is for the data nodes: a rotated
// password is used without a restart. Only connections the dialer marked
// as a Sentinel's get it.
func TestSentinelPasswordFileReadAgain(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sentinel.password")
	first, second := GeneratePassword(Production), GeneratePassword(Production)
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, testCAPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Environment: Production, URL: "rediss://app@127.0.0.1:26379/0?master_set=cache", Password: GeneratePassword(Production),
		EncryptionKey: testKey, TLS: TLSOptions{CAFile: caFile}, Sentinel: SentinelOptions{Username: "client", PasswordFile: file}}
	s, r := newConfig(o)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	c := &Cache{}
	sentinel := sentinelAddr{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 26379}}
	for _, want := range []string{first, second} {
		if err := os.WriteFile(file, []byte(want+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cr, ok, err := c.sentinelCredentials(s, sentinel)
		if !ok || err != nil || cr.Username != "client" || cr.Password != want {
			t.Fatalf("sentinelCredentials = %v, %v, %v; want the file's password now", cr.Username, ok, err)
		}
	}
	if _, ok, _ := c.sentinelCredentials(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 26379}); ok {
		t.Error("a connection not marked as a Sentinel's got the Sentinel's credentials")
	}
}
