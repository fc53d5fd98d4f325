package main

import (
	"bytes"
	"encoding/json"
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

// TestRotateKeyKilled runs `redsafe rotate-key` as a process against a TLS
// server, as the app user whose ACL refuses Lua: interrupted with Ctrl-C
// (a clean stop), resumed and killed with SIGKILL, then resumed to the end.
// The end state is that of one uninterrupted run: every value under the new
// key, with its plaintext, TTL and token timestamp, none lost, and the
// counts add up to one visit of every key.
func TestRotateKeyKilled(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redsafe") // put on $PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	srv := kt.Start(t, false)
	admin := kt.Dial(t, srv.Admin, 0)
	old, newKey := seal.GenerateKey(), seal.GenerateKey()
	sealedAt := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	oldSealer := seal.New(old).WithClock(func() time.Time { return sealedAt })
	const n = 3000
	now := time.Now().UnixMilli()
	entries := make([]kt.Entry, n)
	keys := make([]string, n)
	for i := range entries {
		e := kt.Entry{Key: fmt.Sprintf("session:%d", i), Value: string(oldSealer.Seal(nil, fmt.Appendf(nil, "payload %d", i)))}
		if i%2 == 0 {
			e.Deadline = now + 3_600_000 + int64(i)
		}
		entries[i], keys[i] = e, e.Key
	}
	kt.Put(t, admin, entries)

	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	os.WriteFile(env, []byte(strings.Join([]string{
		"ENVIRONMENT=testing",
		"REDIS_URL=rediss://" + serverconf.AppName + "@" + srv.Addr + "/0",
		"REDIS_PASSWORD=" + kt.AppPassword,
		"REDIS_TLS_CA_CERT=" + srv.CAFile,
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
	// waitFor starts cmd and waits until its checkpoint has counted at
	// least min keys, then sends sig. seen, if set, sees every checkpoint.
	waitFor := func(cmd *exec.Cmd, min int64, sig syscall.Signal, seen func(*keyspace.State[keyrotate.Counts])) {
		t.Helper()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, err := keyspace.LoadState[keyrotate.Counts](state, keyrotate.Job)
			if err == nil && seen != nil {
				seen(st)
			}
			if err == nil && st.Counts.Scanned >= min {
				if st.Done {
					t.Fatal("the run finished before it could be interrupted: lower --rate")
				}
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no progress in the state file: %v", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(sig)
	}
	underNew := func() int64 {
		var c int64
		for _, e := range kt.Read(t, admin, keys) {
			if _, err := seal.New(newKey).Timestamp([]byte(e.Value)); err == nil {
				c++
			}
		}
		return c
	}

	// Ctrl-C: a clean stop after the batch in progress, exit 130.
	cmd, _, stderr := command("--rate", "2000")
	waitFor(cmd, 300, syscall.SIGINT, nil)
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("after SIGINT: exit %d (%v), stderr %s", code, err, stderr)
	}
	st, err := keyspace.LoadState[keyrotate.Counts](state, keyrotate.Job)
	if err != nil || st.Done || st.Counts.Rotated != underNew() {
		t.Fatalf("after SIGINT the checkpoint counts %+v (%v), Redis holds %d under the new key", st, err, underNew())
	}

	// SIGKILL at any moment: the checkpoint is at most a batch behind.
	// To be sure that the resume walks again what a killed run had
	// written, the test then puts back an older checkpoint, as if the
	// process had died after a few more batches without saving.
	cmd, _, _ = command("--resume", "--rate", "2000")
	var older *keyspace.State[keyrotate.Counts]
	waitFor(cmd, st.Counts.Scanned+800, syscall.SIGKILL, func(s *keyspace.State[keyrotate.Counts]) {
		if older == nil && s.Counts.Scanned >= st.Counts.Scanned+200 {
			older = s
		}
	})
	cmd.Wait()
	st, err = keyspace.LoadState[keyrotate.Counts](state, keyrotate.Job)
	if err != nil || st.Done {
		t.Fatalf("after SIGKILL: %+v, %v", st, err)
	}
	if ahead := underNew() - st.Counts.Rotated; ahead < 0 || ahead > 200 {
		t.Fatalf("Redis holds %d more rotated values than the checkpoint counts; at most a batch (200 at --rate 2000) may be", ahead)
	}
	if err := keyspace.SaveState(state, older); err != nil {
		t.Fatal(err)
	}
	ahead := underNew() - older.Counts.Rotated // rotated after that checkpoint
	if ahead < 400 {
		t.Fatalf("only %d values rotated after the older checkpoint", ahead)
	}

	t.Logf("killed with %d values rotated after the last checkpoint", ahead)
	cmd, stdout, stderr := command("--resume", "--json")
	if err := cmd.Run(); err != nil {
		t.Fatalf("resume: %v\n%s%s", err, stdout, stderr)
	}
	var rep struct {
		OK bool `json:"ok"`
		keyrotate.Report
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	// Every key was visited once; those rotated after the last checkpoint
	// count as current when their batch is walked again.
	if !rep.OK || !rep.Resumed || !rep.Complete || rep.Scanned != n || rep.Current != ahead || rep.Rotated != n-ahead {
		t.Errorf("final report (%d rotated after the last checkpoint): %s", ahead, stdout)
	}
	got := kt.Read(t, admin, keys)
	newOnly := seal.New(newKey)
	for i, e := range entries {
		g, ok := got[e.Key]
		pt, err := newOnly.Open(nil, []byte(g.Value), 0)
		ts, _ := newOnly.Timestamp([]byte(g.Value))
		want := e.Deadline
		if want == 0 {
			want = -1
		}
		if !ok || err != nil || string(pt) != fmt.Sprintf("payload %d", i) || g.Deadline != want || !ts.Equal(sealedAt) {
			t.Fatalf("%s: present %v, %q, %v, deadline %d want %d, timestamp %v want %v", e.Key, ok, pt, err, g.Deadline, want, ts, sealedAt)
		}
	}
	if size, _ := kt.Do(t, admin, "DBSIZE").AsInt64(); size != n {
		t.Errorf("DBSIZE = %d, want %d", size, n)
	}
}
