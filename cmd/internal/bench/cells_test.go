package bench

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseCells: --cells reads what Cell.String writes, a cell's own
// stacks included, and refuses what would not run as asked: an unknown
// workload or stack, a stack the workload lacks, sizes and callers out of
// bounds, too much data, a cell twice, a malformed item.
func TestParseCells(t *testing.T) {
	want := []Cell{
		{Workload: "setget", Size: 1024, Callers: 1, Stacks: []string{StackRedsafe, StackSealed}},
		{Workload: "setget", Size: 262144, Callers: 16},
		{Workload: "hotget", Size: 1024, Callers: 256, Stacks: []string{StackLocalCache}},
	}
	var items []string
	for _, c := range want {
		items = append(items, c.String())
	}
	list := strings.Join(items, ",")
	if list != "setget:1024:1:redsafe/redsafe-sealed,setget:262144:16,hotget:1024:256:redsafe+localcache" {
		t.Errorf("Cell.String: %s", list)
	}
	got, err := ParseCells(list)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, func(a, b Cell) bool {
		return a.Workload == b.Workload && a.Size == b.Size && a.Callers == b.Callers && slices.Equal(a.Stacks, b.Stacks)
	}) {
		t.Errorf("ParseCells(%q) = %+v, want %+v", list, got, want)
	}
	for bad, msg := range map[string]string{
		"":                                    "give at least one cell",
		"setget:1024":                         `"setget:1024" is not WORKLOAD:SIZE:CALLERS`,
		"setget:1KiB:1":                       `size "1KiB" is not a number of bytes`,
		"setget:1024:x":                       `callers "x" is not a number`,
		"nope:1024:1":                         `unknown workload "nope"`,
		"setget:0:1":                          "size 0 is outside 1 to",
		"setget:1024:5000":                    "callers 5000 is outside 1 to 4096",
		"setget:16777216:16":                  "would keep 256 MiB of values per stack",
		"setget:1024:1:redsafe/nope":          `unknown stack "nope"`,
		"setget:1024:1:":                      `unknown stack ""`,
		"setget:1024:1:redsafe+localcache":    "workload setget has no stack redsafe+localcache",
		"setget:1024:1,setget:1024:1:redsafe": "setget:1024:1:redsafe: the cell appears twice",
	} {
		if _, err := ParseCells(bad); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseCells(%q): %v, want an error with %q", bad, err, msg)
		}
	}
	// Run checks cells given in a Config as ParseCells does.
	if _, err := (Config{Cells: []Cell{{Workload: "setget", Size: 100, Callers: 1, Stacks: []string{StackLocalCache}}}}).cells(); err == nil {
		t.Error("Config.cells accepted a stack its workload lacks")
	}
}

// TestCellsOfTheMatrix: without Cells, the cells are every workload at
// every size and number of callers, in that order, and Estimate counts
// the stacks of each; with Cells, just those, each with its own stacks.
func TestCellsOfTheMatrix(t *testing.T) {
	cfg := Config{Workloads: []string{"setget", "hotget"}, Sizes: []int{100, 1024}, Callers: []int{1, 16}, Stacks: []string{StackRedsafe}, Duration: DefaultDuration}
	cells, err := cfg.cells()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cells {
		got = append(got, c.String())
	}
	want := []string{"setget:100:1", "setget:100:16", "setget:1024:1", "setget:1024:16", "hotget:100:1", "hotget:100:16", "hotget:1024:1", "hotget:1024:16"}
	if !slices.Equal(got, want) {
		t.Errorf("cells = %v, want %v", got, want)
	}
	per := DefaultDuration + warmup(DefaultDuration) + 50*time.Millisecond
	if e := cfg.Estimate(); e != 8*2*per {
		t.Errorf("Estimate() = %v, want 16 stack-cells of %v", e, per)
	}
	cfg.Cells = []Cell{{Workload: "setget", Size: 1024, Callers: 256, Stacks: []string{StackRedsafe, StackSealed, StackGoRedis}}, {Workload: "hotget", Size: 1024, Callers: 1, Stacks: []string{StackLocalCache}}}
	if e := cfg.Estimate(); e != 6*per {
		t.Errorf("Estimate() of two cells = %v, want 6 stack-cells of %v", e, per)
	}
}

// TestRunCellsLiftedCap: against a real TLS redis-server, a cell with its
// own stacks runs just those beside plaintext, and a cap above 20 gives
// 2.2 s of fast operations as many rounds as it allows (100, of 22 ms); every result carries each round's throughput and the
// median and quartiles of its paired ratios to plaintext.
func TestRunCellsLiftedCap(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cell for 2.2 s per stack")
	}
	t.Parallel()
	results, err := Run(context.Background(), Config{
		Options:   benchServer(t),
		Cells:     []Cell{{Workload: "setget", Size: 100, Callers: 2, Stacks: []string{StackSealed}}},
		Stacks:    []string{StackGoRedis}, // replaced by the cell's own
		Duration:  2200 * time.Millisecond,
		MaxSlices: 100,
		Prefix:    "bench-test:",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Stack != StackPlaintext || results[1].Stack != StackSealed {
		t.Fatalf("stacks run: %+v", results)
	}
	for _, r := range results {
		switch {
		case r.Errors > 0:
			t.Errorf("%s: %d errors: %s", r.Stack, r.Errors, r.FirstError)
		case r.Slices != 100 || r.Rounds != 100 || len(r.RoundOpsPerSec) != 100:
			t.Errorf("%s: %d slices, %d rounds, %d round figures; want 100 of each", r.Stack, r.Slices, r.Rounds, len(r.RoundOpsPerSec))
		case !(0 < r.RatioP25 && r.RatioP25 <= r.RatioToPlaintext && r.RatioToPlaintext <= r.RatioP75):
			t.Errorf("%s: ratio %v outside its quartiles %v-%v", r.Stack, r.RatioToPlaintext, r.RatioP25, r.RatioP75)
		}
	}
	if p := results[0]; p.RatioToPlaintext != 1 || p.RatioP25 != 1 || p.RatioP75 != 1 {
		t.Errorf("plaintext against itself: %v (%v-%v)", p.RatioToPlaintext, p.RatioP25, p.RatioP75)
	}
	if got := PairedRatio(results[1].RoundOpsPerSec, results[0].RoundOpsPerSec); got.Median != results[1].RatioToPlaintext {
		t.Errorf("the JSON's rounds pair to %v, the result says %v", got.Median, results[1].RatioToPlaintext)
	}
}
