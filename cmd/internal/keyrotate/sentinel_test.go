package keyrotate

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
)

// checkRotated fails t unless every entry opens with the new key alone,
// with its plaintext, its original Fernet timestamp and its TTL.
func (k keys) checkRotated(t *testing.T, got map[string]kt.Entry, entries []kt.Entry) {
	t.Helper()
	if len(got) != len(entries) {
		t.Fatalf("%d keys hold strings, want %d", len(got), len(entries))
	}
	bad := 0
	for i, e := range entries {
		g := got[e.Key]
		want := e.Deadline
		if want == 0 {
			want = -1
		}
		pt, err := k.newOnly.Open(nil, []byte(g.Value), 0)
		ts, _ := k.newOnly.Timestamp([]byte(g.Value))
		switch {
		case err != nil:
			t.Errorf("%s does not open with the new key alone: %v", e.Key, err)
		case string(pt) != plaintext(i):
			t.Errorf("%s = %q, want %q", e.Key, pt, plaintext(i))
		case g.Deadline != want:
			t.Errorf("%s expires at %d, want %d", e.Key, g.Deadline, want)
		case !ts.Equal(k.sealedAt):
			t.Errorf("%s has timestamp %v, want the original %v", e.Key, ts, k.sealedAt)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many errors")
		}
	}
}

// TestRotateThroughSentinelFailover rotates through a master_set URL, as
// the app user (with ROLE), while a Sentinel fails the master over in the
// middle of the run. The run follows the master to the replica, says so,
// walks it again from the start, and ends with every value on the new
// master under the new key with its TTL and timestamp, none lost: values
// the old master rotated and replicated count as current (not sealed
// again), and the counts add up to one visit of every key.
func TestRotateThroughSentinelFailover(t *testing.T) {
	t.Parallel()
	sn := kt.StartSentinel(t)
	k := newKeys()
	const n = 3000
	entries := k.seed(t, kt.Dial(t, sn.AdminAt(sn.Master.Addr), 0), "s:", n)
	sn.Synced(t)
	app := sn.App(t)
	if app.Addr != sn.Master.Addr {
		t.Fatalf("through the Sentinels: %s, want the master %s", app.Addr, sn.Master.Addr)
	}

	// After a tenth of the keys: at 500 keys a second the walk takes 6s,
	// longer than a failover.
	report, moved := sn.FailoverAt(t, n/10)
	var notes kt.Notes
	cfg := Config{Target: app, DBs: []int{0}, Sealer: k.both, Count: 50, Rate: 500, StatePath: t.TempDir() + "/state",
		Progress: report, Note: notes.Add}
	rep, err := Run(kt.Context(t), cfg)
	to := moved()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report %+v, failovers %+v, notes %q", rep.Counts, rep.Failovers, notes.String())
	if to == "" || to == sn.Master.Addr {
		t.Fatalf("the failover did not happen (new master %q)", to)
	}
	if len(rep.Failovers) == 0 || rep.Failovers[0].From != sn.Master.Addr || rep.Failovers[len(rep.Failovers)-1].To != to || rep.Target != to {
		t.Fatalf("the run followed %+v and ended on %s, want %s -> %s", rep.Failovers, rep.Target, sn.Master.Addr, to)
	}
	want := "master moved from " + sn.Master.Addr + " to " + to + "; resuming from the checkpoint"
	if !strings.Contains(notes.String(), want) {
		t.Errorf("notes %q, want one saying %q", notes.String(), want)
	}
	if !rep.Complete || rep.Scanned < n || rep.Rotated+rep.Current != rep.Scanned || rep.Undecryptable+rep.Vanished+rep.Contended != 0 {
		t.Errorf("report %+v: want one complete pass in which every key is rotated or current", rep.Counts)
	}
	k.checkRotated(t, kt.Read(t, kt.Dial(t, sn.AdminAt(to), 0), names(entries)), entries)
}

// TestRotateRefusesNonMaster: a Sentinel that names a node which is not
// the master (stale, or lied to) gets no write there, even when that
// replica would take writes (replica-read-only off): the run checks ROLE,
// waits for a master within FailoverWait, and fails with ErrNotMaster.
func TestRotateRefusesNonMaster(t *testing.T) {
	t.Parallel()
	sn := kt.StartSentinel(t)
	k := newKeys()
	entries := k.seed(t, kt.Dial(t, sn.AdminAt(sn.Master.Addr), 0), "r:", 200)
	sn.Synced(t)
	replica := sn.Replicas[0]
	replica.Do(t, "CONFIG", "SET", "replica-read-only", "no")
	admin := kt.Dial(t, sn.AdminAt(replica.Addr), 0)
	// Were the job to write there, it would succeed: the test can fail.
	kt.Do(t, admin, "SET", "probe", "writable")

	stale := sn.App(t)
	stale.Addr = replica.Addr
	stale.Resolve = func(context.Context) (string, *tls.Config, error) { return replica.Addr, stale.TLS, nil }
	start := time.Now()
	rep, err := Run(kt.Context(t), Config{Target: stale, DBs: []int{0}, Sealer: k.both, StatePath: t.TempDir() + "/state", FailoverWait: time.Second})
	if !errors.Is(err, keyspace.ErrNotMaster) {
		t.Fatalf("Run on a replica: %v, want ErrNotMaster", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("it gave up after %v, want about FailoverWait", d)
	}
	if rep != nil && rep.Rotated != 0 {
		t.Errorf("rotated %d on a replica", rep.Rotated)
	}
	got := kt.Read(t, admin, names(entries))
	for _, e := range entries {
		if got[e.Key].Value != e.Value {
			t.Fatalf("%s changed on the replica", e.Key)
		}
	}
}
