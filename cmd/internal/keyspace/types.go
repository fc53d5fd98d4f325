package keyspace

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/redsafe/redsafe/cmd/internal/progress"
)

// TypeCounts counts keys by Redis type: "hash", "list", "set", "zset",
// "stream" or a module's type name.
type TypeCounts map[string]int64

// Add adds n keys of type typ to *c, making the map when needed.
func (c *TypeCounts) Add(typ string, n int64) {
	if *c == nil {
		*c = TypeCounts{}
	}
	(*c)[typ] += n
}

// Merge adds o to *c.
func (c *TypeCounts) Merge(o TypeCounts) {
	for t, n := range o {
		c.Add(t, n)
	}
}

// MarshalJSON writes an empty object, not null, when there are none.
func (c TypeCounts) MarshalJSON() ([]byte, error) {
	if c == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]int64(c))
}

// Total is the number of keys of all types.
func (c TypeCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// String lists the types, most first: "hash 3, list 1".
func (c TypeCounts) String() string {
	types := slices.Sorted(maps.Keys(c))
	slices.SortStableFunc(types, func(a, b string) int { return cmp.Compare(c[b], c[a]) })
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + " " + progress.Thousands(c[t])
	}
	return strings.Join(parts, ", ")
}
