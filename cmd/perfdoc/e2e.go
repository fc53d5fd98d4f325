package main

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/redsafe/redsafe/cmd/internal/bench"
)

// The end-to-end targets: each a ratio of two stacks' throughput in one
// cell. Their cells are measured a second time, after the matrix, longer
// and in more rounds, with only the stacks the targets compare (targetCells),
// and the targets read that pass: a ratio near its threshold needs more
// rounds than the matrix gives each of its cells.

// ratioGoal is num's throughput over den's in a cell, at least min. beside,
// when set, is another stack whose ratio over den in the same cell is
// written next to it, as besideLabel.
type ratioGoal struct {
	what, goal          string
	min                 float64
	workload            string
	size, callers       int
	num, den            string
	beside, besideLabel string
}

// fernetGoals are the library's targets with its default format.
var fernetGoals = []ratioGoal{
	{what: "end to end, 1 KiB SET+GET, 256 callers: redsafe over plaintext", goal: "≥ 0.90", min: 0.90,
		workload: "setget", size: 1024, callers: 256, num: bench.StackRedsafe, den: bench.StackPlaintext},
	{what: "end to end, 1 KiB SET+GET, 1 caller: redsafe over plaintext", goal: "≥ 0.95", min: 0.95,
		workload: "setget", size: 1024, callers: 1, num: bench.StackRedsafe, den: bench.StackPlaintext},
	{what: "end to end, 1 KiB SET+GET, 256 callers: redsafe over go-redis+fernet-go", goal: "≥ 1.5", min: 1.5,
		workload: "setget", size: 1024, callers: 256, num: bench.StackRedsafe, den: bench.StackGoRedis},
}

// localCacheGoals are the hit path of Options.LocalCache.
func localCacheGoals() []ratioGoal {
	var gs []ratioGoal
	for _, callers := range []int{1, 16, 256} {
		gs = append(gs, ratioGoal{what: fmt.Sprintf("local cache hit path, hot 1 KiB keys, %d callers: over plaintext GET", callers),
			goal: "≥ 10", min: 10, workload: "hotget", size: 1024, callers: callers, num: bench.StackLocalCache, den: bench.StackPlaintext})
	}
	return gs
}

func allRatioGoals() []ratioGoal {
	return slices.Concat(fernetGoals, localCacheGoals(), sealedGoals())
}

// targetCells are the cells of the goals, each with the stacks its goals
// compare or show beside them, in the order the goals come.
func targetCells(goals []ratioGoal) []bench.Cell {
	var cells []bench.Cell
	for _, g := range goals {
		i := slices.IndexFunc(cells, func(c bench.Cell) bool {
			return c.Workload == g.workload && c.Size == g.size && c.Callers == g.callers
		})
		if i < 0 {
			cells = append(cells, bench.Cell{Workload: g.workload, Size: g.size, Callers: g.callers})
			i = len(cells) - 1
		}
		for _, s := range []string{g.num, g.den, g.beside} {
			// plaintext runs in every cell anyway.
			if s != "" && s != bench.StackPlaintext && !slices.Contains(cells[i].Stacks, s) {
				cells[i].Stacks = append(cells[i].Stacks, s)
			}
		}
	}
	return cells
}

// cellRatio pairs one stack's throughput with another's, round by round,
// in a cell of the report; ok is false when the run did not measure both.
func cellRatio(r bench.Report, workload string, size, callers int, num, den string) (bench.Paired, bool) {
	var n, d []float64
	for _, res := range r.Results {
		if res.Workload != workload || res.Size != size || res.Callers != callers {
			continue
		}
		switch res.Stack {
		case num:
			n = res.RoundOpsPerSec
		case den:
			d = res.RoundOpsPerSec
		}
	}
	p := bench.PairedRatio(n, d)
	return p, p.Rounds > 0
}

// target judges the goal by the median of the paired per-round ratios,
// and writes the interquartile range and the number of rounds beside it:
// "0.98× (IQR 0.95–1.01, 80 rounds)".
func (g ratioGoal) target(r bench.Report) target {
	t := target{what: g.what, goal: g.goal}
	p, ok := cellRatio(r, g.workload, g.size, g.callers, g.num, g.den)
	if !ok {
		return t
	}
	// The quartiles too get a third decimal where two would put them on
	// the other side of the threshold: an IQR that straddles it says so.
	t.measured = fmt.Sprintf("%s× (IQR %s–%s, %d rounds", ratioNear(p.Median, g.min), ratioNear(p.P25, g.min), ratioNear(p.P75, g.min), p.Rounds)
	if g.beside != "" {
		if b, ok := cellRatio(r, g.workload, g.size, g.callers, g.beside, g.den); ok {
			t.measured += fmt.Sprintf("; %s %.2f×", g.besideLabel, b.Median)
		}
	}
	t.measured += ")"
	t.met = boolp(p.Median >= g.min)
	return t
}

func goalTargets(goals []ratioGoal, r bench.Report) []target {
	ts := make([]target, len(goals))
	for i, g := range goals {
		ts[i] = g.target(r)
	}
	return ts
}

// ratioNear writes v to two decimals, or three where two would round it
// onto the other side of the threshold min: 0.9663 against 0.97 is
// "0.966", not a "0.97" that is missed.
func ratioNear(v, min float64) string {
	s := fmt.Sprintf("%.2f", v)
	if rounded, _ := strconv.ParseFloat(s, 64); (rounded >= min) != (v >= min) {
		s = fmt.Sprintf("%.3f", v)
	}
	return s
}
