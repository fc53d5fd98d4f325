package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

func TestRoundTripSizes(t *testing.T) {
	s := New(GenerateKey())
	for n := 0; n <= 3*chunkLen+40; n += 1 + n/7 {
		msg := make([]byte, n)
		rand.Read(msg)
		tok := s.Seal([]byte("head:"), msg)
		if string(tok[:5]) != "head:" || len(tok) != 5+SealedLen(n) {
			t.Fatalf("size %d: Seal did not append %d bytes to dst", n, SealedLen(n))
		}
		got, err := s.Open([]byte("out:"), tok[5:], 0)
		if err != nil || string(got[:4]) != "out:" || !bytes.Equal(got[4:], msg) {
			t.Fatalf("size %d: Open = %d bytes, %v", n, len(got), err)
		}
	}
}

func TestSealedLen(t *testing.T) {
	for n, want := range map[int]int{0: 100, 15: 100, 16: 120, 17: 120, 1024: 1464} {
		if got := SealedLen(n); got != want {
			t.Errorf("SealedLen(%d) = %d, want %d", n, got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SealedLen(-1) did not panic")
		}
	}()
	SealedLen(-1)
}

func TestFreshIVAndTimestamp(t *testing.T) {
	s := New(GenerateKey())
	a, b := s.Seal(nil, []byte("same")), s.Seal(nil, []byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: IV reused")
	}
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 999e6, time.UTC)
	ts, err := s.Timestamp(s.WithClock(fixedClock(t0)).Seal(nil, nil))
	if err != nil || !ts.Equal(t0.Truncate(time.Second)) {
		t.Fatalf("Timestamp = %v, %v; want %v", ts, err, t0.Truncate(time.Second))
	}
}

func TestWithClockAndKeys(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	s := New(a, b)
	c := s.WithClock(fixedClock(time.Unix(100, 0)))
	if ts, _ := s.Timestamp(s.Seal(nil, nil)); time.Since(ts) > time.Minute {
		t.Fatal("WithClock changed the original Sealer")
	}
	if ts, _ := c.Timestamp(c.Seal(nil, nil)); ts.Unix() != 100 {
		t.Fatalf("WithClock ignored: %v", ts)
	}
	if ts, _ := c.WithClock(nil).Timestamp(c.Seal(nil, nil)); ts.Unix() != 100 {
		t.Fatal("Timestamp depends on the clock")
	}
	keys := s.Keys()
	if len(keys) != 2 || keys[0] != a || keys[1] != b {
		t.Fatalf("Keys = %v", keys)
	}
	keys[0] = b
	if s.Keys()[0] != a {
		t.Fatal("Keys exposes the Sealer's slice")
	}
	for _, f := range []func(){func() { New(nil) }, func() { New(a, nil) }, func() { New(&Key{}) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("New with a nil key did not panic")
				}
			}()
			f()
		}()
	}
}

func TestKeyRotation(t *testing.T) {
	k1, k2, k3 := GenerateKey(), GenerateKey(), GenerateKey()
	old := time.Unix(1_600_000_000, 0)
	tok1 := New(k1).WithClock(fixedClock(old)).Seal(nil, []byte("one"))
	tok2 := New(k2).Seal(nil, []byte("two"))
	s := New(k3, k2, k1)
	for want, tok := range map[int][]byte{2: tok1, 1: tok2, 0: s.Seal(nil, []byte("three"))} {
		if _, idx, err := s.OpenKey(nil, tok, 0); err != nil || idx != want {
			t.Errorf("OpenKey index = %d, %v; want %d", idx, err, want)
		}
	}
	rot, err := s.Rotate([]byte("x"), tok1)
	if err != nil || rot[0] != 'x' {
		t.Fatal(err)
	}
	p, idx, err := New(k3).OpenKey(nil, rot[1:], 0)
	if err != nil || string(p) != "one" || idx != 0 {
		t.Fatalf("rotated token: %q, %d, %v", p, idx, err)
	}
	if ts, _ := New(k3).Timestamp(rot[1:]); !ts.Equal(old) {
		t.Fatalf("Rotate changed the timestamp to %v", ts)
	}
	// Rotation ignores ttl, as in Python: old data can still be migrated.
	if _, err := s.Open(nil, tok1, time.Hour); !errors.Is(err, ErrExpired) {
		t.Fatalf("expected the old token to be expired: %v", err)
	}
	if _, err := s.Rotate(nil, []byte("garbage")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Rotate(garbage) = %v", err)
	}
}

// Timestamps are unsigned 64-bit in the format; the extreme values must be
// carried through intact and judged as Python judges them.
func TestExtremeTimestamps(t *testing.T) {
	k := GenerateKey()
	s := New(k)
	for _, ts := range []uint64{0, 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
		tok := s.sealAt(nil, []byte("v"), ts, nil)
		if _, err := s.Open(nil, tok, 0); err != nil {
			t.Errorf("ts %d, no ttl: %v", ts, err)
		}
		_, err := s.Open(nil, tok, time.Hour)
		switch {
		case ts < 2:
			if !errors.Is(err, ErrExpired) {
				t.Errorf("ts %d, ttl: %v, want expired", ts, err)
			}
		default:
			if !errors.Is(err, ErrFutureTimestamp) {
				t.Errorf("ts %d, ttl: %v, want future", ts, err)
			}
		}
		rot, err := s.Rotate(nil, tok)
		if err != nil || !bytes.Equal(decodeRaw(t, rot)[1:9], decodeRaw(t, tok)[1:9]) {
			t.Errorf("ts %d: Rotate changed the timestamp: %v", ts, err)
		}
		got, err := s.Timestamp(tok)
		if ts <= math.MaxInt64/2 {
			if err != nil || got.Unix() != int64(ts) {
				t.Errorf("Timestamp(ts %d) = %v, %v", ts, got, err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("Timestamp(ts %d) = %v, %v; want out of range", ts, got, err)
		}
	}
}

func TestCheckTime(t *testing.T) {
	const max = math.MaxUint64
	for _, c := range []struct {
		ts   uint64
		ttl  time.Duration
		now  time.Time
		want error
	}{
		{100, 10 * time.Second, time.Unix(110, 0), nil},
		{100, 10 * time.Second, time.Unix(111, 0), ErrExpired},
		{100, 10 * time.Second, time.Unix(110, 999_999_999), nil},
		{100, 10 * time.Second, time.Unix(40, 0), nil},
		{100, 10 * time.Second, time.Unix(39, 0), ErrFutureTimestamp},
		{100, math.MaxInt64, time.Unix(math.MaxInt64, 0), ErrExpired},
		{0, math.MaxInt64, time.Unix(9_223_372_036, 0), nil},
		{0, math.MaxInt64, time.Unix(9_223_372_037, 0), ErrExpired},
		{max, time.Second, time.Unix(math.MaxInt64, 0), ErrFutureTimestamp},
		{uint64(math.MaxInt64) + 60, time.Second, time.Unix(math.MaxInt64, 0), nil},
		{0, time.Second, time.Unix(-60, 0), nil},
		{1, time.Second, time.Unix(-60, 0), ErrFutureTimestamp},
		{0, time.Second, time.Unix(-61, 0), ErrFutureTimestamp},
		{0, time.Second, time.Unix(math.MinInt64, 0), ErrFutureTimestamp},
		{60, time.Second, time.Unix(0, 0), nil},
		{61, time.Second, time.Unix(0, 0), ErrFutureTimestamp},
	} {
		if err := checkTime(c.ts, c.ttl, c.now); err != c.want {
			t.Errorf("checkTime(%d, %v, %d) = %v, want %v", c.ts, c.ttl, c.now.Unix(), err, c.want)
		}
	}
}

// Like crypto/cipher's AEADs, Seal and Open accept dst sharing memory with
// their input; they must notice and not corrupt it.
func TestInPlace(t *testing.T) {
	s := New(GenerateKey())
	msg := bytes.Repeat([]byte("in place "), 500)
	buf := make([]byte, len(msg), SealedLen(len(msg))+100)
	copy(buf, msg)
	tok := s.Seal(buf[:0], buf)
	got, err := s.Open(tok[:0], tok, 0)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("in-place round trip: %v", err)
	}
	// Input starting inside dst's spare capacity.
	buf = make([]byte, 10, 10+2*SealedLen(len(msg)))
	pt := append(buf[:cap(buf)][10+SealedLen(len(msg))/2:][:0], msg...)
	tok = s.Seal(buf, pt)
	if got, err := s.Open(nil, tok[10:], 0); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("overlapping seal: %v", err)
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	s := New(GenerateKey(), GenerateKey())
	msg := make([]byte, 1<<10)
	tok := make([]byte, 0, SealedLen(len(msg)))
	out := make([]byte, 0, SealedLen(len(msg)))
	if n := testing.AllocsPerRun(100, func() {
		tok = s.Seal(tok[:0], msg)
		var err error
		if out, err = s.Open(out[:0], tok, time.Minute); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Seal+Open with capacity: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		tok := s.Seal(nil, msg)
		if _, err := s.Open(nil, tok, 0); err != nil {
			t.Fatal(err)
		}
	}); n > 4 {
		t.Errorf("Seal+Open with nil dst: %v allocs, want <= 4", n)
	}
	// Rejecting garbage must be cheap too.
	bad := bytes.Repeat([]byte("A"), 200)
	if n := testing.AllocsPerRun(100, func() { s.Open(out[:0], bad, 0) }); n != 0 {
		t.Errorf("Open(garbage): %v allocs", n)
	}
}

func TestConcurrent(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	s := New(a, b)
	old := New(b).Seal(nil, []byte("old"))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			msg := bytes.Repeat([]byte{byte(g)}, 100*g)
			for range 200 {
				got, err := s.Open(nil, s.Seal(nil, msg), time.Minute)
				if err != nil || !bytes.Equal(got, msg) {
					t.Error("concurrent round trip failed")
					return
				}
				if p, idx, err := s.OpenKey(nil, old, 0); err != nil || idx != 1 || string(p) != "old" {
					t.Error("concurrent OpenKey failed")
					return
				}
			}
		})
	}
	wg.Wait()
}
