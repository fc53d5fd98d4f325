package migrate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// fixture is a plaintext source without authentication, as the insecure
// Redis being replaced usually is, and a TLS destination with the app
// user of `redsafe conf`.
type fixture struct {
	src     keyspace.Target
	srcC    rueidis.Client
	dst     *kt.Server
	dstC    rueidis.Client // as the admin
	sealer  *seal.Sealer
	old     *seal.Sealer
	strings []kt.Entry // string keys on the source
}

const nStrings = 1200

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newSource(t)
	f.dst = kt.Start(t, false)
	f.dstC = kt.Dial(t, f.dst.Admin, 0)
	return f
}

// newSource is a fixture without a destination.
func newSource(t *testing.T) *fixture {
	t.Helper()
	src := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	f := &fixture{src: keyspace.Target{Addr: src.Addr}}
	f.srcC = kt.Dial(t, f.src, 0)
	primary, previous := seal.GenerateKey(), seal.GenerateKey()
	f.sealer, f.old = seal.New(primary, previous), seal.New(previous)
	now := time.Now().UnixMilli()
	for i := range nStrings {
		e := kt.Entry{Key: fmt.Sprintf("user:%d", i), Value: fmt.Sprintf("session data %d", i)}
		switch i % 3 {
		case 1:
			e.Deadline = now + 120_000 + int64(i)
		case 2:
			e.Deadline = now + 7_200_000 + int64(i)*7
		}
		f.strings = append(f.strings, e)
	}
	f.strings = append(f.strings,
		kt.Entry{Key: "bin", Value: "\x00\xff\r\n binary"},
		kt.Entry{Key: "empty", Value: ""},
		kt.Entry{Key: "sealed:primary", Value: string(f.sealer.Seal(nil, []byte("sealed before")))},
		kt.Entry{Key: "sealed:previous", Value: string(f.old.Seal(nil, []byte("sealed with the old key")))},
	)
	kt.Put(t, f.srcC, f.strings)
	for _, cmd := range [][]string{
		{"HSET", "queue:h", "f", "v"}, {"PEXPIRE", "queue:h", "3600000"},
		{"RPUSH", "queue:jobs", "a", "b"}, {"SADD", "tags:set", "x"},
	} {
		kt.Do(t, f.srcC, cmd...)
	}
	return f
}

func (f *fixture) config(t *testing.T) Config {
	return Config{Source: f.src, Dest: f.dst.App, Sealer: f.sealer, Count: 200, StatePath: filepath.Join(t.TempDir(), "migrate.state")}
}

func (f *fixture) keys() []string {
	out := make([]string, len(f.strings))
	for i, e := range f.strings {
		out[i] = e.Key
	}
	return out
}

// plain is what e's value means: tokens are opened.
func (f *fixture) plain(e kt.Entry) string {
	if p, err := f.sealer.Open(nil, []byte(e.Value), 0); err == nil {
		return string(p)
	}
	return e.Value
}

// checkDestination: every string is on the destination, sealed with the
// primary key, decrypting to the source's value, with the same deadline:
// never later, at most tolerance ms earlier; except the keys in skip.
func (f *fixture) checkDestination(t *testing.T, tolerance int64, skip ...string) {
	t.Helper()
	got := kt.Read(t, f.dstC, f.keys())
	primary := seal.New(f.sealer.Keys()[0])
	bad := 0
	for _, e := range f.strings {
		if contains(skip, e.Key) {
			continue
		}
		g, ok := got[e.Key]
		pt, err := primary.Open(nil, []byte(g.Value), 0)
		want := e.Deadline
		if want == 0 {
			want = -1
		}
		switch {
		case !ok:
			t.Errorf("%s is missing on the destination", e.Key)
		case err != nil:
			t.Errorf("%s does not open with the primary key: %v", e.Key, err)
		case string(pt) != f.plain(e):
			t.Errorf("%s = %q, want %q", e.Key, pt, f.plain(e))
		case g.Deadline > want || want-g.Deadline > tolerance:
			t.Errorf("%s expires at %d, the source at %d", e.Key, g.Deadline, want)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many errors")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestMigrate: plaintext source to TLS+ACL destination, as the app user.
// Strings are sealed (tokens of configured keys are not sealed twice),
// TTLs are exact, a key the destination has is kept, other types are
// listed and left, and the verification passes.
func TestMigrate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	theirs := string(f.sealer.Seal(nil, []byte("the destination's own value")))
	kt.Put(t, f.dstC, []kt.Entry{{Key: "user:5", Value: theirs}})

	rep, err := Run(kt.Context(t), f.config(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Scanned: nStrings + 4 + 3, Encrypted: nStrings + 2 - 1, AlreadyEncrypted: 2, Existing: 1,
		Left: keyspace.TypeCounts{"hash": 1, "list": 1, "set": 1}}
	if fmt.Sprint(rep.Counts) != fmt.Sprint(want) {
		t.Errorf("counts\n got %+v\nwant %+v", rep.Counts, want)
	}
	if len(rep.LeftExamples) != 3 || !strings.Contains(strings.Join(rep.LeftExamples, " "), "queue:…(") || strings.Contains(strings.Join(rep.LeftExamples, " "), "jobs") {
		t.Errorf("left examples %q: want masked names", rep.LeftExamples)
	}
	if rep.TTLSource != "pexpiretime" || !rep.Complete {
		t.Errorf("report %+v", rep)
	}
	v := rep.Verification
	if v == nil || !v.OK || v.Sampled != DefaultSample || v.Matched != DefaultSample || v.TTLMaxDriftMs != 0 ||
		v.SourceKeys != int64(nStrings+4+3) || v.DestinationKeys != int64(nStrings+4) {
		t.Errorf("verification %+v", v)
	}
	f.checkDestination(t, 0, "user:5")
	if got := kt.Read(t, f.dstC, []string{"user:5"})["user:5"].Value; got != theirs {
		t.Errorf("the destination's own user:5 was replaced")
	}
	for _, k := range []string{"queue:h", "queue:jobs", "tags:set"} {
		if n, _ := kt.Do(t, f.dstC, "EXISTS", k).AsInt64(); n != 0 {
			t.Errorf("%s was copied without --allow-unencrypted-types", k)
		}
	}

	// --overwrite replaces it, and rewrites what is there already.
	cfg := f.config(t)
	cfg.Overwrite = true
	rep, err = Run(kt.Context(t), cfg)
	if err != nil || rep.Overwritten != nStrings+4 || rep.Existing != 0 || !rep.Verification.OK {
		t.Fatalf("--overwrite: %+v, %v", rep, err)
	}
	f.checkDestination(t, 0)
}

// TestOtherTypes: --allow-unencrypted-types needs RESTORE, which the app
// user may not run: the error says to use the admin user, with which the
// keys are copied as they are, TTL included.
func TestOtherTypes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.config(t)
	cfg.AllowUnencryptedTypes = true
	_, err := Run(kt.Context(t), cfg)
	if !errors.Is(err, ErrRestoreRefused) || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("as the app user: %v", err)
	}
	os.Remove(cfg.StatePath)
	cfg.Dest = f.dst.Admin
	rep, err := Run(kt.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Restored != 3 || rep.Left.Total() != 0 || !rep.Verification.OK {
		t.Errorf("report %+v", rep)
	}
	for _, k := range []string{"queue:h", "queue:jobs", "tags:set"} {
		a := kt.Do(t, f.srcC, "DUMP", k)
		b := kt.Do(t, f.dstC, "DUMP", k)
		as, _ := a.ToString()
		bs, _ := b.ToString()
		ae, _ := kt.Do(t, f.srcC, "PEXPIRETIME", k).AsInt64()
		be, _ := kt.Do(t, f.dstC, "PEXPIRETIME", k).AsInt64()
		if as != bs || ae != be {
			t.Errorf("%s: dump equal %v, expiry %d on the source, %d on the destination", k, as == bs, ae, be)
		}
	}
	f.checkDestination(t, 0)
}

// TestResume: a stopped run resumes where it stopped; a run killed after
// writing but before its checkpoint (simulated by rewinding the state
// file) walks those keys again and finds them in sync: nothing is written
// twice or lost.
func TestResume(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stop := make(chan struct{})
	batches := 0
	cfg := f.config(t)
	cfg.Count = 100
	cfg.Stop = stop
	cfg.Progress = func(progress.Report) {
		if batches++; batches == 4 {
			close(stop)
		}
	}
	rep, err := Run(kt.Context(t), cfg)
	if !errors.Is(err, keyspace.ErrStopped) || rep.Complete || rep.Written() == 0 {
		t.Fatalf("stopped run: %+v, %v", rep, err)
	}
	cfg.Stop, cfg.Progress = nil, nil
	if _, err := Run(kt.Context(t), cfg); !errors.Is(err, keyspace.ErrInterruptedRun) {
		t.Fatalf("a run over a checkpoint without --resume: %v", err)
	}

	// Rewind the checkpoint to the start, keeping no counts: as if the
	// process had died before its first checkpoint.
	st, err := keyspace.LoadState[Counts](cfg.StatePath, Job)
	if err != nil {
		t.Fatal(err)
	}
	copied := st.Counts.Written()
	st.Cursor, st.Counts = 0, Counts{}
	if err := keyspace.SaveState(cfg.StatePath, st); err != nil {
		t.Fatal(err)
	}
	cfg.Resume = true
	rep, err = Run(kt.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(len(f.strings))
	if !rep.Resumed || !rep.Complete || rep.InSync != copied || rep.Written()+rep.InSync != total || rep.Existing != 0 || !rep.Verification.OK {
		t.Errorf("resumed run: %+v (copied before: %d)", rep, copied)
	}
	f.checkDestination(t, 0)
}

// TestDryRun writes nothing: no key, no state file.
func TestDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	kt.Put(t, f.dstC, []kt.Entry{{Key: "user:1", Value: "x"}})
	cfg := f.config(t)
	cfg.DryRun = true
	rep, err := Run(kt.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encrypted != nStrings+2-1 || rep.Existing != 1 || rep.Verification != nil {
		t.Errorf("report %+v", rep)
	}
	if n, _ := kt.Do(t, f.dstC, "DBSIZE").AsInt64(); n != 1 {
		t.Errorf("the destination has %d keys after a dry run, want 1", n)
	}
	if _, err := os.Stat(cfg.StatePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote the state file: %v", err)
	}
}

// TestPTTL: servers before Redis 7 have no PEXPIRETIME; deadlines from
// PTTL are never later than the source's, and earlier by little more than
// the time a read takes.
func TestPTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.config(t)
	cfg.forcePTTL = true
	start := time.Now()
	rep, err := Run(kt.Context(t), cfg)
	// A relative TTL moves the deadline earlier by the time between the
	// source's PTTL and the destination's write, which happen within the
	// run: that, and not a guess, is the bound (never later).
	ran := time.Since(start).Milliseconds() + 1
	if err != nil || rep.TTLSource != "pttl" || !rep.Verification.OK {
		t.Fatalf("%+v, %v", rep, err)
	}
	t.Logf("largest deadline difference in the sample: %d ms", rep.Verification.TTLMaxDriftMs)
	f.checkDestination(t, ran)
}

// TestSameDatabase is refused: it would read and write the same keys.
func TestSameDatabase(t *testing.T) {
	t.Parallel()
	target := keyspace.Target{Addr: "127.0.0.1:1"}
	_, err := Run(kt.Context(t), Config{Source: target, Dest: target, Sealer: seal.New(seal.GenerateKey())})
	if err == nil || !strings.Contains(err.Error(), "same database") {
		t.Fatal(err)
	}
}

// TestRaces: a key written on the destination after the source was read
// is kept (SET NX decides on the server, atomically), and a key whose TTL
// runs out between the read and the write is not written.
func TestRaces(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	deadline := time.Now().Add(1500 * time.Millisecond)
	kt.Put(t, f.srcC, []kt.Entry{{Key: "short", Value: "expires soon", Deadline: deadline.UnixMilli()}})
	theirs := string(f.sealer.Seal(nil, []byte("written meanwhile")))
	cfg := f.config(t)
	cfg.Count = 10_000
	cfg.afterRead = func([]string) {
		kt.Put(t, f.dstC, []kt.Entry{{Key: "user:9", Value: theirs}})
		time.Sleep(time.Until(deadline) + 10*time.Millisecond)
	}
	rep, err := Run(kt.Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Existing != 1 || rep.Expired+rep.Vanished != 1 {
		t.Errorf("report %+v", rep)
	}
	if rep.Vanished == 1 {
		t.Log("the machine is slow: the short key expired before it was read")
	}
	got := kt.Read(t, f.dstC, []string{"user:9", "short"})
	if got["user:9"].Value != theirs {
		t.Error("the destination's concurrent write was replaced")
	}
	if _, ok := got["short"]; ok {
		t.Error("an expired key was written")
	}
}
