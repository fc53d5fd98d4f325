package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	prevHi := uint64(0)
	for i := range histBuckets {
		lo, hi := bounds(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, the previous ended at %d", i, lo, prevHi)
		}
		if bucket(lo) != i || bucket(hi) != i {
			t.Fatalf("bucket %d = [%d, %d], but bucket(lo) = %d, bucket(hi) = %d", i, lo, hi, bucket(lo), bucket(hi))
		}
		if lo >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-9 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its values", i, lo, hi, subCount)
		}
		prevHi = hi
	}
	if prevHi != ^uint64(0) {
		t.Fatalf("the last bucket ends at %d", prevHi)
	}
}

func TestQuantilesWithinResolution(t *testing.T) {
	var h, a, b histogram
	var all []time.Duration
	for i := range 100_000 {
		// A long-tailed mix: most around 50 µs, a few up to 20 ms.
		d := time.Duration(40_000 + rand.IntN(20_000))
		if i%100 == 0 {
			d = time.Duration(rand.Int64N(int64(20 * time.Millisecond)))
		}
		all = append(all, d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	h.merge(&a)
	h.merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[min(int(q*float64(len(all))+0.5), len(all))-1]
		got := h.quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 1.0/subCount || diff < -1.0/subCount {
			t.Errorf("quantile %v = %v, exact %v: off by %.1f%%", q, got, exact, 100*diff)
		}
	}
	if h.n != 100_000 || h.quantile(1) != all[len(all)-1] {
		t.Errorf("n = %d, max = %v; want 100000 and %v", h.n, h.quantile(1), all[len(all)-1])
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("an empty histogram has a median")
	}
}
