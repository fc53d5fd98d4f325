package redsafe

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// killDownAfter is down-after-milliseconds for TestSentinelKillMaster:
// 2000, what `redsafe up --sentinel` configures, so that the times
// measured here are those of its deployment.
const killDownAfter = 2 * time.Second

// resumeBound is the resume time the test accepts: the master seen down,
// then a failover that may fail once (its election split, on a loaded
// machine: seen at 22.8 s with the whole package's tests running), which
// the Sentinels try again twice failover-timeout after it began, plus
// time for the second to finish.
const resumeBound = killDownAfter + 2*redisserver.SentinelFailoverTimeout + 8*time.Second

// TestSentinelKillMaster: writers and readers run through the library
// while the master is killed with SIGKILL, several times (3 runs, or
// REDSAFE_FAILOVER_RUNS), each on its own deployment. Calls resume
// against the promoted replica; the time from the kill to the first
// successful write, the calls that failed in between (each a typed error a
// caller can retry: never a wrong value, never plaintext), and the
// acknowledged writes the new master lacks, with Set and with SetWait (1
// replica), are measured and logged, one greppable line per run
// ("failover run i/n: ...") and a summary. Lost writes are counted, not
// asserted away: Redis replication is asynchronous, and a write the master
// acknowledged just before it died may never have left it.
func TestSentinelKillMaster(t *testing.T) {
	t.Parallel()
	runs := 3
	if v := os.Getenv("REDSAFE_FAILOVER_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("REDSAFE_FAILOVER_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	var results []killRun
	for i := 1; i <= runs; i++ {
		t.Run(fmt.Sprintf("run%d", i), func(t *testing.T) {
			r := killMaster(t)
			t.Logf("failover run %d/%d: resumed after %.2fs, %d failed calls, lost acked writes: %d plain, %d with WAIT",
				i, runs, r.resumed.Seconds(), r.failed, r.plain.lost, r.wait.lost)
			t.Logf("failover run %d/%d detail: %d failover attempts aborted (Sentinel logs); failures by class %v; acked %d plain, %d with WAIT; %d SetWait not replicated (the new master has no replica); %v",
				i, runs, r.aborted, r.classes, r.plain.acked, r.wait.acked, r.notReplicated, r.loop)
			results = append(results, r)
		})
	}
	if len(results) == 0 {
		return
	}
	resumes := make([]time.Duration, len(results))
	var failed, lostPlain, ackedPlain, lostWait, ackedWait int
	for i, r := range results {
		resumes[i] = r.resumed
		failed += r.failed
		lostPlain, ackedPlain = lostPlain+r.plain.lost, ackedPlain+r.plain.acked
		lostWait, ackedWait = lostWait+r.wait.lost, ackedWait+r.wait.acked
	}
	slices.Sort(resumes)
	t.Logf("failover summary (%d runs, SIGKILL, down-after-milliseconds %d): resumed after median %.2fs, worst %.2fs; %d failed calls in all; lost acked writes: %d of %d plain, %d of %d with WAIT",
		len(results), killDownAfter.Milliseconds(), median(resumes).Seconds(), resumes[len(resumes)-1].Seconds(),
		failed, lostPlain, ackedPlain, lostWait, ackedWait)
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// killRun is what one run of TestSentinelKillMaster measured.
type killRun struct {
	resumed       time.Duration // from the kill to the first successful write
	failed        int           // calls that failed, of every writer and reader
	classes       map[ErrorClass]int
	notReplicated int // SetWait calls that got ErrNotReplicated
	aborted       int // failover attempts the Sentinels logged as aborted
	plain, wait   ackedWrites
	loop          calls
}

// ackedWrites are the writes a writer saw acknowledged, and how many of
// them the new master lacks.
type ackedWrites struct {
	failures
	keys        []string // key i holds strconv.Itoa(i)
	times       []span   // when the write of keys[i] started and was acknowledged
	acked, lost int
}

// killMaster runs the scenario once.
func killMaster(t *testing.T) killRun {
	sc := sentinelDeployment()
	sc.DownAfter = killDownAfter
	sn := redisserver.StartSentinel(t, sc)
	o := sentinelOptions(sn)
	o.CommandTimeout = 2 * time.Second
	c := openCache(t, o)
	// No deadline: each call is bounded by CommandTimeout, as a service's
	// would be, so a read rueidis retries during the outage ends.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("k:%d", i)
	}
	stopLoop := startCalls(t, ctx, c, keys)
	stopPlain := startAckedWrites(ctx, "plain", func(k string, v []byte) error {
		return c.Set(ctx, k, v, 10*time.Minute)
	})
	stopWait := startAckedWrites(ctx, "wait", func(k string, v []byte) error {
		_, err := c.SetWait(ctx, k, v, 10*time.Minute, 1, 100*time.Millisecond)
		return err
	}, ErrNotReplicated)
	time.Sleep(500 * time.Millisecond)

	killedAt := time.Now()
	sn.Master.Kill()
	reaped := time.Now() // no Set started after this can reach the old master
	replica := sn.Replicas[0]
	waitUntil(t, resumeBound, "the replica to be promoted", func() bool {
		role, _ := replica.Ask("ROLE")
		return strings.HasPrefix(role, "master\n")
	})
	waitUntil(t, resumeBound, "a write through the Cache to reach the new master", func() bool {
		if c.Set(ctx, "after-kill", []byte("x"), time.Minute) != nil {
			return false
		}
		v, _ := replica.Ask("GET", "after-kill")
		return strings.HasPrefix(v, "gAAAAA")
	})
	time.Sleep(300 * time.Millisecond)
	r := killRun{loop: stopLoop(), plain: stopPlain(), wait: stopWait()}

	resumedAt, ok := r.loop.firstSetAfter(reaped)
	if s, ok2 := r.plain.firstAckAfter(reaped); ok2 && (!ok || s.Before(resumedAt)) {
		resumedAt, ok = s, true
	}
	if !ok {
		t.Fatal("no write of the writers succeeded after the kill")
	}
	r.resumed = resumedAt.Sub(killedAt)
	if r.resumed > resumeBound {
		t.Errorf("writes resumed %v after the kill; the bound is %v", r.resumed, resumeBound)
	}
	for _, s := range sn.Sentinels {
		r.aborted += strings.Count(s.LogTail(500), "-failover-abort")
	}
	r.classes = map[ErrorClass]int{}
	for _, f := range []failures{r.loop.failures, r.plain.failures, r.wait.failures} {
		r.failed += f.failed
		for class, n := range f.classes {
			r.classes[class] += n
		}
		for _, err := range f.unretryable {
			t.Errorf("a call failed with %v, not a typed error a caller can retry", err)
		}
	}
	r.notReplicated = r.wait.classes[ClassNotReplicated]
	r.plain.lost = lostWrites(t, c, r.plain.keys)
	r.wait.lost = lostWrites(t, c, r.wait.keys)
	r.plain.acked, r.wait.acked = len(r.plain.keys), len(r.wait.keys)
	// What the new master holds is sealed.
	for _, k := range []string{keys[0], "after-kill"} {
		if v := replica.Do(t, "GET", k); !strings.HasPrefix(v, "gAAAAA") {
			t.Errorf("the new master holds %q under a written key, want a Fernet token", v)
		}
	}
	return r
}

// startAckedWrites writes a new key (lost:name:i, value i) in a loop
// with write until stop, recording each write acknowledged and each
// failure; expected are the errors a failure may be besides a retryable
// one.
func startAckedWrites(ctx context.Context, name string, write func(key string, value []byte) error, expected ...error) (stop func() ackedWrites) {
	quit := make(chan struct{})
	done := make(chan ackedWrites)
	go func() {
		var w ackedWrites
		for i := 0; ; i++ {
			select {
			case <-quit:
				done <- w
				return
			default:
			}
			k := fmt.Sprintf("lost:%s:%d", name, i)
			start := time.Now()
			if err := write(k, []byte(strconv.Itoa(i))); err != nil {
				w.add(err, expected...)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			w.keys = append(w.keys, k)
			w.times = append(w.times, span{start, time.Now()})
			time.Sleep(time.Millisecond) // leaves some CPU to the Sentinels of a busy machine
		}
	}()
	return func() ackedWrites {
		close(quit)
		return <-done
	}
}

// firstAckAfter is when the first write that started after t was
// acknowledged.
func (w ackedWrites) firstAckAfter(t time.Time) (time.Time, bool) {
	return calls{sets: w.times}.firstSetAfter(t)
}

// lostWrites reads every acknowledged key back through c (from the new
// master) and counts those missing. A value other than the one written
// fails the test.
func lostWrites(t *testing.T, c *Cache, keys []string) (lost int) {
	t.Helper()
	ctx := testContext(t)
	for chunk := range slices.Chunk(keys, 500) {
		got, err := c.GetMany(ctx, chunk)
		if err != nil {
			t.Fatalf("reading the acknowledged writes back: %v", err)
		}
		for _, k := range chunk {
			v, ok := got[k]
			if !ok {
				lost++
				continue
			}
			if want := k[strings.LastIndexByte(k, ':')+1:]; string(v) != want {
				t.Errorf("%s holds %q, never written there (want %s)", k, v, want)
			}
		}
	}
	return lost
}
