package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestPairedRatio: the median and quartiles of the per-round ratios, an
// even count's median the mean of the middle two; a round in which the
// denominator did nothing gives no ratio, and no rounds give the zero
// Paired rather than a division by zero.
func TestPairedRatio(t *testing.T) {
	num := []float64{90, 100, 110, 120, 130}
	den := []float64{100, 100, 100, 100, 100}
	if p := PairedRatio(num, den); !near(p.Median, 1.1) || !near(p.P25, 1.0) || !near(p.P75, 1.2) || p.Rounds != 5 {
		t.Errorf("five rounds: %+v, want median 1.1, IQR 1.0-1.2", p)
	}
	if p := PairedRatio([]float64{4, 1, 3, 2}, []float64{1, 1, 1, 1}); !near(p.Median, 2.5) || !near(p.P25, 1.75) || !near(p.P75, 3.25) || p.Rounds != 4 {
		t.Errorf("four rounds: %+v, want median 2.5, IQR 1.75-3.25", p)
	}
	if p := PairedRatio([]float64{7}, []float64{2}); !near(p.Median, 3.5) || !near(p.P25, 3.5) || !near(p.P75, 3.5) || p.Rounds != 1 {
		t.Errorf("one round: %+v", p)
	}
	// The pairing is by round, not by sorted value: num's best round
	// against den's worst is not a ratio.
	if p := PairedRatio([]float64{100, 200}, []float64{100, 200}); !near(p.Median, 1) || !near(p.P25, 1) || !near(p.P75, 1) {
		t.Errorf("equal rounds: %+v, want 1 throughout", p)
	}
	if p := PairedRatio([]float64{50, 99, 60}, []float64{100, 0, 100}); p.Rounds != 2 || !near(p.Median, 0.55) {
		t.Errorf("a round without plaintext operations: %+v, want 2 rounds, median 0.55", p)
	}
	// A round in which the numerator stalled is a real round: ratio 0.
	if p := PairedRatio([]float64{0, 100, 100}, []float64{100, 100, 100}); p.Rounds != 3 || !near(p.P25, 0.5) || !near(p.Median, 1) {
		t.Errorf("a stalled round: %+v", p)
	}
	for _, c := range [][2][]float64{{nil, nil}, {{1, 2}, nil}, {{1}, {0}}} {
		if p := PairedRatio(c[0], c[1]); p != (Paired{}) {
			t.Errorf("PairedRatio(%v, %v) = %+v, want the zero Paired", c[0], c[1], p)
		}
	}
}

// TestDisturbedRound: 15 rounds in which redsafe-sealed runs at 0.98 of
// plaintext, but one of its slices is disturbed (another process took
// the core: 100 ops/s instead of 980). The ratio of the cell's sums, what
// the bench used to report, falls to 0.92, under a 0.97 target; the
// median of the paired ratios stays at 0.98, and so do its quartiles. A
// disturbed plaintext slice likewise leaves it alone, where the ratio of
// sums rises above 1.
func TestDisturbedRound(t *testing.T) {
	const rounds = 15
	slice := func(opsPerSec float64) sliceResult {
		return sliceResult{elapsed: 100 * time.Millisecond, ops: uint64(opsPerSec / 10)}
	}
	run := func(plaintext, sealed func(r int) float64) []Result {
		var p, s accum
		for r := range rounds {
			p.add(slice(plaintext(r)))
			s.add(slice(sealed(r)))
		}
		rs := []Result{p.result(StackPlaintext, "setget", 1024, 1, nil), s.result(StackSealed, "setget", 1024, 1, nil)}
		pairWithPlaintext(rs)
		return rs
	}
	steady := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	disturbed := func(v, at float64) func(int) float64 {
		return func(r int) float64 {
			if r == 7 {
				return at
			}
			return v
		}
	}

	rs := run(steady(10000), disturbed(9800, 1000))
	sums := rs[1].OpsPerSec / rs[0].OpsPerSec
	if sums >= 0.93 {
		t.Fatalf("the ratio of sums is %.3f: the case does not disturb it", sums)
	}
	if got := rs[1]; !near(got.RatioToPlaintext, 0.98) || !near(got.RatioP25, 0.98) || !near(got.RatioP75, 0.98) || got.Rounds != rounds {
		t.Errorf("a disturbed sealed slice: ratio %.3f (IQR %.3f-%.3f, %d rounds), want 0.98 in all 15 (ratio of sums %.3f)",
			got.RatioToPlaintext, got.RatioP25, got.RatioP75, got.Rounds, sums)
	}
	if got := rs[0]; got.RatioToPlaintext != 1 || got.RatioP25 != 1 || got.RatioP75 != 1 || got.Rounds != rounds {
		t.Errorf("plaintext against itself: %+v", got)
	}
	if len(rs[1].RoundOpsPerSec) != rounds || !near(rs[1].RoundOpsPerSec[7], 1000) || !near(rs[1].RoundOpsPerSec[0], 9800) {
		t.Errorf("the rounds' throughput: %v", rs[1].RoundOpsPerSec)
	}

	rs = run(disturbed(10000, 2000), steady(9800))
	if sums := rs[1].OpsPerSec / rs[0].OpsPerSec; sums <= 1.02 {
		t.Errorf("a disturbed plaintext slice: the ratio of sums is %.3f, want it above 1.02", sums)
	}
	if got := rs[1].RatioToPlaintext; !near(got, 0.98) {
		t.Errorf("a disturbed plaintext slice: ratio %.3f, want 0.98", got)
	}

	// The matrix table reads the same medians, and pairs redsafe with
	// go-redis round by round too.
	rs[1].Stack = StackRedsafe
	goRedis := Result{Stack: StackGoRedis, Workload: "setget", Size: 1024, Callers: 1, RoundOpsPerSec: slices.Repeat([]float64{4900}, rounds)}
	rep := Report{Results: append(rs, goRedis)}
	pairWithPlaintext(rep.Results)
	ra := rep.Ratios()
	if len(ra) != 1 || !near(ra[0].Redsafe, 0.98) || !near(ra[0].GoRedis, 0.49) || !near(ra[0].OverGoRedis, 2) {
		t.Errorf("Ratios() = %+v, want redsafe 0.98, go-redis 0.49, redsafe over go-redis 2", ra)
	}
}
