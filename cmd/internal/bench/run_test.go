package bench

import (
	"slices"
	"strings"
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
			if got := cfg.stacksOf(lookupWorkload(wl)); !slices.Equal(got, want) {
				t.Errorf("--stacks %v, %s: %v, want %v", c.stacks, wl, got, want)
			}
		}
	}
	if err := CheckStacks([]string{StackSealed, "redsafe-xaes"}); err == nil || !strings.Contains(err.Error(), `unknown stack "redsafe-xaes"`) {
		t.Errorf("CheckStacks of an unknown name: %v", err)
	}
	if err := CheckStacks(StackNames()); err != nil {
		t.Errorf("CheckStacks(StackNames()): %v", err)
	}
}
