package migrate

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/seal"
)

// TestMigrateCluster: a single plaintext server into a three-master
// cluster, as the app user, every key reaching the master of its slot
// sealed and with its deadline; then that cluster, with a few keys of its
// own (plaintext strings, a hash, keys sharing a hash tag), back into a
// single server, walked master by master and resumed from the per-node
// checkpoint after a stop; and a run from a cluster into itself refused.
func TestMigrateCluster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cl := kt.StartCluster(t)
	app, admin, nodes := cl.App, cl.Admin, cl.Nodes
	adminC, err := admin.DialCluster(nodes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adminC.Close)

	// Single into the cluster.
	cfg := f.config(t)
	cfg.Dest, cfg.DestNodes = app, nodes
	rep, err := Run(kt.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encrypted != nStrings+2 || rep.AlreadyEncrypted != 2 || rep.Left.Total() != 3 || !rep.Complete {
		t.Errorf("into the cluster: %+v", rep.Counts)
	}
	if v := rep.Verification; v == nil || !v.OK || v.Matched != DefaultSample || v.DestinationKeys != nStrings+4 {
		t.Errorf("into the cluster: verification %+v", v)
	}
	f.dstC = adminC // checkDestination reads the cluster
	f.checkDestination(t, 0)
	perMaster := map[string]int{}
	for _, e := range f.strings {
		perMaster[cl.MasterOf(t, e.Key).Addr]++
	}
	if len(perMaster) != 3 {
		t.Fatalf("the keys are on %d masters, want 3", len(perMaster))
	}

	// The cluster's own keys: plaintext strings (two of them in one slot
	// through a hash tag, as multi-key users group them) and a hash.
	own := []kt.Entry{
		{Key: "{user42}:profile", Value: "alice", Deadline: time.Now().Add(time.Hour).UnixMilli()},
		{Key: "{user42}:token", Value: "t0k3n"},
		{Key: "plain:1", Value: "one"},
	}
	kt.Put(t, adminC, own)
	kt.Do(t, adminC, "HSET", "cart:7", "item", "book")
	f.strings = append(f.strings, own...)

	// The cluster back into a single server, stopped after its first
	// master, then resumed: every key once, the hash restored as it is.
	back := kt.Start(t, false)
	cfg = Config{Source: admin, SourceNodes: nodes, SourceOwners: cl.Owners, Dest: back.Admin, Sealer: f.sealer, Count: 1000,
		AllowUnencryptedTypes: true, StatePath: filepath.Join(t.TempDir(), "back.state")}
	stop := make(chan struct{})
	var once sync.Once
	cfg.Stop = stop
	cfg.Progress = func(p progress.Report) {
		if p.Fraction >= 1.0/3 {
			once.Do(func() { close(stop) })
		}
	}
	rep, err = Run(kt.Context(t), cfg)
	total := int64(nStrings + 4 + len(own) + 1)
	if !errors.Is(err, keyspace.ErrStopped) || rep.Scanned == 0 || rep.Scanned >= total {
		t.Fatalf("stopped run: %+v, %v", rep.Counts, err)
	}
	cfg.Stop, cfg.Progress, cfg.Resume = nil, nil, true
	rep, err = Run(kt.Context(t), cfg)
	if err != nil || !rep.Complete || rep.Scanned != total {
		t.Fatalf("resumed run: %+v complete %v, %v; want %d scanned", rep.Counts, rep.Complete, err, total)
	}
	if rep.AlreadyEncrypted != nStrings+4 || rep.Encrypted != int64(len(own)) || rep.Restored != 1 {
		t.Errorf("out of the cluster: %+v", rep.Counts)
	}
	if fmt.Sprint(rep.SourceNodes) != fmt.Sprint(nodes) {
		t.Errorf("report source nodes %v, want %v", rep.SourceNodes, nodes)
	}
	if v := rep.Verification; v == nil || !v.OK || v.SourceKeys != total || v.DestinationKeys != total {
		t.Errorf("out of the cluster: verification %+v", v)
	}
	f.dstC = kt.Dial(t, back.Admin, 0)
	f.checkDestination(t, 0)
	if got := kt.Do(t, f.dstC, "HGET", "cart:7", "item"); got.String() == "" {
		t.Error("the hash was not restored")
	} else if s, _ := got.ToString(); s != "book" {
		t.Errorf("cart:7 item = %q", s)
	}

	// Into itself: refused before anything is written, whichever node and
	// user each side reads the cluster through (the addresses a side
	// lists could differ, over another port: the node ids do not).
	via := app.At(cl.Masters[2].Addr)
	self, err := admin.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	other, err := via.Cluster()
	if err != nil || other.Owners != cl.Owners {
		t.Fatalf("the cluster read through %s: %+v, %v; want owners %s", via.Addr, other, err, cl.Owners)
	}
	_, err = Run(kt.Context(t), Config{Source: admin, SourceNodes: nodes, SourceOwners: cl.Owners, SourceIDs: self.IDs,
		Dest: via, DestNodes: []string{"127.0.0.1:1"}, DestIDs: other.IDs, Sealer: seal.New(seal.GenerateKey())})
	if err == nil || !strings.Contains(err.Error(), "same cluster (both have the node ") {
		t.Errorf("a cluster into itself: %v", err)
	}
}
