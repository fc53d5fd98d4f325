package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Cell is one workload at one value size and number of callers. Stacks,
// when given, are the stacks it measures instead of Config.Stacks; the
// plaintext baseline always runs.
type Cell struct {
	Workload      string
	Size, Callers int
	Stacks        []string
}

// String is the cell as --cells takes it: WORKLOAD:SIZE:CALLERS, then
// :STACK/STACK... when it has stacks of its own.
func (c Cell) String() string {
	s := fmt.Sprintf("%s:%d:%d", c.Workload, c.Size, c.Callers)
	if len(c.Stacks) > 0 {
		s += ":" + strings.Join(c.Stacks, "/")
	}
	return s
}

// ParseCells reads a comma-separated list of cells as Cell.String writes
// them, SIZE in bytes, and checks each (Cell.check).
func ParseCells(list string) ([]Cell, error) {
	var cells []Cell
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		f := strings.Split(item, ":")
		if len(f) != 3 && len(f) != 4 {
			return nil, fmt.Errorf("%q is not WORKLOAD:SIZE:CALLERS[:STACK/STACK...]", item)
		}
		c := Cell{Workload: f[0]}
		var err error
		if c.Size, err = strconv.Atoi(f[1]); err != nil {
			return nil, fmt.Errorf("%s: size %q is not a number of bytes", item, f[1])
		}
		if c.Callers, err = strconv.Atoi(f[2]); err != nil {
			return nil, fmt.Errorf("%s: callers %q is not a number", item, f[2])
		}
		if len(f) == 4 {
			c.Stacks = strings.Split(f[3], "/")
		}
		cells = append(cells, c)
	}
	if len(cells) == 0 {
		return nil, fmt.Errorf("give at least one cell")
	}
	return cells, checkCells(cells)
}

// checkCells checks every cell and refuses one that appears twice: the
// results of a cell are told apart by workload, size and callers alone.
func checkCells(cells []Cell) error {
	for i, c := range cells {
		if err := c.check(); err != nil {
			return err
		}
		if slices.ContainsFunc(cells[:i], func(d Cell) bool {
			return d.Workload == c.Workload && d.Size == c.Size && d.Callers == c.Callers
		}) {
			return fmt.Errorf("%s: the cell appears twice", c)
		}
	}
	return nil
}

// check refuses an unknown workload, sizes and callers outside the
// limits, and a stack that is unknown or that the workload does not have:
// a cell names its stacks precisely, unlike --stacks, which applies to the
// workloads that have them.
func (c Cell) check() error {
	w := lookupWorkload(c.Workload)
	switch {
	case w == nil:
		return fmt.Errorf("%s: unknown workload %q; choose from %s", c, c.Workload, strings.Join(WorkloadNames(), ", "))
	case c.Size < 1 || c.Size > MaxSize:
		return fmt.Errorf("%s: size %d is outside 1 to %d", c, c.Size, MaxSize)
	case c.Callers < 1 || c.Callers > MaxCallers:
		return fmt.Errorf("%s: callers %d is outside 1 to %d", c, c.Callers, MaxCallers)
	}
	if err := CheckCellBytes(c.Size, c.Callers); err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	if err := CheckStacks(c.Stacks); err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	for _, s := range c.Stacks {
		if !slices.Contains(w.stacks, s) {
			return fmt.Errorf("%s: workload %s has no stack %s; it has %s", c, c.Workload, s, strings.Join(w.stacks, ", "))
		}
	}
	return nil
}

// CheckCellBytes refuses size x callers above MaxCellBytes.
func CheckCellBytes(size, callers int) error {
	if int64(size)*int64(callers) > MaxCellBytes {
		return fmt.Errorf("would keep %s of values per stack in Redis and in memory (at most %s); use fewer callers or smaller values",
			SizeName(size*callers), SizeName(MaxCellBytes))
	}
	return nil
}
