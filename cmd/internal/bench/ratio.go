package bench

import "slices"

// The ratio of two stacks' throughput in a cell is the median, over the
// cell's rounds, of their paired per-round ratio: one stack's operations
// per second in round r over the other's in the same round r.
//
// Paired, because the slices of one round run back to back and so see
// the same state of the machine, while the rounds themselves may not (on
// a shared machine another process takes a core for a while). The
// median, because a disturbed slice then moves one round's ratio and not
// the result: the ratio of a cell's total operations over its total time
// carries such a slice in full, and a few of them moved a 1 KiB cell by
// ±0.1 from run to run although the codecs differ by 1 µs of a 67 µs
// round trip.

// Paired is the distribution of the per-round ratios of one stack's
// throughput over another's in one cell.
type Paired struct {
	Median, P25, P75 float64
	Rounds           int // the ratios: rounds in which the denominator did operations
}

// PairedRatio pairs num[r] with den[r], round by round, and summarises the
// ratios; a round in which den did no operation has no ratio. The zero
// Paired means no round had one.
func PairedRatio(num, den []float64) Paired {
	var rs []float64
	for r := range min(len(num), len(den)) {
		if den[r] > 0 {
			rs = append(rs, num[r]/den[r])
		}
	}
	if len(rs) == 0 {
		return Paired{}
	}
	slices.Sort(rs)
	return Paired{Median: quantile(rs, 0.5), P25: quantile(rs, 0.25), P75: quantile(rs, 0.75), Rounds: len(rs)}
}

// quantile of sorted xs, interpolated linearly between the two nearest
// ranks (Hyndman and Fan's type 7, R's and NumPy's default), so that the
// median of an even count is the mean of the middle two.
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	lo := int(pos)
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (pos-float64(lo))*(xs[lo+1]-xs[lo])
}

// pairWithPlaintext sets every result's ratio to the plaintext stack's,
// results[0], from their throughput round by round; plaintext's own is 1.
func pairWithPlaintext(results []Result) {
	if len(results) == 0 || results[0].Stack != StackPlaintext {
		return
	}
	base := results[0].RoundOpsPerSec
	for i := range results {
		p := PairedRatio(results[i].RoundOpsPerSec, base)
		results[i].RatioToPlaintext, results[i].RatioP25, results[i].RatioP75, results[i].Rounds = p.Median, p.P25, p.P75, p.Rounds
	}
}
