package keyrotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestRotateCluster: on a three-master cluster the rotation finds every
// master (CLUSTER SLOTS) and walks each with a SCAN of its own, as the app
// user; every value ends up under the new key with its TTL kept; a writer
// that changes a key during the run wins; and a run stopped after the
// first master resumes from its per-node checkpoint.
func TestRotateCluster(t *testing.T) {
	t.Parallel()
	kc := kt.StartCluster(t)
	cl := kc.Cluster
	k := newKeys()
	const n = 300
	byMaster := map[*redisserver.Server]int{}
	deadline := time.Now().Add(time.Hour).UnixMilli()
	for i := range n {
		key := fmt.Sprintf("k:%d", i)
		m := cl.MasterOf(t, key)
		byMaster[m]++
		if r := m.Do(t, "SET", key, string(k.oldOnly.Seal(nil, []byte(plaintext(i)))), "PXAT", strconv.FormatInt(deadline, 10)); r != "+OK" {
			t.Fatal(r)
		}
	}
	if len(byMaster) != 3 {
		t.Fatalf("the keys are on %d masters", len(byMaster))
	}
	// The slots the jobs group by are the cluster's own.
	for _, key := range []string{"k:1", "k:2", "{tag}:x", "a{b}c"} {
		if got, want := keyspace.Slot(key), strings.TrimPrefix(cl.Masters[0].Do(t, "CLUSTER", "KEYSLOT", key), ":"); strconv.Itoa(int(got)) != want {
			t.Fatalf("Slot(%q) = %d, CLUSTER KEYSLOT says %s", key, got, want)
		}
	}
	app, nodes := kc.App, kc.Nodes

	// Stopped after the first node's last batch: the checkpoint names the
	// next node.
	state := filepath.Join(t.TempDir(), "rotate.state")
	stop := make(chan struct{})
	var once sync.Once
	rep, err := Run(kt.Context(t), Config{Target: app, DBs: []int{0}, Nodes: nodes, Owners: kc.Owners, Sealer: k.both, Count: 1000, StatePath: state, Stop: stop,
		Progress: func(p progress.Report) {
			if p.Fraction >= 1.0/3 {
				once.Do(func() { close(stop) })
			}
		}})
	if err != keyspace.ErrStopped || rep.Rotated == 0 || rep.Rotated >= n {
		t.Fatalf("stopped run: %+v, %v", rep.Counts, err)
	}
	// The writer changes a key of the last master walked, which the
	// resumed run has yet to reach.
	var victim string
	var victimAt *redisserver.Server
	for i := 0; victim == ""; i++ {
		if m := cl.MasterOf(t, fmt.Sprintf("k:%d", i)); m.Addr == nodes[2] {
			victim, victimAt = fmt.Sprintf("k:%d", i), m
		}
	}
	var writer sync.Once
	hook := func(keys []string) {
		if !slices.Contains(keys, victim) {
			return
		}
		writer.Do(func() {
			victimAt.Do(t, "SET", victim, string(k.newOnly.Seal(nil, []byte("the writer's value"))), "KEEPTTL")
		})
	}
	rep, err = Run(kt.Context(t), Config{Target: app, DBs: []int{0}, Nodes: nodes, Owners: kc.Owners, Sealer: k.both, Count: 1000, StatePath: state, Resume: true, beforeExec: hook})
	if err != nil || !rep.Complete || rep.Scanned != n {
		t.Fatalf("resumed run: %+v complete %v, %v", rep.Counts, rep.Complete, err)
	}
	if rep.Rotated+rep.Current != n || rep.ChangedByWriters != 1 {
		t.Errorf("counts %+v", rep.Counts)
	}
	for i := range n {
		key := fmt.Sprintf("k:%d", i)
		m := cl.MasterOf(t, key)
		pt, err := k.newOnly.Open(nil, []byte(m.Do(t, "GET", key)), 0)
		want := plaintext(i)
		if key == victim {
			want = "the writer's value"
		}
		if err != nil || string(pt) != want {
			t.Fatalf("%s = %q, %v; want %q under the new key", key, pt, err, want)
		}
		if exp := strings.TrimPrefix(m.Do(t, "PEXPIRETIME", key), ":"); exp != strconv.FormatInt(deadline, 10) {
			t.Fatalf("%s expires at %s, want %d: the TTL was not kept", key, exp, deadline)
		}
	}

	// A slot that changes hands during a walk (here an empty one, moved
	// while the first master is walked) fails the run instead of letting
	// keys moved onto a walked master go unrotated.
	used := map[uint16]bool{}
	for i := range n {
		used[keyspace.Slot(fmt.Sprintf("k:%d", i))] = true
	}
	free := ""
	for i := 0; free == ""; i++ {
		if k := fmt.Sprintf("free:%d", i); !used[keyspace.Slot(k)] {
			free = k
		}
	}
	owner := cl.MasterOf(t, free)
	var other *redisserver.Server
	for _, m := range cl.Masters {
		if m != owner {
			other = m
		}
	}
	slot := strconv.Itoa(int(keyspace.Slot(free)))
	otherID := strings.TrimPrefix(other.Do(t, "CLUSTER", "MYID"), "+")
	var move sync.Once
	moveSlot := func([]string) {
		move.Do(func() {
			for _, m := range cl.Masters {
				if r := m.Do(t, "CLUSTER", "SETSLOT", slot, "NODE", otherID); r != "+OK" {
					t.Errorf("SETSLOT on %s: %s", m.Addr, r)
				}
			}
		})
	}
	moved := filepath.Join(t.TempDir(), "moved.state")
	_, err = Run(kt.Context(t), Config{Target: app, DBs: []int{0}, Nodes: nodes, Owners: kc.Owners, Sealer: k.both, Count: 1000, StatePath: moved, beforeExec: moveSlot})
	if !errors.Is(err, keyspace.ErrSlotsMoved) {
		t.Fatalf("a slot moved during the walk: %v, want ErrSlotsMoved", err)
	}
	// Its checkpoint is gone, so the run the error asks for starts over.
	if _, err := os.Stat(moved); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the checkpoint of a run whose slots moved is still there: %v", err)
	}
}
