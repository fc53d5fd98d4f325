package certreload

import (
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
)

var adminUser = redisserver.User{Name: "admin", Password: "certreload-test-admin-password-0123456789", Rules: "~* &* +@all"}

func admin() Admin { return Admin{User: adminUser.Name, Password: adminUser.Password} }

func nodeOf(s *redisserver.Server) Node { return Node{Addr: s.Addr, TLS: s.TLSConfig()} }

// served is the serial a fresh handshake sees on s.
func servedSerial(t *testing.T, s *redisserver.Server) string {
	t.Helper()
	c, err := Served(nodeOf(s), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return SerialHex(c)
}

// renewOn writes a new certificate for s from ca over s's files, and the
// key given (its own when key is nil), as `certs renew` replaces them.
func renewOn(t *testing.T, s *redisserver.Server, ca *certs.Authority, key []byte, o certs.Options, hosts ...string) *certs.Pair {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost"}
	}
	p, err := ca.IssueServer(hosts, o)
	if err != nil {
		t.Fatal(err)
	}
	if key == nil {
		key = p.KeyPEM
	}
	if err := certs.WriteCert(s.CertFile, p.CertPEM); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteKey(s.KeyFile, key); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReloadStopsAtARefusedKey: three cluster nodes, each with its own
// renewed files; the second's key belongs to another certificate. The
// first reloads; Redis refuses the second, which goes on serving its old
// certificate; the third is not asked and serves its old one too, though
// its files on disk are good. Once the key is fixed, a second run reloads
// every node, the first again included (harmless).
func TestReloadStopsAtARefusedKey(t *testing.T) {
	t.Parallel()
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 3, Users: []redisserver.User{adminUser}})
	var nodes []Node
	var old []string
	for _, s := range cl.Nodes {
		nodes = append(nodes, nodeOf(s))
		old = append(old, servedSerial(t, s))
	}
	var fresh []*certs.Pair
	for i, s := range cl.Nodes {
		var key []byte
		if i == 1 {
			other, err := cl.CA.IssueServer([]string{"127.0.0.1"}, certs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			key = other.KeyPEM
		}
		fresh = append(fresh, renewOn(t, s, cl.CA, key, certs.Options{}))
	}

	res := ReloadAll(nodes, admin())
	if len(res) != 3 {
		t.Fatalf("%d results: %+v", len(res), res)
	}
	if r := res[0]; r.Status != Reloaded || r.After.Serial != SerialHex(fresh[0].Cert) || r.Before.Serial != old[0] {
		t.Fatalf("node 0: %+v", r)
	}
	if r := res[1]; r.Status != Refused || r.After == nil || r.After.Serial != old[1] || !strings.Contains(r.Detail, "still serves serial "+old[1]) || !strings.Contains(r.Detail, "does not match") {
		t.Fatalf("node 1 (mismatched key): %+v", r)
	}
	if r := res[2]; r.Status != Untouched || r.Before != nil {
		t.Fatalf("node 2: %+v", r)
	}
	if got := servedSerial(t, cl.Nodes[0]); got != SerialHex(fresh[0].Cert) {
		t.Errorf("node 0 serves %s, want the new %s", got, SerialHex(fresh[0].Cert))
	}
	for i := 1; i < 3; i++ {
		if got := servedSerial(t, cl.Nodes[i]); got != old[i] {
			t.Errorf("node %d serves %s, want its old %s", i, got, old[i])
		}
	}
	// The refused node still answers commands, on new connections too.
	if r := cl.Nodes[1].Do(t, "PING"); r != "+PONG" {
		t.Fatalf("node 1 after the refused reload: %s", r)
	}

	if err := certs.WriteKey(cl.Nodes[1].KeyFile, fresh[1].KeyPEM); err != nil {
		t.Fatal(err)
	}
	for i, r := range ReloadAll(nodes, admin()) {
		if r.Status != Reloaded || r.After.Serial != SerialHex(fresh[i].Cert) {
			t.Fatalf("second run, node %d: %+v", i, r)
		}
	}
	if r := cl.Nodes[0].Do(t, "CLUSTER", "INFO"); !strings.Contains(r, "cluster_state:ok") {
		t.Fatalf("cluster after the reloads: %s", r)
	}
}

// TestReloadRefusesACertificateClientsWouldRefuse: a renewal for another
// host, or one already expired, is refused before CONFIG SET: the node
// would otherwise serve a certificate that every new client rejects.
func TestReloadRefusesACertificateClientsWouldRefuse(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{adminUser}, DisableDefaultUser: true})
	before := servedSerial(t, s)
	past := time.Now().Add(-48 * time.Hour)
	for name, o := range map[string]struct {
		hosts []string
		opts  certs.Options
	}{
		"wrong host": {[]string{"redis.example"}, certs.Options{}},
		"expired":    {[]string{"127.0.0.1"}, certs.Options{NotBefore: past, NotAfter: past.Add(time.Hour)}},
	} {
		renewOn(t, s, s.CA, nil, o.opts, o.hosts...)
		r := Reload(nodeOf(s), admin())
		if r.Status != Failed || !strings.Contains(r.Detail, "would be refused by the node's clients") || !strings.Contains(r.Detail, "nothing was changed") {
			t.Errorf("%s: %+v", name, r)
		}
		if got := servedSerial(t, s); got != before {
			t.Errorf("%s: the node serves %s now, not its old %s", name, got, before)
		}
	}
	// A certificate from another CA (one the clients do not trust) too.
	other, err := certs.NewAuthority("another CA", certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	renewOn(t, s, other, nil, certs.Options{})
	if r := Reload(nodeOf(s), admin()); r.Status != Failed || servedSerial(t, s) != before {
		t.Errorf("another CA's certificate: %+v", r)
	}
	// A good one goes through, and the wrong admin password changes nothing.
	good := renewOn(t, s, s.CA, nil, certs.Options{})
	bad := admin()
	bad.Password = "not-the-password"
	if r := Reload(nodeOf(s), bad); r.Status != Failed || strings.Contains(r.Detail, bad.Password) || servedSerial(t, s) != before {
		t.Errorf("wrong admin password: %+v", r)
	}
	if r := Reload(nodeOf(s), admin()); r.Status != Reloaded || r.After.Serial != SerialHex(good.Cert) {
		t.Fatalf("good renewal: %+v", r)
	}
}

// TestReloadReplacesAnExpiredCertificate: the node serves a certificate
// that expired an hour ago, which is when a renewal is needed most. The
// admin connection accepts it (same CA, same host: only the dates are
// wrong); the reload installs the renewed one, which new clients verify
// with the real clock. A server whose certificate comes from another CA
// is refused before AUTH, expired or not.
func TestReloadReplacesAnExpiredCertificate(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-48 * time.Hour)
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{adminUser}, DisableDefaultUser: true,
		CertNotBefore: past, CertNotAfter: time.Now().Add(-time.Hour)})
	if _, err := Served(nodeOf(s), 5*time.Second); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a client with the real clock accepted the expired certificate: %v", err)
	}
	stranger := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{adminUser}, DisableDefaultUser: true})
	wrongCA := Node{Addr: s.Addr, TLS: stranger.TLSConfig()}
	if r := Reload(wrongCA, admin()); r.Status != Failed || !strings.Contains(r.Detail, "connecting") || !strings.Contains(r.Detail, "unknown authority") {
		t.Fatalf("a node whose certificate another CA signed: %+v", r)
	}
	good := renewOn(t, s, s.CA, nil, certs.Options{})
	r := Reload(nodeOf(s), admin())
	if r.Status != Reloaded || r.After.Serial != SerialHex(good.Cert) || r.Before == nil || !r.Before.NotAfter.Before(time.Now()) {
		t.Fatalf("reloading over an expired certificate: %+v", r)
	}
	if got := servedSerial(t, s); got != SerialHex(good.Cert) {
		t.Fatalf("serves %s, want %s", got, SerialHex(good.Cert))
	}
}

// TestReloadRefusesALongExpiredCertificate: a certificate that expired
// more than expiredGrace ago is not accepted for the admin's connection:
// its key may have leaked since, and nothing revokes an expired
// certificate. Nothing is sent and nothing changes.
func TestReloadRefusesALongExpiredCertificate(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{adminUser}, DisableDefaultUser: true,
		CertNotBefore: time.Now().Add(-400 * 24 * time.Hour), CertNotAfter: time.Now().Add(-expiredGrace - 24*time.Hour)})
	renewOn(t, s, s.CA, nil, certs.Options{})
	if r := Reload(nodeOf(s), admin()); r.Status != Failed || !strings.Contains(r.Detail, "expired") {
		t.Fatalf("a certificate expired 31 days ago: %+v", r)
	}
}
