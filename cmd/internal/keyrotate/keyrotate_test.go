package keyrotate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	kt "github.com/redsafe/redsafe/cmd/internal/keyspace/keyspacetest"
	"github.com/redsafe/redsafe/seal"
)

// keys for the tests: values were sealed under oldKey, the service now
// writes with newKey.
type keys struct {
	old, new *seal.Key
	oldOnly  *seal.Sealer // what wrote the data, an hour ago
	newOnly  *seal.Sealer // what must open everything afterwards
	both     *seal.Sealer // the configuration during rotation
	sealedAt time.Time
}

func newKeys() keys {
	k := keys{old: seal.GenerateKey(), new: seal.GenerateKey(), sealedAt: time.Now().Add(-time.Hour).Truncate(time.Second)}
	k.oldOnly = seal.New(k.old).WithClock(func() time.Time { return k.sealedAt })
	k.newOnly = seal.New(k.new)
	k.both = seal.New(k.new, k.old)
	return k
}

func plaintext(i int) string { return fmt.Sprintf(`{"user":%d,"session":"s-%d"}`, i, i*7919) }

// seed writes n keys "k:<i>" sealed under the old key, a third without
// TTL, a third expiring in minutes, a third in hours, and returns them.
func (k keys) seed(t testing.TB, c rueidis.Client, prefix string, n int) []kt.Entry {
	t.Helper()
	now := time.Now().UnixMilli()
	entries := make([]kt.Entry, n)
	for i := range entries {
		e := kt.Entry{Key: fmt.Sprintf("%s%d", prefix, i), Value: string(k.oldOnly.Seal(nil, []byte(plaintext(i))))}
		switch i % 3 {
		case 1:
			e.Deadline = now + int64(60_000+i%240_000)
		case 2:
			e.Deadline = now + int64(3_600_000+i*13)
		}
		entries[i] = e
	}
	kt.Put(t, c, entries)
	return entries
}

// setup starts a TLS server with the app user and seeds n keys under the
// old key.
func setup(t *testing.T, prefix string, n int) (*kt.Server, rueidis.Client, keys, []kt.Entry) {
	t.Helper()
	srv := kt.Start(t, false)
	admin := kt.Dial(t, srv.Admin, 0)
	k := newKeys()
	return srv, admin, k, k.seed(t, admin, prefix, n)
}

func names(entries []kt.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Key
	}
	return out
}

// writer keeps replacing a subset of keys with new-key tokens of distinct
// content, like a service that was already deployed with the new key,
// until stop closes. last holds every key's last acknowledged write.
type writer struct {
	mu   sync.Mutex
	last map[string]string
	n    int
}

func (k keys) write(t *testing.T, c rueidis.Client, subset []string, stop <-chan struct{}, wg *sync.WaitGroup, w *writer) {
	defer wg.Done()
	ctx := kt.Context(t)
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		key := subset[rand.IntN(len(subset))]
		v := fmt.Sprintf("writer %d of %s", seq, key)
		token := k.newOnly.Seal(nil, []byte(v))
		if err := c.Do(ctx, c.B().Set().Key(key).Value(string(token)).Keepttl().Build()).Error(); err != nil {
			t.Error(err)
			return
		}
		w.mu.Lock()
		w.last[key] = v
		w.n++
		w.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

// TestRotateUnderLoad rotates 50,000 keys with mixed TTLs, over TLS, as
// the app user whose ACL refuses Lua, while writers keep updating a subset
// of them. Afterwards every value opens with the new key alone, every TTL
// is unchanged, and every concurrent write survived.
func TestRotateUnderLoad(t *testing.T) {
	t.Parallel()
	n := 50_000
	if testing.Short() {
		n = 5_000
	}
	srv, admin, k, entries := setup(t, "k:", n)
	app := kt.Dial(t, srv.App, 0)
	if err := app.Do(kt.Context(t), app.B().Eval().Script("return 1").Numkeys(0).Build()).Error(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("EVAL as the app user: %v; the test needs a user whose ACL refuses Lua", err)
	}

	var subset []string
	for i := 0; i < n; i += 25 {
		subset = append(subset, entries[i].Key)
	}
	w := &writer{last: map[string]string{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const writers = 4
	for i := range writers {
		wg.Add(1)
		part := subset[i*len(subset)/writers : (i+1)*len(subset)/writers]
		go k.write(t, app, part, stop, &wg, w)
	}

	start := time.Now()
	rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: k.both, StatePath: t.TempDir() + "/state"})
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rotated %d keys over TLS in %v (%.0f keys/s), %d concurrent writes, %d changed by writers, report %+v",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), w.n, rep.ChangedByWriters, rep.Counts)

	if !rep.Complete || rep.Scanned < int64(n) || rep.Undecryptable != 0 || rep.SkippedTypes.Total() != 0 || rep.Contended != 0 {
		t.Errorf("report %+v", rep)
	}
	if rep.Rotated+rep.Current+rep.Vanished != rep.Scanned {
		t.Errorf("rotated %d + current %d + vanished %d != scanned %d", rep.Rotated, rep.Current, rep.Vanished, rep.Scanned)
	}
	if rep.Rotated < int64(n-len(subset)) {
		t.Errorf("rotated %d, want at least %d (every key the writers never touched)", rep.Rotated, n-len(subset))
	}

	got := kt.Read(t, admin, names(entries))
	if len(got) != n {
		t.Fatalf("%d keys hold strings afterwards, want %d", len(got), n)
	}
	bad := 0
	for i, e := range entries {
		g := got[e.Key]
		pt, err := k.newOnly.Open(nil, []byte(g.Value), 0)
		want := plaintext(i)
		if v, ok := w.last[e.Key]; ok {
			want = v
		}
		wantDeadline := e.Deadline
		if wantDeadline == 0 {
			wantDeadline = -1
		}
		switch {
		case err != nil:
			t.Errorf("%s does not open with the new key alone: %v", e.Key, err)
		case string(pt) != want:
			t.Errorf("%s = %q, want %q", e.Key, pt, want)
		case g.Deadline != wantDeadline:
			t.Errorf("%s expires at %d, want %d", e.Key, g.Deadline, wantDeadline)
		default:
			if _, written := w.last[e.Key]; !written {
				if ts, _ := k.newOnly.Timestamp([]byte(g.Value)); !ts.Equal(k.sealedAt) {
					t.Errorf("%s has timestamp %v, want the original %v", e.Key, ts, k.sealedAt)
				}
			}
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many errors")
		}
	}
}

// TestRotateConvertsToSealed: with the sealed format configured, rotate-key
// converts every Fernet value, under the old key or the primary, into a
// sealed token bound to its own key name, keeping TTLs and timestamps; a
// second run finds nothing to do, and each token opens only under its name.
func TestRotateConvertsToSealed(t *testing.T) {
	t.Parallel()
	srv, admin, k, entries := setup(t, "conv:", 300)
	// A third is already under the new key, still Fernet.
	for i := 0; i < len(entries); i += 3 {
		entries[i].Value = string(k.newOnly.Seal(nil, []byte(plaintext(i))))
	}
	kt.Put(t, admin, entries)
	sealed := k.both.WithFormat(seal.Sealed)
	rep, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: sealed, StatePath: t.TempDir() + "/state"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.Rotated != int64(len(entries)) || rep.Current != 0 || rep.Undecryptable != 0 {
		t.Fatalf("report %+v: every Fernet value is to be converted", rep.Counts)
	}
	ctx := kt.Context(t)
	for i, e := range entries {
		raw, err := admin.Do(ctx, admin.B().Get().Key(e.Key).Build()).AsBytes()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := seal.TokenFormat(raw); !ok || f != seal.Sealed {
			t.Fatalf("%s is still %v after the conversion", e.Key, f)
		}
		got, err := seal.New(k.new).OpenFor(nil, e.Key, raw, 0)
		if err != nil || string(got) != plaintext(i) {
			t.Fatalf("%s: %q, %v", e.Key, got, err)
		}
		if _, err := seal.New(k.new).OpenFor(nil, e.Key+"x", raw, 0); !errors.Is(err, seal.ErrAuthentication) {
			t.Fatalf("%s opened under another name: %v", e.Key, err)
		}
		ts, err := seal.New(k.new).TimestampFor(e.Key, raw)
		if i%3 != 0 && (err != nil || !ts.Equal(k.sealedAt)) {
			t.Fatalf("%s: timestamp %v, %v; want %v kept", e.Key, ts, err, k.sealedAt)
		}
		if e.Deadline != 0 {
			pttl, _ := admin.Do(ctx, admin.B().Pttl().Key(e.Key).Build()).AsInt64()
			if pttl <= 0 {
				t.Fatalf("%s lost its TTL", e.Key)
			}
		}
	}
	again, err := Run(kt.Context(t), Config{Target: srv.App, DBs: []int{0}, Sealer: sealed, StatePath: t.TempDir() + "/state2"})
	if err != nil || again.Rotated != 0 || again.Current != int64(len(entries)) {
		t.Fatalf("second run: %+v, %v", again.Counts, err)
	}
}
