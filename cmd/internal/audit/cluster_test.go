package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestAuditCluster: the audit walks every node of a cluster (masters and
// replicas, found through CLUSTER SLOTS), and a finding about one
// misconfigured node names that node as its subject, not the seed.
func TestAuditCluster(t *testing.T) {
	t.Parallel()
	adminPW := redsafe.GeneratePassword(redsafe.Production)
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 3, Replicas: 1,
		Users: []redisserver.User{{Name: "admin", Password: adminPW, Rules: "~* &* +@all"}},
		Node: func(i int, c *redisserver.Config) {
			switch i {
			case 4: // a replica
				c.ExtraConfig = append(c.ExtraConfig, "enable-debug-command yes")
			case 5: // a replica that serves plaintext too
				c.ExtraPlaintextPort = true
			case 2: // a master with a user the others lack
				c.Users = append(append([]redisserver.User{}, c.Users...), redisserver.User{Name: "leftover", Password: "leftover-password-1234567890", Rules: "+ping"})
			}
		},
	})
	bad := cl.Nodes[4]
	o := tlsOptions(cl.Masters[0], redsafe.Development, "admin", adminPW)
	rep := audit(t, o)
	if rep.Err != nil {
		t.Fatalf("audit: %v", rep.Err)
	}
	if len(rep.Nodes) != 6 || rep.Nodes[0] != cl.Masters[0].Addr {
		t.Fatalf("audited nodes %v, want all 6, the URL's first", rep.Nodes)
	}
	var subjects []string
	for _, f := range rep.Findings {
		if f.ID == "config.dangerous-features" {
			subjects = append(subjects, f.Subject)
		}
	}
	if !slices.Equal(subjects, []string{bad.Addr}) {
		t.Fatalf("config.dangerous-features about %v, want only the misconfigured node %s", subjects, bad.Addr)
	}
	var plain []string
	for _, f := range rep.Findings {
		if f.ID == "tls.plaintext-port" && f.Severity == sevError {
			plain = append(plain, f.Subject)
		}
	}
	if !slices.Equal(plain, []string{cl.Nodes[5].Addr}) {
		t.Fatalf("tls.plaintext-port about %v, want only the replica serving plaintext, %s", plain, cl.Nodes[5].Addr)
	}
	var differ []string
	for _, f := range rep.Findings {
		if f.ID == "cluster.acl-differs" {
			differ = append(differ, f.Subject)
			if !strings.Contains(f.Evidence, "leftover") || strings.Contains(f.Evidence, "#") {
				t.Errorf("evidence %q: want the user's name, never a hash", f.Evidence)
			}
		}
	}
	if !slices.Equal(differ, []string{cl.Nodes[2].Addr}) {
		t.Fatalf("cluster.acl-differs about %v, want only %s", differ, cl.Nodes[2].Addr)
	}
	// Every node is the subject of findings of its own.
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		seen[f.Subject] = true
	}
	for _, n := range cl.Nodes {
		if !seen[n.Addr] {
			t.Errorf("no finding names %s: was it audited?", n.Addr)
		}
	}
}
