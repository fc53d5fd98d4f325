package keyrotate

import "github.com/redsafe/redsafe/cmd/internal/keyspace"

// Counts are the outcomes of a walk. Every key SCAN returns ends in
// exactly one of Rotated, Current, Undecryptable, SkippedTypes, Vanished
// or Contended, so they add up to Scanned. ChangedByWriters counts, among
// those, the keys whose value a writer replaced between the rotation's
// read and its write.
type Counts struct {
	// Scanned counts the keys SCAN returned. SCAN may return a key twice,
	// and the batch in progress when a run was killed is walked again on
	// resume; a second visit finds the key current.
	Scanned int64 `json:"scanned"`
	// Rotated values were re-sealed under the primary key (in a dry run or
	// a check: values that are still under a previous key).
	Rotated int64 `json:"rotated"`
	// Current values were already sealed with the primary key.
	Current int64 `json:"current"`
	// Undecryptable values open with no configured key. They are left
	// exactly as they are.
	Undecryptable int64 `json:"undecryptable"`
	// UnknownKey counts, among Undecryptable, the well-formed Fernet tokens
	// that no configured key authenticates: sealed with a key that is not
	// configured (or tampered with). The rest are not Fernet tokens at all.
	UnknownKey int64 `json:"undecryptable_unknown_key"`
	// SkippedTypes counts keys that do not hold a string, by type. They
	// are not touched.
	SkippedTypes keyspace.TypeCounts `json:"skipped_types"`
	// Vanished keys were deleted or expired between SCAN and the read.
	Vanished int64 `json:"vanished"`
	// Contended values changed under every attempt to rotate them; a
	// later run (or --check) picks them up.
	Contended int64 `json:"contended"`
	// ChangedByWriters counts keys whose value a writer replaced while
	// the rotation was about to: the writer's value was kept.
	ChangedByWriters int64 `json:"changed_by_writers"`
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Scanned += o.Scanned
	c.Rotated += o.Rotated
	c.Current += o.Current
	c.Undecryptable += o.Undecryptable
	c.UnknownKey += o.UnknownKey
	c.Vanished += o.Vanished
	c.Contended += o.Contended
	c.ChangedByWriters += o.ChangedByWriters
	c.SkippedTypes.Merge(o.SkippedTypes)
}
