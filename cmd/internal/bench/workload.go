package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"
)

// workload is what each caller does, over and over.
type workload struct {
	name, about string
	stacks      []string
	// step does a caller's next operation; n is the number of operations
	// it counts for (the items of a batch).
	step func(ctx context.Context, st stack, c *caller) (n uint64, err error)
	// populate: the keys are written before the cell, for workloads that
	// read before they write.
	populate bool
	hot      bool // the callers share hotKeys keys instead of their own
	batch    bool
}

const (
	maxKeysPerCaller = 64
	maxBatch         = 16
	hotKeys          = 8
)

var allStacks = []string{StackPlaintext, StackRedsafe, StackSealed, StackGoRedis}

var workloads = []*workload{
	{
		name:   "setget",
		about:  "SET then GET of the same key, in turn (each counts as an operation)",
		stacks: allStacks,
		step: func(ctx context.Context, st stack, c *caller) (uint64, error) {
			k := c.keys[c.n/2%uint64(len(c.keys))]
			if c.n%2 == 0 {
				return 1, st.set(ctx, k, c.value)
			}
			return 1, c.check(st.get(ctx, k))
		},
	},
	{
		name:     "get90",
		about:    "9 GETs to 1 SET over each caller's own keys",
		stacks:   allStacks,
		populate: true,
		step: func(ctx context.Context, st stack, c *caller) (uint64, error) {
			k := c.keys[c.n%uint64(len(c.keys))]
			if c.n%10 == 9 {
				return 1, st.set(ctx, k, c.value)
			}
			return 1, c.check(st.get(ctx, k))
		},
	},
	{
		name:   "batch",
		about:  "SetMany then GetMany of up to 16 keys (each key counts as an operation; latency is per call)",
		stacks: allStacks,
		batch:  true,
		step: func(ctx context.Context, st stack, c *caller) (uint64, error) {
			if c.n%2 == 0 {
				return uint64(len(c.keys)), st.setMany(ctx, c.keys, c.value)
			}
			n, err := st.getMany(ctx, c.keys)
			if err == nil && n != len(c.keys) {
				err = fmt.Errorf("GetMany returned %d of %d values", n, len(c.keys))
			}
			return uint64(len(c.keys)), err
		},
	},
	{
		name:     "hotget",
		about:    "GETs of 8 hot keys shared by every caller: the hit path of the local cache",
		stacks:   []string{StackPlaintext, StackRedsafe, StackSealed, StackLocalCache, StackGoRedis},
		populate: true,
		hot:      true,
		step: func(ctx context.Context, st stack, c *caller) (uint64, error) {
			return 1, c.check(st.get(ctx, c.keys[c.n%uint64(len(c.keys))]))
		},
	},
}

// WorkloadNames lists the workloads in their order.
func WorkloadNames() []string {
	var out []string
	for _, w := range workloads {
		out = append(out, w.name)
	}
	return out
}

// WorkloadAbout describes a workload for the table and the doc.
func WorkloadAbout(name string) string {
	if w := lookupWorkload(name); w != nil {
		return w.about
	}
	return ""
}

func lookupWorkload(name string) *workload {
	for _, w := range workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

// plan is how many keys each caller uses in a cell: enough to spread the
// load, few enough that a stack's values stay within dataBudget.
func (w *workload) plan(size, callers int) int {
	switch {
	case w.hot:
		return hotKeys
	case w.batch:
		return min(max(dataBudget/(size*callers), 1), maxBatch)
	}
	return min(max(dataBudget/(size*callers), 1), maxKeysPerCaller)
}

// callers makes the callers of one stack in a cell, each with its own
// random value of the cell's size and its keys.
func (r *runner) callers(st stack, w *workload, nkeys, size, callers int) []*caller {
	cs := make([]*caller, callers)
	for i := range cs {
		c := &caller{value: make([]byte, size), size: size}
		rand.Read(c.value)
		for j := range nkeys {
			if w.hot {
				c.keys = append(c.keys, fmt.Sprintf("%s%s:%s:hot:%d", r.cfg.Prefix, r.runID, shortName(st.name()), j))
			} else {
				c.keys = append(c.keys, fmt.Sprintf("%s%s:%s:%d:%d", r.cfg.Prefix, r.runID, shortName(st.name()), i, j))
			}
		}
		cs[i] = c
	}
	return cs
}

func shortName(stack string) string {
	switch stack {
	case StackPlaintext:
		return "p"
	case StackRedsafe:
		return "r"
	case StackSealed:
		return "s"
	case StackLocalCache:
		return "l"
	}
	return "g"
}

// prepare writes the keys of workloads that read first.
func (w *workload) prepare(ctx context.Context, st stack, cs []*caller, nkeys int) error {
	if !w.populate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if w.hot {
		return st.setMany(ctx, cs[0].keys, cs[0].value)
	}
	for _, c := range cs {
		for chunk := range slices.Chunk(c.keys, maxBatch) {
			if err := st.setMany(ctx, chunk, c.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// caller is one concurrent user of a stack. Only its own goroutine
// touches it while a slice runs.
type caller struct {
	keys     []string
	value    []byte
	size     int
	n        uint64 // steps taken, for the workload's pattern
	hist     histogram
	ops      uint64
	errs     uint64
	firstErr error
}

var errWrongValue = errors.New("a read returned a value of the wrong size")

// check turns a read's result into an error if it is not a whole value.
func (c *caller) check(n int, err error) error {
	if err == nil && n != c.size {
		return fmt.Errorf("%w: %d bytes, want %d", errWrongValue, n, c.size)
	}
	return err
}

func (c *caller) run(ctx context.Context, st stack, w *workload, deadline time.Time) {
	for {
		t0 := time.Now()
		if !t0.Before(deadline) || ctx.Err() != nil {
			return
		}
		n, err := w.step(ctx, st, c)
		c.hist.record(time.Since(t0))
		c.n++
		if err != nil {
			c.errs++
			if c.firstErr == nil {
				c.firstErr = err
			}
			continue
		}
		c.ops += n
	}
}

// reset forgets the warm-up.
func (c *caller) reset() {
	c.hist = histogram{}
	c.ops, c.errs, c.firstErr = 0, 0, nil
}
