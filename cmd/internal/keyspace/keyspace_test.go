package keyspace

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFraction(t *testing.T) {
	// A table of 8 slots is walked 0, 4, 2, 6, 1, 5, 3, 7: the reversed
	// cursor grows by 1/8 each step.
	for i, c := range []uint64{0, 4, 2, 6, 1, 5, 3, 7} {
		if got, want := Fraction(c), float64(i)/8; got != want {
			t.Errorf("Fraction(%d) = %v, want %v", c, got, want)
		}
	}
	// The same position in a table twice the size gives the same fraction.
	if Fraction(2) != Fraction(2) || Fraction(1) != 0.5 {
		t.Error("fractions do not depend on the table size")
	}
}

func TestLimiter(t *testing.T) {
	if err := NewLimiter(0).Wait(context.Background(), 1e9); err != nil {
		t.Fatal("a nil limiter never waits")
	}
	l := NewLimiter(1000)
	start := time.Now()
	for range 4 {
		if err := l.Wait(context.Background(), 50); err != nil {
			t.Fatal(err)
		}
	}
	// 200 operations at 1000/s: the first 50 go at once, the rest wait.
	if d := time.Since(start); d < 140*time.Millisecond || d > 2*time.Second {
		t.Errorf("4 batches of 50 at 1000/s took %v, want about 150ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, 1000); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a canceled context: %v", err)
	}
	if BatchFor(0, 500) != 500 || BatchFor(100, 500) != 10 || BatchFor(5, 500) != 1 || BatchFor(1e6, 500) != 500 {
		t.Error("BatchFor")
	}
}

type counts struct{ N int }

func TestState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.state")
	s := &State[counts]{Job: "rotate-key", Scope: "a", Cursor: 1<<63 + 5, Counts: counts{7}}
	if err := SaveState(path, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	got, err := LoadState[counts](path, "rotate-key")
	if err != nil || got.Cursor != s.Cursor || got.Counts.N != 7 {
		t.Fatalf("LoadState = %+v, %v", got, err)
	}
	if _, err := LoadState[counts](path, "migrate"); err == nil || !strings.Contains(err.Error(), "--state") {
		t.Errorf("another job's file: %v", err)
	}
	os.WriteFile(path, []byte("{garbage"), 0o600)
	if _, err := LoadState[counts](path, "rotate-key"); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := LoadState[counts](filepath.Join(dir, "none"), "x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	cp := Checkpoint[counts]{Path: path, Job: "j", Scope: "a"}
	open := func(cp Checkpoint[counts]) (*State[counts], bool, error) { return cp.Open() }

	// Nothing saved: fresh, with or without --resume.
	for _, resume := range []bool{false, true} {
		cp.Resume = resume
		if s, resumed, err := open(cp); err != nil || resumed || s.Cursor != 0 {
			t.Fatalf("no file, resume %v: %+v %v %v", resume, s, resumed, err)
		}
	}
	SaveState(path, &State[counts]{Job: "j", Scope: "a", Cursor: 42, Counts: counts{3}})
	cp.Resume = false
	if _, _, err := open(cp); !errors.Is(err, ErrInterruptedRun) || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("unfinished run without --resume: %v", err)
	}
	cp.Resume = true
	if s, resumed, err := open(cp); err != nil || !resumed || s.Cursor != 42 || s.Counts.N != 3 {
		t.Errorf("resume: %+v %v %v", s, resumed, err)
	}
	other := cp
	other.Scope = "b"
	if _, _, err := open(other); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("another scope: %v", err)
	}
	SaveState(path, &State[counts]{Job: "j", Scope: "a", Done: true})
	if s, resumed, err := open(cp); err != nil || !resumed || !s.Done {
		t.Errorf("resume of a finished run: %+v %v %v", s, resumed, err)
	}
	cp.Resume = false
	if s, _, err := open(cp); err != nil || s.Done {
		t.Errorf("new run after a finished one: %+v %v", s, err)
	}
	other.Resume = false
	if s, _, err := open(other); err != nil || s.Done {
		t.Errorf("new run of another scope after a finished one: %+v %v", s, err)
	}
}

func TestTypes(t *testing.T) {
	var c TypeCounts
	c.Add("list", 1)
	c.Merge(TypeCounts{"hash": 3, "list": 1, "zset": 2})
	if c.String() != "hash 3, list 2, zset 2" || c.Total() != 7 {
		t.Errorf("%v %d", c, c.Total())
	}
}

// TestStopDuringRateWait: Stop ends a walk that a rate limit holds back,
// before the held batch is handed out.
func TestStopDuringRateWait(t *testing.T) {
	l := NewLimiter(1)
	l.Wait(context.Background(), 1000) // the next batch waits 1000 s
	stop := make(chan struct{})
	w := Walk{Limit: l, Stop: stop}
	time.AfterFunc(50*time.Millisecond, func() { close(stop) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- w.admit(ctx, 1)
	}()
	if err := <-errc; !errors.Is(err, ErrStopped) {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
}

func TestBeginNeedsAWritableStateFile(t *testing.T) {
	cp := Checkpoint[counts]{Path: filepath.Join(t.TempDir(), "no-such-dir", "s"), Job: "j"}
	var o Outcome
	if _, err := cp.Begin(&o); err == nil || !strings.Contains(err.Error(), "cannot write the state file") {
		t.Fatalf("Begin = %v", err)
	}
	dir := t.TempDir()
	cp.Path = filepath.Join(dir, "s")
	if _, err := cp.Begin(&o); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Begin left %v behind", entries)
	}
}
