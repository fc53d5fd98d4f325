package bench

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSliceSchedule: fast operations get the usual 100 ms slices (at most
// 20, or the cap given); slow ones fewer, longer slices, each holding at
// least 20 median operations, and never fewer than one. A lifted cap
// gives a long duration more 100 ms slices, never shorter ones.
func TestSliceSchedule(t *testing.T) {
	for _, c := range []struct {
		total, p50 time.Duration
		maxSlices  int
		n          int
	}{
		{1500 * time.Millisecond, 60 * time.Microsecond, 0, 20},
		{5 * time.Second, 60 * time.Microsecond, 0, 20},
		{5 * time.Second, 60 * time.Microsecond, DefaultMaxSlices, 20},
		{1500 * time.Millisecond, 0, 0, 20},
		{1500 * time.Millisecond, 15 * time.Millisecond, 0, 5},
		{1500 * time.Millisecond, 150 * time.Millisecond, 0, 1},
		// The cap lifted: 8 s of fast operations in 800 slices of 10 ms,
		// however high the cap; below it, the cap holds.
		{8 * time.Second, 60 * time.Microsecond, 80, 80},
		{8 * time.Second, 60 * time.Microsecond, MaxSlices, 800},
		{8 * time.Second, 0, MaxSlices, 800},
		{8 * time.Second, 60 * time.Microsecond, 50, 50},
		// ... and slow ones still get at least 20 operations per caller
		// in a slice: 8 s at a 10 ms median is 40 slices of 200 ms.
		{8 * time.Second, 10 * time.Millisecond, MaxSlices, 40},
		{8 * time.Second, 2 * time.Second, MaxSlices, 1},
	} {
		n, d := sliceSchedule(c.total, c.p50, c.maxSlices)
		if n != c.n || d != c.total/time.Duration(c.n) {
			t.Errorf("sliceSchedule(%v, %v, %d) = %d slices of %v, want %d of %v", c.total, c.p50, c.maxSlices, n, d, c.n, c.total/time.Duration(c.n))
		}
		if c.p50 > 0 && n > 1 && d < 20*c.p50 {
			t.Errorf("sliceSchedule(%v, %v, %d): slices of %v hold fewer than 20 operations of %v", c.total, c.p50, c.maxSlices, d, c.p50)
		}
		if n > 1 && d < sliceLength {
			t.Errorf("sliceSchedule(%v, %v, %d): slices of %v, shorter than %v", c.total, c.p50, c.maxSlices, d, sliceLength)
		}
	}
	if MaxSlices != 60000 {
		t.Errorf("MaxSlices = %d; the CLI's help says at most 60000", MaxSlices)
	}
}

// TestStacksOf: --stacks narrows each workload to the stacks it has,
// plaintext first and always; no list means every stack, redsafe-sealed
// beside redsafe in every workload; an unknown name is refused.
func TestStacksOf(t *testing.T) {
	for _, c := range []struct {
		stacks []string
		want   map[string][]string
	}{
		{nil, map[string][]string{
			"setget": {StackPlaintext, StackRedsafe, StackSealed, StackGoRedis},
			"hotget": {StackPlaintext, StackRedsafe, StackSealed, StackLocalCache, StackGoRedis},
		}},
		{[]string{StackSealed}, map[string][]string{
			"setget": {StackPlaintext, StackSealed},
			"batch":  {StackPlaintext, StackSealed},
		}},
		{[]string{StackLocalCache, StackRedsafe}, map[string][]string{
			"get90":  {StackPlaintext, StackRedsafe},
			"hotget": {StackPlaintext, StackRedsafe, StackLocalCache},
		}},
	} {
		cfg := Config{Stacks: c.stacks}
		for wl, want := range c.want {
			if got := cfg.stacksOf(Cell{Workload: wl}); !slices.Equal(got, want) {
				t.Errorf("--stacks %v, %s: %v, want %v", c.stacks, wl, got, want)
			}
		}
	}
	// A cell's own stacks replace --stacks, in the workload's order.
	cfg := Config{Stacks: []string{StackGoRedis}}
	if got, want := cfg.stacksOf(Cell{Workload: "setget", Stacks: []string{StackSealed, StackRedsafe}}), []string{StackPlaintext, StackRedsafe, StackSealed}; !slices.Equal(got, want) {
		t.Errorf("a cell with its own stacks: %v, want %v", got, want)
	}
	if err := CheckStacks([]string{StackSealed, "redsafe-xaes"}); err == nil || !strings.Contains(err.Error(), `unknown stack "redsafe-xaes"`) {
		t.Errorf("CheckStacks of an unknown name: %v", err)
	}
	if err := CheckStacks(StackNames()); err != nil {
		t.Errorf("CheckStacks(StackNames()): %v", err)
	}
}
