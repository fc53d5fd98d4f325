package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/keyrotate"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/seal"
)

// TestRotateKeyThroughSentinels runs `redsafe rotate-key` with a REDIS_URL
// naming the Sentinels (master_set=), the Sentinels' own user in
// REDIS_SENTINEL_*: it names the master it rotates on. Killed mid-run,
// then the master fails over, then --resume: the checkpoint was read on
// the old master, so the run says so and walks the new one from the
// start. Every value ends under the new key on the new master, with its
// TTL and timestamp, and the counts are one visit of every key: the
// values rotated before the kill (and replicated) count as current.
func TestRotateKeyThroughSentinels(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redsafe")
	if err != nil {
		t.Fatal(err)
	}
	sn := kt.StartSentinel(t)
	old, newKey := seal.GenerateKey(), seal.GenerateKey()
	sealedAt := time.Now().Add(-time.Hour).Truncate(time.Second)
	oldSealer := seal.New(old).WithClock(func() time.Time { return sealedAt })
	const n = 2000
	now := time.Now().UnixMilli()
	entries := make([]kt.Entry, n)
	keys := make([]string, n)
	for i := range entries {
		entries[i] = kt.Entry{Key: fmt.Sprintf("s:%d", i), Value: string(oldSealer.Seal(nil, fmt.Appendf(nil, "payload %d", i)))}
		if i%2 == 0 {
			entries[i].Deadline = now + 3_600_000 + int64(i)
		}
		keys[i] = entries[i].Key
	}
	kt.Put(t, kt.Dial(t, sn.AdminAt(sn.Master.Addr), 0), entries)
	sn.Synced(t)

	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	os.WriteFile(env, []byte(strings.Join([]string{
		"ENVIRONMENT=testing",
		"REDIS_URL='" + sn.URL(serverconf.AppName) + "'",
		"REDIS_PASSWORD=" + sn.AppPassword,
		"REDIS_SENTINEL_USERNAME=client",
		"REDIS_SENTINEL_PASSWORD=" + sn.ClientPassword,
		"REDIS_TLS_CA_CERT=" + sn.CAFile,
		"REDIS_ENCRYPTION_KEY=" + newKey.Encode(),
		"REDIS_ENCRYPTION_PREVIOUS_KEYS=" + old.Encode(),
	}, "\n")), 0o600)
	state := filepath.Join(dir, "rotate.state")
	command := func(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
		cmd := exec.Command(bin, append([]string{"rotate-key", "--env-file", env, "--state", state, "--progress", "none"}, args...)...)
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		return cmd, &stdout, &stderr
	}

	cmd, stdout, stderr := command("--rate", "1000", "--count", "50")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := keyspace.LoadState[keyrotate.Counts](state, keyrotate.Job)
		if err == nil && st.Counts.Scanned >= 300 {
			if st.Done || st.Server != sn.Master.Addr {
				t.Fatalf("checkpoint %+v, want one of a run in progress on %s", st, sn.Master.Addr)
			}
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress in the state file: %v\nstdout %s\nstderr %s", err, stdout, stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if want := "rotating the master " + sn.Master.Addr + " of Sentinels"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q, want it to say %q", stdout, want)
	}

	to := sn.Failover(t, sn.Master.Addr)
	if to == "" {
		t.FailNow()
	}
	cmd, stdout, stderr = command("--resume")
	if err := cmd.Run(); err != nil {
		t.Fatalf("--resume after the failover: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
	if want := "rotate-key: the checkpoint was read on another master than " + to + ": walking from the start"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	st, err := keyspace.LoadState[keyrotate.Counts](state, keyrotate.Job)
	if err != nil || !st.Done || st.Server != to || st.Counts.Scanned < n || st.Counts.Rotated+st.Counts.Current != st.Counts.Scanned || st.Counts.Current < 300 {
		t.Fatalf("final checkpoint %+v (%v): want one pass on %s, the values rotated before the kill current", st, err, to)
	}

	got := kt.Read(t, kt.Dial(t, sn.AdminAt(to), 0), keys)
	newOnly := seal.New(newKey)
	for i, e := range entries {
		g := got[e.Key]
		pt, err := newOnly.Open(nil, []byte(g.Value), 0)
		ts, _ := newOnly.Timestamp([]byte(g.Value))
		want := e.Deadline
		if want == 0 {
			want = -1
		}
		if err != nil || string(pt) != fmt.Sprintf("payload %d", i) || g.Deadline != want || !ts.Equal(sealedAt) {
			t.Fatalf("%s on the new master: %q (%v), expires %d (want %d), timestamp %v", e.Key, pt, err, g.Deadline, want, ts)
		}
	}
}

// TestMigrateFromSentinelsRefused: a --from naming Sentinels is refused
// before anything is dialed: its password is a data node's, and would go
// to a Sentinel.
func TestMigrateFromSentinelsRefused(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redsafe")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "migrate", "--from", "rediss://app@127.0.0.1:1/0?master_set=old", "--dry-run")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "--from names Sentinels") {
		t.Fatalf("exit %d (%v): %s", code, err, out)
	}
}
