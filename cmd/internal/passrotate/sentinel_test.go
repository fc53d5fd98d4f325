package passrotate

import (
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// sentinelDeployment starts a master, a replica and three Sentinels, and
// finds them from the first Sentinel alone, as the admin user.
func sentinelDeployment(t *testing.T) (*redisserver.Sentinel, *SentinelDeployment) {
	t.Helper()
	adminPW := redsafe.GeneratePassword(redsafe.Production)
	sn := redisserver.StartSentinel(t, redisserver.SentinelConfig{Users: []redisserver.User{
		{Name: "admin", Password: adminPW, Rules: "~* &* +@all"},
		{Name: "app", Password: redsafe.GeneratePassword(redsafe.Production), Rules: "~* +@all -@dangerous"},
	}})
	master := Server{Addr: sn.Master.Addr, TLS: sn.Master.TLSConfig(), AdminUser: "admin", AdminPassword: adminPW}
	seed := Server{Addr: sn.Sentinels[0].Addr, TLS: sn.Sentinels[0].TLSConfig(), AdminUser: "admin", AdminPassword: adminPW}
	d, err := FindSentinelDeployment(master, []Server{seed}, sn.MasterSet)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Data) != 2 || d.Data[1].Addr != sn.Replicas[0].Addr || len(d.Sentinels) != 3 {
		t.Fatalf("found %d data nodes and %d Sentinels, want the master, its replica %s and 3 Sentinels", len(d.Data), len(d.Sentinels), sn.Replicas[0].Addr)
	}
	return sn, d
}

// TestRotateSentinelMonitorUser rotates the user the Sentinels log into
// the data nodes as: it is found as theirs on the master (and the
// application's user is not), the new password is added on the master and
// the replica and made every Sentinel's auth-pass, and once the old one is
// removed the Sentinels still log in (their links cut and re-made with
// only the new password valid) and still fail over: the promoted replica
// is reached, and the Sentinels see it healthy.
func TestRotateSentinelMonitorUser(t *testing.T) {
	t.Parallel()
	sn, d := sentinelDeployment(t)
	user, oldPW, newPW := sn.MonitorUser, sn.MonitorPassword, redsafe.GeneratePassword(redsafe.Production)
	for u, want := range map[string]bool{user: true, "app": false} {
		if got, err := d.SentinelsLogInAs(u, true); err != nil || got != want {
			t.Fatalf("SentinelsLogInAs(%s) = %v, %v; want %v", u, got, err, want)
		}
	}

	if _, err := d.AddMonitor(user, oldPW, newPW); err != nil {
		t.Fatal(err)
	}
	for _, n := range d.Data {
		for _, pw := range []string{oldPW, newPW} {
			if err := n.Login(user, pw); err != nil {
				t.Fatalf("%s after AddMonitor: %v", n.Addr, err)
			}
		}
	}
	res, err := d.RemoveOthersMonitor(user, newPW)
	if err != nil || res.Removed != 2 {
		t.Fatalf("RemoveOthersMonitor = %+v, %v", res, err)
	}
	for _, n := range d.Data {
		if n.Login(user, oldPW) == nil {
			t.Fatalf("the old password still logs in on %s", n.Addr)
		}
	}

	// Only the new password is valid now: cut every Sentinel link, and
	// each Sentinel must log in again with the password it was given.
	for _, n := range append([]*redisserver.Server{sn.Master}, sn.Replicas...) {
		n.Do(t, "CLIENT", "KILL", "USER", user)
	}
	cut := time.Now()
	for _, s := range d.Sentinels {
		waitHealthy(t, d, s, cut)
	}

	// A failover still works: the Sentinels promote the replica (as the
	// rotated user) and name it.
	if r := sn.Sentinels[0].Do(t, "SENTINEL", "FAILOVER", sn.MasterSet); r != "+OK" {
		t.Fatalf("SENTINEL FAILOVER: %s", r)
	}
	promoted := sn.Replicas[0]
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr, _ := sn.Sentinels[0].Ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sn.MasterSet)
		role, _ := promoted.Ask("ROLE")
		if strings.Join(strings.Split(addr, "\n"), ":") == promoted.Addr && strings.HasPrefix(role, "master") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the rotation the failover did not promote %s: Sentinel names %q, its role %q", promoted.Addr, addr, role)
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := time.Now()
	for _, s := range d.Sentinels {
		waitHealthy(t, d, s, after)
	}
	if err := d.Data[1].Login(user, newPW); err != nil {
		t.Fatalf("the promoted master: %v", err)
	}
}

// waitHealthy waits until Sentinel s sees the master and its replicas
// healthy with a PING answered after since.
func waitHealthy(t *testing.T, d *SentinelDeployment, s Server, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := d.healthySince(s, time.Since(since))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Sentinel %s: %v", s.Addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSentinelAuthPassRefusedIsRolledBack: a Sentinel given an auth-pass
// that does not log in (the data nodes lack it) never sees the master
// healthy again with it; the step fails naming the Sentinel, sets its
// auth-pass back to the current password, and changes no other Sentinel.
func TestSentinelAuthPassRefusedIsRolledBack(t *testing.T) {
	t.Parallel()
	sn, d := sentinelDeployment(t)
	d.Settle = 2500 * time.Millisecond
	wrong := redsafe.GeneratePassword(redsafe.Production)
	var r Result
	err := d.setAuthPass(&r, wrong, sn.MonitorPassword)
	if err == nil || !strings.Contains(err.Error(), d.Sentinels[0].Addr) || !strings.Contains(err.Error(), "set back") {
		t.Fatalf("setAuthPass with a password no data node has: %v", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), sn.MonitorPassword) {
		t.Fatal("the error holds a password")
	}
	if len(r.Steps) != 0 {
		t.Fatalf("steps after the first Sentinel failed: %v", r.Steps)
	}
	since := time.Now()
	for _, s := range d.Sentinels {
		waitHealthy(t, d, s, since)
	}
}
