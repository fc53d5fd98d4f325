package redsafe

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/redis/rueidis"
)

// DefaultTopologyCheck is LocalCacheOptions.TopologyCheck when it is not
// set.
const DefaultTopologyCheck = time.Second

// maxTopologyNodes bounds the nodes asked for their slot map each check.
const maxTopologyNodes = 64

// On a Redis Cluster the local cache is kept coherent by each node's
// tracking, which knows only the reads made on that node. When a slot
// changes hands without MIGRATE (a failover, a forced SETSLOT), the new
// owner was never asked for its keys and sends no invalidation for them,
// and Redis 7.0 sends none either for the keys the old owner drops. So the
// Cache asks every node it is connected to for its slot map (CLUSTER
// SLOTS) every TopologyCheck and drops every local copy when any node's
// map has changed since that node last answered. Each node is asked, not
// one: nodes learn of a move at different moments, and a node that still
// serves a moved slot when another already reports the move can hand out
// a value that its own change of map, at the next check, must flush too.

// watchTopology runs until ctx ends (Close), flushing the local cache when
// a node's slot map changes. A node that does not answer keeps the map it
// last gave: its change is seen when it answers again.
func (c *Cache) watchTopology(ctx context.Context, every time.Duration) {
	defer close(c.watchDone)
	views := map[string][32]byte{}
	next := 0
	c.readViews(ctx, views, &next)
	// A slot that moved between Open and that first pass is in the maps
	// just read: what was cached before them goes.
	c.local.Flush()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.readViews(ctx, views, &next) {
			c.local.Flush()
			c.log.LogAttrs(ctx, slog.LevelInfo, "redsafe: the cluster's slot map changed; local cache flushed")
		}
	}
}

// readViews asks each node for its slot map (up to maxTopologyNodes a
// pass, by address from *next on, so that every node of a larger cluster
// is asked in turn), records it in views, and reports whether any differs
// from what that node said before, or comes from a node not seen before
// with a map no other node gave. Nodes rueidis no longer knows are
// forgotten.
func (c *Cache) readViews(ctx context.Context, views map[string][32]byte, next *int) (changed bool) {
	nodes := c.client.Nodes()
	addrs := make([]string, 0, len(nodes))
	for a := range nodes {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for a := range views {
		if _, ok := nodes[a]; !ok {
			delete(views, a)
		}
	}
	batch := addrs
	if len(addrs) > maxTopologyNodes {
		*next %= len(addrs)
		batch = append(addrs[*next:], addrs[:*next]...)[:maxTopologyNodes]
		*next += maxTopologyNodes
	}
	for _, a := range batch {
		d, err := c.slotMap(ctx, nodes[a])
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "redsafe: cannot read a node's slot map", slog.String("addr", a), slog.String("error", err.Error()))
			continue
		}
		old, ok := views[a]
		switch {
		case ok && old != d:
			changed = true
		case !ok && len(views) > 0 && !slices.Contains(slices.Collect(maps.Values(views)), d):
			// A node not asked before (rueidis found it) with a map no
			// other node gave.
			changed = true
		}
		views[a] = d
	}
	return changed
}

// slotMap is a digest of which master (by node id) serves each range of
// slots, as the node n says. Addresses are left out: a node learns its
// own address from its peers some time after it joins, which moves no
// slot, and a node that does move is dialed again, which flushes anyway.
func (c *Cache) slotMap(ctx context.Context, n rueidis.Client) ([32]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cmdTimeout)
	defer cancel()
	ranges, err := n.Do(ctx, n.B().ClusterSlots().Build()).ToArray()
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
			return [32]byte{}, fmt.Errorf("CLUSTER SLOTS: a range that is not [start end [host port id] ...]")
		}
		// The node id; a reply without one names the master by address.
		who := ""
		if len(master) > 2 {
			who, _ = master[2].ToString()
		}
		if who == "" {
			host, _ := master[0].ToString()
			port, _ := master[1].AsInt64()
			who = fmt.Sprintf("%s:%d", host, port)
		}
		lines = append(lines, fmt.Sprintf("%d-%d %q", start, end, who))
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
