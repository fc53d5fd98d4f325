package bench

import (
	"testing"
	"time"
)

// TestSliceSchedule: fast operations get the usual 100 ms slices (at most
// 20); slow ones fewer, longer slices, each holding at least 20 median
// operations, and never fewer than one.
func TestSliceSchedule(t *testing.T) {
	for _, c := range []struct {
		total, p50 time.Duration
		n          int
	}{
		{1500 * time.Millisecond, 60 * time.Microsecond, 15},
		{5 * time.Second, 60 * time.Microsecond, 20},
		{1500 * time.Millisecond, 0, 15},
		{1500 * time.Millisecond, 15 * time.Millisecond, 5},
		{1500 * time.Millisecond, 150 * time.Millisecond, 1},
	} {
		n, d := sliceSchedule(c.total, c.p50)
		if n != c.n || d != c.total/time.Duration(c.n) {
			t.Errorf("sliceSchedule(%v, %v) = %d slices of %v, want %d of %v", c.total, c.p50, n, d, c.n, c.total/time.Duration(c.n))
		}
	}
}
