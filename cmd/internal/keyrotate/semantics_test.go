package keyrotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// snapshot is every key's type, dump and expiry, as the admin sees them.
func snapshot(t *testing.T, c rueidis.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	ctx := kt.Context(t)
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range e.Elements {
			res := c.DoMulti(ctx, c.B().Dump().Key(k).Build(), c.B().Pexpiretime().Key(k).Build())
			dump, _ := res[0].ToString()
			exp, _ := res[1].AsInt64()
			out[k] = fmt.Sprintf("%d %x", exp, dump)
		}
		if cursor = e.Cursor; cursor == 0 {
			return out
		}
	}
}

func sameSnapshot(t *testing.T, before, after map[string]string, only func(string) bool) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("%d keys before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if only != nil && !only(k) {
			continue
		}
		if after[k] != v {
			t.Errorf("%q changed", k)
		}
	}
}

// TestUntouched: values no key opens and keys of other types are counted
// and left exactly as they were, expiry included.
func TestUntouched(t *testing.T) {
	t.Parallel()
	srv, admin, k, _ := setup(t, "k:", 300)
	stranger := seal.New(seal.GenerateKey()).Seal(nil, []byte("sealed with a key nobody configured"))
	oldToken := k.oldOnly.Seal(nil, []byte("x"))
	kt.Put(t, admin, []kt.Entry{
		{Key: "bad:plain", Value: "plain text from before encryption"},
		{Key: "bad:stranger", Value: string(stranger), Deadline: time.Now().Add(time.Hour).UnixMilli()},
		{Key: "bad:truncated", Value: string(oldToken[:len(oldToken)-4])},
		{Key: "bad:binary", Value: "\x00\xff\x80 not a token"},
		{Key: "bad:empty", Value: ""},
	})
	for _, cmd := range [][]string{
		{"HSET", "t:hash", "f", "v"}, {"RPUSH", "t:list", "a", "b"}, {"SADD", "t:set", "m"},
		{"ZADD", "t:zset", "1", "m"}, {"XADD", "t:stream", "*", "f", "v"}, {"PEXPIRE", "t:hash", "3600000"},
	} {
		kt.Do(t, admin, cmd...)
	}
	before := snapshot(t, admin)

	rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both})
	if err != nil {
		t.Fatal(err)
	}
	// Only bad:stranger is a well-formed token under a key nobody has;
	// the truncated one no longer parses.
	want := Counts{Scanned: 310, Rotated: 300, Undecryptable: 5, UnknownKey: 1,
		SkippedTypes: map[string]int64{"hash": 1, "list": 1, "set": 1, "zset": 1, "stream": 1}}
	if fmt.Sprint(rep.Counts) != fmt.Sprint(want) {
		t.Errorf("counts\n got %+v\nwant %+v", rep.Counts, want)
	}
	if got := rep.SkippedTypes.String(); got != "hash 1, list 1, set 1, stream 1, zset 1" {
		t.Errorf("SkippedText = %q", got)
	}
	after := snapshot(t, admin)
	sameSnapshot(t, before, after, func(key string) bool { return !strings.HasPrefix(key, "k:") })
}

// TestDryRunAndCheckWriteNothing: both count what a rotation would do and
// leave every key, and the state file, alone.
func TestDryRunAndCheckWriteNothing(t *testing.T) {
	t.Parallel()
	srv, admin, k, _ := setup(t, "old:", 200)
	var current []kt.Entry
	for i := range 50 {
		current = append(current, kt.Entry{Key: fmt.Sprintf("new:%d", i), Value: string(k.newOnly.Seal(nil, []byte("v")))})
	}
	kt.Put(t, admin, current)
	before := snapshot(t, admin)
	state := filepath.Join(t.TempDir(), "state")

	for _, mode := range []Mode{DryRun, Check} {
		rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both, Mode: mode, StatePath: state, Count: 64})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rotated != 200 || rep.Current != 50 || rep.Scanned != 250 || !rep.Complete {
			t.Errorf("%s: %+v", mode, rep)
		}
		sameSnapshot(t, before, snapshot(t, admin), nil)
		if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s wrote the state file: %v", mode, err)
		}
	}

	if _, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both}); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both, Mode: Check})
	if err != nil || rep.Rotated != 0 || rep.Current != 250 {
		t.Errorf("check after rotation: %+v, %v", rep, err)
	}
}

// TestWriterWins: a writer that replaces a value between the rotation's
// read and its write keeps its value, whether it wrote under the new key or
// (an old deployment) under the old one; the rest of the batch rotates.
func TestWriterWins(t *testing.T) {
	t.Parallel()
	for _, underOld := range []bool{false, true} {
		t.Run(fmt.Sprintf("old=%v", underOld), func(t *testing.T) {
			t.Parallel()
			srv, admin, k, entries := setup(t, "k:", 100)
			const victim = "k:7"
			writerSealer := k.newOnly
			if underOld {
				writerSealer = k.oldOnly
			}
			var once sync.Once
			hook := func(keys []string) {
				once.Do(func() {
					tok := writerSealer.Seal(nil, []byte("the writer's value"))
					kt.Do(t, admin, "SET", victim, string(tok), "KEEPTTL")
				})
			}
			rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both, Count: 1000, beforeExec: hook})
			if err != nil {
				t.Fatal(err)
			}
			want := Counts{Scanned: 100, Rotated: 99, Current: 1, ChangedByWriters: 1}
			if underOld {
				want = Counts{Scanned: 100, Rotated: 100, ChangedByWriters: 1}
			}
			if fmt.Sprint(rep.Counts) != fmt.Sprint(want) {
				t.Errorf("counts\n got %+v\nwant %+v", rep.Counts, want)
			}
			got := kt.Read(t, admin, names(entries))
			for i, e := range entries {
				pt, err := k.newOnly.Open(nil, []byte(got[e.Key].Value), 0)
				want := plaintext(i)
				if e.Key == victim {
					want = "the writer's value"
				}
				if err != nil || string(pt) != want {
					t.Errorf("%s = %q, %v; want %q", e.Key, pt, err, want)
				}
			}
		})
	}
}

// TestStopAndResume: a stopped run leaves a checkpoint that a plain run
// refuses to overwrite and --resume continues; the end state and the
// counts are those of one uninterrupted run; a second run is harmless.
func TestStopAndResume(t *testing.T) {
	t.Parallel()
	const n = 1000
	srv, admin, k, entries := setup(t, "k:", n)
	state := filepath.Join(t.TempDir(), "rotate.state")
	stop := make(chan struct{})
	batches := 0
	cfg := Config{Target: srv.App, DBs: []int{0}, Sealer: k.both, Count: 100, StatePath: state, Stop: stop,
		Progress: func(progress.Report) {
			if batches++; batches == 3 {
				close(stop)
			}
		}}
	rep, err := Run(kt.Context(t), cfg)
	if !errors.Is(err, keyspace.ErrStopped) || rep.Complete || rep.Rotated == 0 || rep.Rotated >= n {
		t.Fatalf("stopped run: %+v, %v", rep, err)
	}
	first := rep.Rotated
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v", fi, err)
	}
	underOld := 0
	for _, e := range kt.Read(t, admin, names(entries)) {
		if _, err := k.newOnly.Timestamp([]byte(e.Value)); err != nil {
			underOld++
		}
	}
	if int64(underOld) != n-first {
		t.Errorf("%d values still under the old key, want %d", underOld, n-first)
	}

	cfg.Stop, cfg.Progress = nil, nil
	if _, err := Run(kt.Context(t), cfg); !errors.Is(err, keyspace.ErrInterruptedRun) {
		t.Fatalf("a run without --resume over a checkpoint: %v", err)
	}
	other := cfg
	other.Resume, other.Match = true, "k:1*"
	if _, err := Run(kt.Context(t), other); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Fatalf("a resume with another pattern: %v", err)
	}

	cfg.Resume = true
	rep, err = Run(kt.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || !rep.Resumed || rep.Scanned != n || rep.Rotated != n || rep.Current != 0 {
		t.Errorf("resumed run: %+v", rep)
	}
	for i, e := range entries {
		g := kt.Read(t, admin, []string{e.Key})[e.Key]
		if pt, err := k.newOnly.Open(nil, []byte(g.Value), 0); err != nil || string(pt) != plaintext(i) {
			t.Fatalf("%s = %q, %v", e.Key, pt, err)
		}
	}

	rep, err = Run(kt.Context(t), cfg)
	if err != nil || !rep.AlreadyDone || rep.Rotated != n {
		t.Errorf("resume of a finished run: %+v, %v", rep, err)
	}
	cfg.Resume = false
	rep, err = Run(kt.Context(t), cfg)
	if err != nil || rep.Rotated != 0 || rep.Current != n {
		t.Errorf("second run: %+v, %v", rep, err)
	}
}

// TestDatabases walks each database it is given, and only those.
func TestDatabases(t *testing.T) {
	t.Parallel()
	srv := kt.Start(t, true)
	k := newKeys()
	for _, db := range []int{0, 1, 2} {
		k.seed(t, kt.Dial(t, srv.Admin, db), "k:", 40)
	}
	rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0, 2}, Sealer: k.both, StatePath: filepath.Join(t.TempDir(), "s")})
	if err != nil || rep.Rotated != 80 {
		t.Fatalf("%+v, %v", rep, err)
	}
	for db, want := range map[int]*seal.Sealer{0: k.newOnly, 1: seal.New(k.old), 2: k.newOnly} {
		for key, e := range kt.Read(t, kt.Dial(t, srv.Admin, db), []string{"k:0", "k:39"}) {
			if _, err := want.Timestamp([]byte(e.Value)); err != nil {
				t.Errorf("db %d %s: %v", db, key, err)
			}
		}
	}
}

// TestKeysOutsideTheUsersPattern: a user confined to a key pattern gets an
// error that says to use --match, and with it rotates its own keys.
func TestKeysOutsideTheUsersPattern(t *testing.T) {
	t.Parallel()
	srv := redisserver.Start(t, redisserver.Config{Plaintext: true, Users: []redisserver.User{
		{Name: "svc", Password: kt.AppPassword, Rules: serverconf.AppRules("svc:*")}}})
	admin := keyspace.Target{Addr: srv.Addr, Password: srv.Password}
	app := keyspace.Target{Addr: srv.Addr, Username: "svc", Password: kt.AppPassword}
	k := newKeys()
	k.seed(t, kt.Dial(t, admin, 0), "svc:", 20)
	k.seed(t, kt.Dial(t, admin, 0), "other:", 20)
	_, err := Run(kt.Context(t), Config{Target: app, DBs: []int{0}, Sealer: k.both})
	if err == nil || !strings.Contains(err.Error(), "NOPERM") || !strings.Contains(err.Error(), "--match") {
		t.Fatalf("err = %v", err)
	}
	rep, err := Run(kt.Context(t), Config{Target: app, DBs: []int{0}, Sealer: k.both, Match: "svc:*"})
	if err != nil || rep.Rotated != 20 {
		t.Fatalf("%+v, %v", rep, err)
	}
}

// TestContended: a key that a writer changes before every attempt (here
// under the old key, as a deployment that still writes with it would) is
// tried alone a few times and then left, counted as contended, with the
// writer's value; the rest of its batch rotates, whatever its size.
func TestContended(t *testing.T) {
	t.Parallel()
	srv, admin, k, entries := setup(t, "k:", 500)
	const victim = "k:123"
	writes := 0
	hook := func(keys []string) {
		for _, key := range keys {
			if key == victim {
				writes++
				tok := k.oldOnly.Seal(nil, fmt.Appendf(nil, "stubborn write %d", writes))
				kt.Do(t, admin, "SET", victim, string(tok), "KEEPTTL")
			}
		}
	}
	rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both, Count: 1000, beforeExec: hook})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Scanned: 500, Rotated: 499, Contended: 1, ChangedByWriters: 1}
	if fmt.Sprint(rep.Counts) != fmt.Sprint(want) {
		t.Errorf("counts\n got %+v\nwant %+v", rep.Counts, want)
	}
	got := kt.Read(t, admin, names(entries))
	if pt, err := k.both.Open(nil, []byte(got[victim].Value), 0); err != nil || string(pt) != fmt.Sprintf("stubborn write %d", writes) {
		t.Errorf("%s = %q, %v; want the writer's last value", victim, pt, err)
	}
	if writes < maxAttempts {
		t.Errorf("the key was tried %d times", writes)
	}
}
