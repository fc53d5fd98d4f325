package bench

import (
	"math/bits"
	"time"
)

// histogram records latencies in logarithmic buckets, like HdrHistogram:
// each power of two is split into 32 linear sub-buckets, so a recorded
// value is known to within 1/32 (about 3%) at any scale, from nanoseconds
// to hours, in a fixed 15 KiB. Each caller owns one and records without
// locks or allocation; they are merged when a slice ends.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
}

const (
	subBits     = 5
	subCount    = 1 << subBits
	histBuckets = (64-subBits)*subCount + subCount
)

// bucket is the index of v's bucket.
func bucket(v uint64) int {
	if v < subCount {
		return int(v)
	}
	msb := bits.Len64(v) - 1
	shift := msb - subBits
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bounds are the smallest and largest value of bucket i.
func bounds(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	group, sub := i/subCount, i%subCount
	shift := group - 1
	m := uint64(sub + subCount)
	return m << shift, (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucket(uint64(v))]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0 < q <= 1): the middle of the
// bucket holding it, never more than the largest value recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	if rank == h.n {
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			lo, hi := bounds(i)
			return time.Duration(min(int64(lo+(hi-lo)/2), h.max))
		}
	}
	return time.Duration(h.max)
}
