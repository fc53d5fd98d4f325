package migrate

import (
	"strings"
	"testing"

	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
)

// TestMigrateIntoSentinelFailover copies a plaintext server into a
// Sentinel deployment reached through its master_set URL, as the app user
// (with ROLE), while a Sentinel fails the master over in the middle of the
// run. The run follows the master, says so, copies again from the start,
// and ends verified: every string on the new master, sealed, with its
// TTL, none lost; what the old master had replicated counts as in sync,
// and no key counts as another's (Existing).
func TestMigrateIntoSentinelFailover(t *testing.T) {
	t.Parallel()
	f := newSource(t)
	sn := kt.StartSentinel(t)
	dst := sn.App(t)
	// After a tenth of the keys: at 300 keys a second the copy takes 4s,
	// longer than a failover.
	report, moved := sn.FailoverAt(t, int64(len(f.strings))/10)
	var notes kt.Notes
	cfg := Config{Source: f.src, Dest: dst, Sealer: f.sealer, Count: 50, Rate: 300, StatePath: t.TempDir() + "/state",
		Progress: report, Note: notes.Add}
	rep, err := Run(kt.Context(t), cfg)
	to := moved()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report %+v, failovers %+v, verification %+v, notes %q", rep.Counts, rep.Failovers, rep.Verification, notes.String())
	if to == "" || len(rep.Failovers) == 0 || rep.Failovers[0].From != sn.Master.Addr || rep.Failovers[len(rep.Failovers)-1].To != to {
		t.Fatalf("the run followed %+v, want %s -> %q", rep.Failovers, sn.Master.Addr, to)
	}
	if rep.Destination != to+" db 0" {
		t.Errorf("destination %q, want the new master %s", rep.Destination, to)
	}
	want := "master moved from " + sn.Master.Addr + " to " + to + "; resuming from the checkpoint"
	if !strings.Contains(notes.String(), want) {
		t.Errorf("notes %q, want one saying %q", notes.String(), want)
	}
	if !rep.Complete || rep.Existing != 0 || rep.Written()+rep.InSync+rep.Left.Total() != rep.Scanned || rep.Scanned < int64(len(f.strings)) {
		t.Errorf("report %+v: want one complete pass in which every string is written or in sync", rep.Counts)
	}
	if v := rep.Verification; v == nil || !v.OK || v.Missing+v.Mismatched != 0 {
		t.Errorf("verification %+v", v)
	}
	f.dstC = kt.Dial(t, sn.AdminAt(to), 0)
	f.checkDestination(t, 0)
}
