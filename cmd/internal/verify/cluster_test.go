package verify

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestVerifyEveryNode: on a cluster each node answers for itself, the
// subject of its own results, and a node whose certificate does not cover
// its own address fails tls.handshake by name while the others pass.
func TestVerifyEveryNode(t *testing.T) {
	t.Parallel()
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 3,
		Users: []redisserver.User{{Name: "admin", Password: adminPassword, Rules: "~* &* +@all"}, {Name: "app", Password: appPassword, Rules: appRules + " +cluster|shards +cluster|slots"},
			// narrow may not ask which nodes the cluster has.
			{Name: "narrow", Password: appPassword, Rules: appRules + " -cluster"}},
		Node: func(i int, c *redisserver.Config) {
			if i == 2 {
				c.Hosts = []string{"elsewhere.example"}
			}
		},
	})
	bad := cl.Masters[2]
	target := Target{Options: redsafe.Options{
		Environment: redsafe.Production, URL: cl.Masters[0].URL("app", ""), Password: appPassword,
		EncryptionKey: seal.GenerateKey().Encode(), TLS: redsafe.TLSOptions{CAFile: cl.CAFile}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results := Run(ctx, target, nil)
	bySubject := map[string]map[string]Status{}
	for _, r := range results {
		if bySubject[r.Subject] == nil {
			bySubject[r.Subject] = map[string]Status{}
		}
		bySubject[r.Subject][r.ID] = r.Severity
	}
	if len(bySubject) != 3 {
		t.Fatalf("results about %d nodes, want 3: %v", len(bySubject), bySubject)
	}
	if got := bySubject[bad.Addr]["tls.handshake"]; got != Fail {
		t.Fatalf("tls.handshake of %s = %s, want FAIL", bad.Addr, got)
	}
	for _, m := range cl.Masters[:2] {
		for id, s := range bySubject[m.Addr] {
			// The library's round trip is about the whole cluster: its
			// probe key may land on the bad node, which the library refuses.
			if id == "data.encrypted" {
				continue
			}
			if s != Pass {
				t.Errorf("%s %s = %s, want ok", m.Addr, id, s)
			}
		}
	}

	// A user that may not list the nodes: verify says only the URL's node
	// was checked, instead of passing the cluster on one node's word.
	target.Options.URL = cl.Masters[0].URL("narrow", "")
	narrow := Run(ctx, target, nil)
	var warned bool
	for _, r := range narrow {
		if r.Subject != cl.Masters[0].Addr {
			t.Errorf("a result about %s, though the nodes could not be listed", r.Subject)
		}
		if r.ID == "cluster.nodes" && r.Severity == Warn {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no cluster.nodes warning when the user may not list the nodes: %+v", narrow)
	}
}
