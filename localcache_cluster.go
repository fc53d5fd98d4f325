package redsafe

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// DefaultTopologyCheck is LocalCacheOptions.TopologyCheck when it is not
// set.
const DefaultTopologyCheck = time.Second

// On a Redis Cluster the local cache is kept coherent by each node's
// tracking, which knows only the reads made on that node. When a slot
// changes hands without MIGRATE (a failover, a forced SETSLOT), the new
// owner was never asked for its keys and sends no invalidation for them,
// and Redis 7.0 sends none either for the keys the old owner drops. So the
// Cache reads the slot map (CLUSTER SLOTS) every TopologyCheck and drops
// every local copy when an owner has changed: a copy can be stale for at
// most that long after a move, where a move with MIGRATE invalidates at
// once.

// watchTopology runs until c.stop closes, flushing the local cache when
// the cluster's slot map changes. A read that fails changes nothing: the
// next one that succeeds compares with the last map read, so a change
// made while reads fail is still seen.
func (c *Cache) watchTopology(every time.Duration, last [32]byte) {
	defer close(c.watchDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		now, err := c.slotMap()
		if err != nil {
			c.log.LogAttrs(context.Background(), slog.LevelDebug, "redsafe: cannot read the cluster's slot map", slog.String("error", err.Error()))
			continue
		}
		if now != last {
			c.local.Flush()
			c.log.LogAttrs(context.Background(), slog.LevelInfo, "redsafe: the cluster's slot map changed; local cache flushed")
			last = now
		}
	}
}

// slotMap is a digest of which master (address and node id) serves each
// range of slots, as the node CLUSTER SLOTS reaches says.
func (c *Cache) slotMap() ([32]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cmdTimeout)
	defer cancel()
	ranges, err := c.client.Do(ctx, c.client.B().ClusterSlots().Build()).ToArray()
	if err != nil {
		return [32]byte{}, err
	}
	lines := make([]string, 0, len(ranges))
	for _, r := range ranges {
		f, err := r.ToArray()
		if err != nil || len(f) < 3 {
			return [32]byte{}, fmt.Errorf("CLUSTER SLOTS: a range that is not [start end master ...]")
		}
		start, err1 := f[0].AsInt64()
		end, err2 := f[1].AsInt64()
		master, err3 := f[2].ToArray()
		if err1 != nil || err2 != nil || err3 != nil || len(master) < 2 {
			return [32]byte{}, fmt.Errorf("CLUSTER SLOTS: a range that is not [start end master ...]")
		}
		var node []string
		for _, m := range master[:min(len(master), 3)] {
			s, err := m.ToString()
			if err != nil {
				if n, err := m.AsInt64(); err == nil {
					s = fmt.Sprint(n)
				}
			}
			node = append(node, s)
		}
		lines = append(lines, fmt.Sprintf("%d-%d %q", start, end, node))
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}
